/**
 * The blast radius of a prepared plan: time at the providers' limits, cost, UCS-2
 * culprits (core/blast-radius.ts) and what earlier runs make unusual (core/run-history.ts).
 * Shared by sends, dry runs and `notify check`.
 */
import { CHANNEL_LIST } from '../channels/index.js';
import { estimate, type BlastRadius } from '../core/blast-radius.js';
import type { ChannelLimits } from '../core/dispatch.js';
import { parseDuration } from '../core/duration.js';
import { previousLiveRun, unusual } from '../core/run-history.js';
import type { ChannelName } from '../core/types.js';
import { UserError } from '../errors.js';
import { livePrices, loadPrices } from '../prices.js';
import type { BlastTally } from '../core/blast-radius.js';
import type { Channel } from '../core/channel.js';
import type { Prepared } from './prepare.js';

export interface BlastFlags {
  prices?: string;
  livePrices?: boolean;
  maxDuration?: string;
}

const DEFAULT_MAX_DURATION_MS = 15 * 60_000;

export function maxDurationMs(flag: string | undefined): number {
  if (flag === undefined) return DEFAULT_MAX_DURATION_MS;
  const ms = parseDuration(flag);
  if (ms === undefined || ms <= 0) throw new UserError(`--max-duration ${flag} is not a duration; write it like 15m, 90s or 1h.`);
  return ms;
}

export async function blastRadius(prepared: Prepared, limits: Record<ChannelName, ChannelLimits>, flags: BlastFlags): Promise<BlastRadius> {
  const { plan, contacts, scenario } = prepared;
  const prices = flags.livePrices ? await livePrices(countriesByChannel(plan.tally), prepared.config) : loadPrices(flags.prices);
  const radius = estimate({
    messages: new Map([...plan.channels].map(([channel, summary]) => [channel, summary.messages])),
    channels: CHANNEL_LIST, limits, tally: plan.tally, prices, maxDurationMs: maxDurationMs(flags.maxDuration),
  });
  radius.warnings.push(...unusual(plan, contacts.groupSizes, scenario.groups, previousLiveRun(scenario.name)));
  return radius;
}

/** The destination countries of each billed channel in the plan: what live prices must cover. */
function countriesByChannel(tally: BlastTally): Map<Channel, string[]> {
  const needed = new Map<Channel, string[]>();
  for (const { channel, country } of tally.billedUnits()) {
    const declared = CHANNEL_LIST.find((c) => c.name === channel);
    if (!declared || country === 'unknown') continue;
    needed.set(declared, [...(needed.get(declared) ?? []), country]);
  }
  return needed;
}
