/**
 * Runs deliveries to the end (or to Ctrl-C) and reports: shared by a new send and
 * `notify resume`. Channels connect one at a time, each sending once its own transport is ready.
 */
import { CHANNEL_NAMES, channelNamed, DEFAULT_PRIORITY } from '../channels/index.js';
import { outbox } from '../channels/outbox.js';
import type { Transport } from '../core/channel.js';
import type { Config } from '../config.js';
import { dispatch, type ChannelLimits, type DeliverySource, type Strategy } from '../core/dispatch.js';
import type { Journal } from '../core/journal.js';
import { buildReport, type RunReport } from '../core/report.js';
import type { RetryPolicy } from '../core/retry.js';
import type { ChannelName } from '../core/types.js';
import { EXIT } from '../errors.js';
import { printReport } from '../format.js';
import type { Output } from '../output.js';
import { createProgress, progressEnabled } from '../progress.js';
import { displayPath } from '../core/templates.js';
import { connectInTurn } from './connect-in-turn.js';

/** The outbox has no provider to protect: a dry run goes as fast as it can. */
const DRY_RUN_LIMITS: Record<ChannelName, ChannelLimits> = Object.fromEntries(CHANNEL_NAMES.map((name) => [name, { concurrency: 64 }]));
const GRACE_MS = 10_000;

export interface ExecuteOptions {
  config: Config;
  journal: Journal;
  runId: string;
  dryRun: boolean;
  strategy: Strategy;
  limits: Record<ChannelName, ChannelLimits>;
  retry: RetryPolicy;
  previousAttempts?: Map<string, number>;
  out: Output;
  json: boolean;
  /** More fields for the --json result (a dry run's blast radius). */
  jsonExtra?: Record<string, unknown>;
}

