/**
 * Delivery tuning flags shared by sends and resumes: per-channel rate and concurrency,
 * attempts and the per-attempt time limit. Defaults come from the providers' documented
 * limits (provider-notes.md): raise them for a Twilio messaging service or a short code.
 */
import { CHANNEL_LIST, CHANNEL_NAMES } from '../channels/index.js';
import type { ChannelLimits } from '../core/dispatch.js';
import type { RunTuning } from '../core/journal.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../core/retry.js';
import type { ChannelName } from '../core/types.js';
import { UserError } from '../errors.js';

/** Each channel's own defaults (its file says why: the provider's documented limits). */
export const DEFAULT_LIMITS: Record<ChannelName, ChannelLimits> = Object.fromEntries(CHANNEL_LIST.map((c) => [c.name, { ...c.defaults }]));

/** "sms=1 slack=1 telegram=30", for help text. */
export const describeDefaults = (key: 'perSecond' | 'concurrency') =>
  CHANNEL_LIST.filter((c) => c.defaults[key] !== undefined).map((c) => `${c.name}=${c.defaults[key]}`).join(' ');

export type TuningFlags = RunTuning;

/** The pace flags given, to keep in the run record (undefined: none, the defaults). */
export function givenTuning(flags: TuningFlags): RunTuning | undefined {
  const given: RunTuning = {
    ...(flags.rate && { rate: flags.rate }), ...(flags.concurrency && { concurrency: flags.concurrency }),
    ...(flags.maxAttempts !== undefined && { maxAttempts: flags.maxAttempts }), ...(flags.attemptTimeout !== undefined && { attemptTimeout: flags.attemptTimeout }),
  };
  return Object.keys(given).length > 0 ? given : undefined;
}

/** The flags as they would be typed: `--rate sms=5 --max-attempts 3`. */
export function describeTuning(tuning: RunTuning): string {
  return [
    ...(tuning.rate ?? []).map((r) => `--rate ${r}`), ...(tuning.concurrency ?? []).map((c) => `--concurrency ${c}`),
    ...(tuning.maxAttempts !== undefined ? [`--max-attempts ${tuning.maxAttempts}`] : []),
    ...(tuning.attemptTimeout !== undefined ? [`--attempt-timeout ${tuning.attemptTimeout}`] : []),
  ].join(' ');
}

/**
 * A resume's pace: the run's own flags, then the resume's (a channel named again, or
 * `all=`, takes the later value). A lead who slowed SMS for a carrier's limit, or sped it
 * up for a messaging service, must not have the rest go at the defaults after a crash.
 */
export function resumeTuning(run: RunTuning | undefined, flags: TuningFlags): TuningFlags {
  return {
    rate: [...(run?.rate ?? []), ...(flags.rate ?? [])],
    concurrency: [...(run?.concurrency ?? []), ...(flags.concurrency ?? [])],
    ...((flags.maxAttempts ?? run?.maxAttempts) !== undefined && { maxAttempts: flags.maxAttempts ?? run?.maxAttempts }),
    ...((flags.attemptTimeout ?? run?.attemptTimeout) !== undefined && { attemptTimeout: flags.attemptTimeout ?? run?.attemptTimeout }),
  };
}

export function parseTuning(flags: TuningFlags): { limits: Record<ChannelName, ChannelLimits>; retry: RetryPolicy } {
  const limits = structuredClone(DEFAULT_LIMITS);
  for (const [channel, value] of pairs('--rate', flags.rate)) {
    if (value === 'off') delete limits[channel]!.perSecond;
    else limits[channel]!.perSecond = positive('--rate', `${channel}=${value}`, value);
  }
  for (const [channel, value] of pairs('--concurrency', flags.concurrency)) {
    limits[channel]!.concurrency = Math.round(positive('--concurrency', `${channel}=${value}`, value));
  }
  const retry = { ...DEFAULT_RETRY };
  if (flags.maxAttempts !== undefined) {
    retry.maxAttempts = positive('--max-attempts', flags.maxAttempts, flags.maxAttempts);
    if (!Number.isInteger(retry.maxAttempts)) throw new UserError(`--max-attempts ${flags.maxAttempts}: attempts are counted in whole numbers; write e.g. --max-attempts 4.`);
  }
  if (flags.attemptTimeout !== undefined) {
    retry.attemptTimeoutMs = positive('--attempt-timeout', flags.attemptTimeout, flags.attemptTimeout) * 1000;
    for (const channel of Object.values(limits)) delete channel.attemptTimeoutMs; // said explicitly: it applies to every channel
  }
  return { limits, retry };
}

/** `sms=5,email=off` (also repeatable) → [channel, value] pairs; `all=off` applies to every channel. */
function pairs(flag: string, values: string[] = []): [ChannelName, string][] {
  const out: [ChannelName, string][] = [];
  for (const item of values.flatMap((v) => v.split(','))) {
    const [name, value] = item.split('=').map((s) => s.trim());
    const channels = name === 'all' ? [...CHANNEL_NAMES] : [name ?? ''];
    if (!value || !channels.every((c) => CHANNEL_NAMES.includes(c))) {
      throw new UserError(`${flag} ${item} must be written channel=value with channel one of ${CHANNEL_NAMES.join(', ')} or all, e.g. ${flag} sms=5.`);
    }
    for (const c of channels) out.push([c, value]);
  }
  return out;
}

function positive(flag: string, shown: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${flag} ${shown}: "${value}" must be a positive number.`);
  return n;
}
