/**
 * The blast radius of a plan, the way a crisis lead thinks about it before pressing the
 * button: how long it will take at the providers' limits, what it will cost, which
 * template character pushes SMS into UCS-2 or a second segment, and anything unusual.
 * Pure: the plan feeds deliveries in, the caller supplies limits, prices and history.
 */
import type { Channel, ChannelName } from './channel.js';
import type { ChannelLimits } from './dispatch.js';
import { countryOf } from './phone.js';
import type { Delivery } from './plan.js';
import { gsmEquivalent, smsLength } from './sms-encoding.js';
import type { Problem } from './types.js';

/** Per unit (SMS segment, call minute) by destination country, per channel; `default` for the rest. */
export interface Prices {
  currency: string;
  /** Where the prices come from, for the preview ("prices.yaml", "Twilio Pricing API"). */
  source: string;
  perUnit: Record<ChannelName, Record<string, number>>;
}

/** Sends whose time no limit bounds (no rate): assumed this long each, per connection in flight. */
const ASSUMED_SEND_MS = 250;

interface Billed {
  channel: ChannelName;
  country: string;
  messages: number;
  units: number;
}

interface Ucs2Culprit {
  template: string;
  char: string;
  word: string;
  messages: number;
  segments: number;
  /** Segments the same messages would take without the character (accents dropped). */
  gsmSegments: number;
  extraByCountry: Map<string, number>;
}

/** Collects, delivery by delivery, what the estimate needs; keeps counts, not deliveries. */
export class BlastTally {
  private readonly billed = new Map<string, Billed>();
  private readonly culprits = new Map<string, Ucs2Culprit>();
  private readonly byName: Map<ChannelName, Channel>;

  constructor(channels: readonly Channel[]) {
    this.byName = new Map(channels.map((c) => [c.name, c]));
  }

  add(delivery: Delivery): void {
    const billing = this.byName.get(delivery.channel)?.billing;
    if (!billing) return;
    const country = countryOf(delivery.message.to) ?? 'unknown';
    // The plan measured each SMS already (delivery.sms): no second count per message on the hot path.
    const units = delivery.sms?.segments ?? billing.units(delivery.message);
    const key = `${delivery.channel}\0${country}`;
    const billed = this.billed.get(key) ?? { channel: delivery.channel, country, messages: 0, units: 0 };
    billed.messages += 1;
    billed.units += units;
    this.billed.set(key, billed);
    if (delivery.sms?.encoding === 'UCS-2') this.addCulprit(delivery, country);
  }

  private addCulprit(delivery: Delivery, country: string): void {
    const text = delivery.message.text;
    const gsm = smsLength(gsmEquivalent(text)).segments;
    let culprit = this.culprits.get(delivery.template);
    if (!culprit) {
      const char = delivery.sms!.nonGsmChar ?? '';
      const word = wordAround(text, char);
      culprit = { template: delivery.template, char, word, messages: 0, segments: 0, gsmSegments: 0, extraByCountry: new Map() };
      this.culprits.set(delivery.template, culprit);
    }
    culprit.messages += 1;
    culprit.segments += delivery.sms!.segments;
    culprit.gsmSegments += gsm;
    culprit.extraByCountry.set(country, (culprit.extraByCountry.get(country) ?? 0) + delivery.sms!.segments - gsm);
  }

  billedUnits(): Billed[] {
    return [...this.billed.values()];
  }

  ucs2(): Ucs2Culprit[] {
    return [...this.culprits.values()];
  }
}

/** The word holding the character, or, when it stands alone ("—"), the words on either side. */
function wordAround(text: string, char: string): string {
  const word = text.split(/\s+/).find((w) => w.includes(char)) ?? char;
  if (word !== char) return word;
  const at = text.indexOf(char);
  return text.slice(text.lastIndexOf(' ', Math.max(0, at - 2)) + 1, text.indexOf(' ', at + char.length + 1) >>> 0).trim();
}

export interface ChannelEta {
  channel: ChannelName;
  messages: number;
  perSecond?: number;
  concurrency: number;
  seconds: number;
}