/** `totals`: messages per channel, for the progress display (counted here when `source` is an array). */
export async function execute(
  source: DeliverySource, options: ExecuteOptions, totals = countByChannel(source),
): Promise<{ exitCode: number; report: RunReport }> {
  const { journal, out } = options;
  // A new dry run on every channel (streamed from its plan): the outbox cannot refuse a
  // message, so the plan, checked whole, is the outcome, and one record says so rather
  // than one per message. With --strategy first the outbox still decides which channel
  // "reached" each person; a resumed dry run goes through it too (unknown outcomes).
  if (options.dryRun && options.strategy.kind === 'all' && !options.previousAttempts) {
    journal.append({ kind: 'checked', messages: [...totals.values()].reduce((sum, n) => sum + n, 0) });
    return finishRun(options, false);
  }
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) {
      out.line(`Stopping now. Resume with: notify resume ${options.runId}`);
      process.exit(EXIT.interrupted); // the journal is written synchronously: it is already complete
    }
    out.line(out.color.yellow(`\nStopping: no new messages; waiting up to ${GRACE_MS / 1000}s for those in flight (press Ctrl-C again to stop now)…`));
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Each channel starts sending as soon as its own SDK is loaded, one after the other
  // (connectOrder): the first message does not wait for all of them. (Dispatch waits for a channel's
  // transport before its rate limiter starts, so that still starts warm.)
  const connections = connectInTurn<Transport>(
    options.dryRun ? [] : connectOrder(totals, options.limits, options.strategy),
    (channel) => (options.dryRun ? Promise.resolve(outbox) : channelNamed(channel).connect(options.config)),
    stop.signal,
  );
  const progress = createProgress(totals, { enabled: !options.dryRun && progressEnabled(options.config.ci) });
  try {
    await dispatch(source, options.strategy, {
      onProgress: (event) => {
        connections.answered(event.channel);
        progress.onProgress(event);
      },
      transport: connections.transport, journal, retry: options.retry, limits: options.dryRun ? DRY_RUN_LIMITS : options.limits,
      stop: stop.signal, graceMs: GRACE_MS, local: options.dryRun,
      ...(options.previousAttempts && { previousAttempts: options.previousAttempts }),
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.allSettled(connections.all().map(async (t) => (await t).close()));
  }
  return finishRun(options, stop.signal.aborted);
}

/**
 * The end of a run, wherever it was sent from (here, or workers through a queue): record
 * it, print the report, choose the exit code. `resumeHint` is what finishes an interrupted run.
 */
export function finishRun(
  options: Pick<ExecuteOptions, 'journal' | 'runId' | 'strategy' | 'out' | 'json' | 'config' | 'jsonExtra'>, interrupted: boolean,
  resumeHint = `notify resume ${options.runId}`,
): { exitCode: number; report: RunReport } {
  const { journal, out } = options;
  journal.append({ kind: 'finished', interrupted });
  journal.close();

  const report = buildReport(options.runId, displayPath(journal.path), journal.state);
  printReport(out, report);
  if (interrupted) out.line(out.color.yellow(`Interrupted. Finish this run with: ${resumeHint}`));
  if (options.json) out.json({ ...report, ...options.jsonExtra });
  // With --strategy first a refused channel that a fallback made up for is not a failure:
  // what was planned is to reach each person once.
  // (People with no address at all were never planned: they are reported, not failed.)
  const failed = options.strategy.kind === 'first'
    ? report.notReached.length > journal.state.unreachable.length
    : report.failures.length > 0;
  const exitCode = interrupted ? EXIT.interrupted : failed || !report.complete ? EXIT.failed : EXIT.ok;
  if (options.config.ci) out.line(oneLineSummary(report, exitCode));
  return { exitCode, report };
}

/**
 * The order channels connect in. With --strategy first, the --priority order: everyone's
 * first message goes out on the first channel. Otherwise the channels are independent:
 * - a channel held to a rate goes first, the longest to send first: the run ends when its
 *   slowest channel ends, and a paced channel cannot make up for a late start;
 * - then the quickest to load (each declares its `connectMs`), so that messages start
 *   leaving while the heavier SDKs load; ties keep the default priority.
 */
export function connectOrder(
  totals: ReadonlyMap<ChannelName, number>, limits: Partial<Record<ChannelName, ChannelLimits>>, strategy: Strategy,
): ChannelName[] {
  const rank = (priority: readonly ChannelName[]) => (c: ChannelName) => priority.indexOf(c) + 1 || priority.length + 1;
  const channels = [...totals.keys()];
  if (strategy.kind === 'first') return sortBy(channels, rank(strategy.priority));
  const pacedSeconds = (c: ChannelName) => {
    const perSecond = limits[c]?.perSecond;
    return perSecond ? (totals.get(c) ?? 0) / perSecond : 0;
  };
  return sortBy(sortBy(sortBy(channels, rank(DEFAULT_PRIORITY)), (c) => channelNamed(c).defaults.connectMs ?? 0), (c) => -pacedSeconds(c));
}

/** A stable sort on a number. */
function sortBy<T>(items: T[], key: (item: T) => number): T[] {
  return items.sort((a, b) => key(a) - key(b));
}

function countByChannel(source: DeliverySource): Map<ChannelName, number> {
  const totals = new Map<ChannelName, number>();
  if (Array.isArray(source)) for (const d of source) totals.set(d.channel, (totals.get(d.channel) ?? 0) + 1);
  return totals;
}

/** The last line of a CI job log: what happened, in one line. */
function oneLineSummary(report: RunReport, exitCode: number): string {
  const counts = Object.values(report.channels);
  const sum = (key: 'planned' | 'delivered' | 'failed' | 'pending') => counts.reduce((n, c) => n + c[key], 0);
  const outcome = exitCode === EXIT.ok ? 'OK' : exitCode === EXIT.interrupted ? 'INTERRUPTED' : 'FAILED';
  const done = report.dryRun ? 'checked' : 'delivered';
  return `notify ${report.scenario}${report.dryRun ? ' (dry run)' : ''}: ${outcome} — ${sum('delivered')}/${sum('planned')} messages ${done}, ${sum('failed')} failed, ${sum('pending')} pending; ${report.people.reached}/${report.people.targeted} people ${report.dryRun ? 'would be reached' : 'reached'}`;
}
