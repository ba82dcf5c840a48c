/**
 * The blast radius of a prepared plan: time at the providers' limits, cost, UCS-2
 * culprits (core/blast-radius.ts) and what earlier runs make unusual (core/run-history.ts).
 * Shared by sends, dry runs and `notify check`.
 */
import { CHANNEL_LIST } from '../channels/index.js';
import { estimate, type BlastRadius } from '../core/blast-radius.js';
import type { ChannelLimits } from '../core/dispatch.js';
import { parseDuration } from '../core/duration.js';
import { groupSizes, previousLiveRun, unusual } from '../core/run-history.js';
import type { ChannelName } from '../core/types.js';
import { UserError } from '../errors.js';
import { loadPrices } from '../prices.js';
import type { Prepared } from './prepare.js';

export interface BlastFlags {
  prices?: string;
  maxDuration?: string;
}

const DEFAULT_MAX_DURATION_MS = 15 * 60_000;

export function maxDurationMs(flag: string | undefined): number {
  if (flag === undefined) return DEFAULT_MAX_DURATION_MS;
  const ms = parseDuration(flag);
  if (ms === undefined || ms <= 0) throw new UserError(`--max-duration ${flag} is not a duration; write it like 15m, 90s or 1h.`);
  return ms;
}

export function blastRadius(prepared: Prepared, limits: Record<ChannelName, ChannelLimits>, flags: BlastFlags): BlastRadius {
  const { plan, contacts, scenario } = prepared;
  const radius = estimate({
    messages: new Map([...plan.channels].map(([channel, summary]) => [channel, summary.messages])),
    channels: CHANNEL_LIST, limits, tally: plan.tally, prices: loadPrices(flags.prices), maxDurationMs: maxDurationMs(flags.maxDuration),
  });
  radius.warnings.push(...unusual(plan, groupSizes(contacts.contacts), scenario.groups, previousLiveRun(scenario.name)));
  return radius;
}