export interface BlastRadius {
  eta: { seconds: number; slowest?: ChannelName; channels: ChannelEta[] };
  cost?: {
    currency: string;
    source: string;
    total: number;
    byChannel: Record<ChannelName, number>;
    /** Largest first. */
    countries: { country: string; channel: ChannelName; messages: number; units: number; amount: number }[];
    /** Countries with no price, not counted in the total. */
    unpriced: string[];
  };
  ucs2: { template: string; char: string; word: string; people: number; segments: number; gsmSegments: number; extra?: number }[];
  /** Worth a second look before sending; they block nothing. */
  warnings: Problem[];
}

export interface EstimateInput {
  /** Messages per channel, from the plan. */
  messages: Map<ChannelName, number>;
  channels: readonly Channel[];
  limits: Record<ChannelName, ChannelLimits>;
  tally: BlastTally;
  prices?: Prices;
  /** Past this, say how to go faster. */
  maxDurationMs: number;
}

export function estimate(input: EstimateInput): BlastRadius {
  const channels = [...input.messages].map(([channel, messages]) => channelEta(channel, messages, input));
  const slowest = channels.reduce<ChannelEta | undefined>((a, c) => (!a || c.seconds > a.seconds ? c : a), undefined);
  const radius: BlastRadius = {
    eta: { seconds: slowest?.seconds ?? 0, ...(slowest && { slowest: slowest.channel }), channels },
    ucs2: [],
    warnings: [],
  };
  const price = (channel: ChannelName, country: string) => input.prices?.perUnit[channel]?.[country] ?? input.prices?.perUnit[channel]?.default;
  if (input.prices) {
    const countries = input.tally.billedUnits().map((b) => ({ ...b, amount: b.units * (price(b.channel, b.country) ?? 0) }));
    const byChannel: Record<ChannelName, number> = {};
    for (const c of countries) byChannel[c.channel] = (byChannel[c.channel] ?? 0) + c.amount;
    radius.cost = {
      currency: input.prices.currency,
      source: input.prices.source,
      total: round(countries.reduce((n, c) => n + c.amount, 0)),
      byChannel: Object.fromEntries(Object.entries(byChannel).map(([k, v]) => [k, round(v)])),
      countries: countries.sort((a, b) => b.amount - a.amount).map((c) => ({ ...c, amount: round(c.amount) })),
      unpriced: [...new Set(countries.filter((c) => price(c.channel, c.country) === undefined).map((c) => `${c.channel} ${c.country}`))],
    };
  }
  radius.ucs2 = input.tally.ucs2().map((c) => {
    const extra = input.prices ? [...c.extraByCountry].reduce((n, [country, segments]) => n + segments * (price('sms', country) ?? 0), 0) : undefined;
    return {
      template: c.template, char: c.char, word: c.word, people: c.messages, segments: c.segments, gsmSegments: c.gsmSegments,
      ...(extra !== undefined && { extra: round(extra) }),
    };
  });
  if (slowest && slowest.seconds * 1000 > input.maxDurationMs) {
    radius.warnings.push({
      where: '--max-duration',
      message: `at the providers' limits this run takes about ${duration(slowest.seconds)} (${slowest.channel} is the slowest), over ${duration(input.maxDurationMs / 1000)}; to go faster send SMS through a Twilio messaging service and raise --rate ${slowest.channel}=…, use --strategy first, or send on fewer channels.`,
      group: 'blast radius',
    });
  }
  return radius;
}

function channelEta(channel: ChannelName, messages: number, input: EstimateInput): ChannelEta {
  const limits = input.limits[channel] ?? { concurrency: 1 };
  const typicalMs = input.channels.find((c) => c.name === channel)?.defaults.typicalSendMs ?? ASSUMED_SEND_MS;
  const byConcurrency = (Math.max(1, limits.concurrency) * 1000) / typicalMs;
  const perSecond = Math.min(limits.perSecond ?? Infinity, byConcurrency);
  // The last message starts (n - 1) paces after the first, then takes its own time (a call rings and speaks).
  const seconds = messages === 0 ? 0 : (messages - 1) / perSecond + typicalMs / 1000;
  return { channel, messages, ...(limits.perSecond && { perSecond: limits.perSecond }), concurrency: limits.concurrency, seconds };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** 42 s, 33 min, 2 h 05 min. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
