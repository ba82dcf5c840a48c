/**
 * The queue branches of `notify <scenario>`, `resume`, `report` and `check`: the same
 * plan, journal, confirmation, report and exit codes as in-process; only where the
 * deliveries go differs. Loaded only when --queue (or NOTIFY_QUEUE_URL) asks for it.
 */
import { finishRun, type ExecuteOptions } from '../commands/execute.js';
import type { Strategy } from '../core/dispatch.js';
import { Journal, journalPath, plannedDelivery, readJournal, replay, type Replayed } from '../core/journal.js';
import type { Delivery } from '../core/plan.js';
import type { ChannelName, Problem } from '../core/types.js';
import { EXIT, UserError } from '../errors.js';
import type { Output } from '../output.js';
import { createProgress, progressEnabled } from '../progress.js';
import { probe, QUEUE_ENV, queueTarget, type QueueTarget } from './connection.js';
import { aliveWorkers, catchUp, enqueue, follow, openLead, reopen, setSkipUnknown, takeLock, unservedChannels, type Lead } from './lead.js';
import { readRunSettings } from './ledger.js';

/** `--queue URL`, `--queue` alone (= $NOTIFY_QUEUE_URL), or nothing (= $NOTIFY_QUEUE_URL for sends only). */
export function queueFlag(value: string | boolean | undefined, { envByDefault }: { envByDefault: boolean }): QueueTarget | undefined {
  if (value === undefined && !envByDefault) return undefined;
  const target = queueTarget(typeof value === 'string' ? value : undefined);
  if (!target && value === true) throw new UserError(`--queue needs a URL (--queue redis://host:6379) or ${QUEUE_ENV} set.`);
  return target;
}

/** How to say "this queue again" in a hint: nothing to add when it came from the environment. */
const queueArg = (target: QueueTarget) => (target.from === '--queue' ? ` --queue ${target.shown}` : '');

type RunOptions = Pick<ExecuteOptions, 'journal' | 'runId' | 'strategy' | 'out' | 'json' | 'config' | 'limits' | 'retry'> & {
  totals: Map<ChannelName, number>;
};

/** `notify <scenario> --queue`: enqueue the planned deliveries, then follow them (or not, with --detach). */
export async function sendQueued(target: QueueTarget, source: Map<ChannelName, Iterable<Delivery>>, options: RunOptions & { detach: boolean }): Promise<number> {
  const { out, runId, journal } = options;
  const lead = await openLead(target);
  try {
    const unlock = takeLock(runId);
    try {
      await warnUnserved(lead, out, options.totals.keys());
      const started = performance.now();
      const count = await enqueue(lead, runId, source, { limits: options.limits, retry: options.retry, skipUnknown: false });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      out.line(`Queued ${count} message(s) in ${seconds} s on ${target.shown} (keys under "${target.prefix}:") for the workers.`);
      if (options.detach) {
        journal.close();
        out.line(`Detached: the workers send. See where they are with: notify report ${runId}${queueArg(target)}`);
        return EXIT.ok;
      }
      return await followToTheEnd(lead, options, [...journal.state.states.keys()]);
    } finally {
      unlock?.();
    }
  } finally {
    await lead.close();
  }
}

/** Follow the run, then report as an in-process send would; Ctrl-C stops following, not the workers. */
async function followToTheEnd(lead: Lead, options: RunOptions, awaited: string[], from?: string): Promise<number> {
  const { out, runId, journal } = options;
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(EXIT.interrupted);
    out.line(out.color.yellow(`\nStopped following run ${runId}. The workers keep sending; see where they are with: notify report ${runId}${queueArg(lead.target)}`));
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = createProgress(options.totals, { enabled: progressEnabled(options.config.ci) });
  let result: { stopped: boolean; lost: boolean };
  try {
    result = await follow(lead, runId, journal, out, {
      awaited, stop: stop.signal, ...(from && { from }),
      onRecord: (channel, status) => progress.onProgress({ channel, status: status === 'skipped' ? 'failed' : status }),
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (result.lost) {
    out.line(out.color.red(`Redis at ${lead.target.shown} no longer holds run ${runId} (restarted without persistence, or its keys were deleted).`));
    return finishRun(options, true, `notify resume ${runId}${queueArg(lead.target)} (re-enqueues what is missing)`).exitCode;
  }
  const hint = `notify report ${runId}${queueArg(lead.target)} (the workers go on), or notify resume ${runId}${queueArg(lead.target)}`;
  return finishRun(options, result.stopped, hint).exitCode;
}

async function warnUnserved(lead: Lead, out: Output, channels: Iterable<ChannelName>): Promise<void> {
  const unserved = await unservedChannels(lead, channels);
  if (unserved.length > 0) {
    out.line(out.color.yellow(`! No worker is serving ${unserved.join(', ')} right now: those messages wait in the queue until one starts (notify worker${queueArg(lead.target)}).`));
  }
}

/** `notify report <run> --queue`: the journal brought up to date with what the workers recorded. */
export async function queuedState(target: QueueTarget, runId: string): Promise<Replayed> {
  await probe(target);
  const lead = await openLead(target);
  try {
    const entries = readJournal(runId);
    const replayed = replay(entries);
    const { journal } = await catchUp(lead, runId, entries, replayed);
    journal?.close();
    return replayed;
  } finally {
    await lead.close();
  }
}

export interface ResumeFlags {
  yes?: boolean;
  json?: boolean;
  skipUnknown?: boolean;
  retryFailed?: boolean;
}

/**
 * `notify resume <run> --queue`: catch up with the workers, then enqueue again what has no
 * outcome yet (job id = delivery id: what is still queued is not duplicated; what the
 * ledger calls delivered is never sent). The workers apply the unknown-outcome policy,
 * since only they can tell a dead sender from a live one.
 */
export async function resumeQueued(
  target: QueueTarget, runId: string, flags: ResumeFlags,
  context: Pick<RunOptions, 'config' | 'out' | 'limits' | 'retry'>, confirm: (messages: number) => Promise<void>,
): Promise<number> {
  const { out } = context;
  await probe(target);
  const entries = readJournal(runId);
  const replayed = replay(entries);
  const run = replayed.run;
  if (!run) throw new UserError(`The journal of run ${runId} has no run record; it cannot be resumed.`);
  if (run.dryRun) throw new UserError(`Run ${runId} was a dry run; nothing of it went to a queue. Resume it without --queue.`);
  if (run.strategy !== 'all') throw new UserError(`Run ${runId} used --strategy first, which the queue does not support yet; resume it without --queue.`);
  const lead = await openLead(target);
  try {
    const { journal: caught, last } = await catchUp(lead, runId, entries, replayed);
    if (!caught) throw new UserError(`Another notify process is following run ${runId}; stop it (Ctrl-C) before resuming.`);
    caught.close();
    const unlock = takeLock(runId)!;
    try {
      const journal = new Journal(journalPath(runId), replayed);
      const states = [...replayed.states.values()];
      const todo = states.filter((s) => s.status === 'pending' || s.status === 'attempting' || (flags.retryFailed && s.status === 'failed'));
      if (todo.length === 0) out.line(`Run ${runId}: nothing left to send.`);
      else {
        const unknown = todo.filter((s) => s.status === 'attempting').length;
        out.line(`Resuming ${runId} through ${target.shown}: ${todo.length} message(s) without an outcome${unknown ? `, ${unknown} of them last seen being sent (the workers re-send those whose worker died, flagged "may be duplicated"${flags.skipUnknown ? ', or skip them: --skip-unknown' : ''})` : ''}.`);
        await confirm(todo.length);
      }
      const current = await readRunSettings(lead.redis, target.prefix, runId);
      const skipUnknown = Boolean(flags.skipUnknown || current?.skipUnknown);
      const failed = todo.filter((s) => s.status === 'failed').map((s) => s.delivery.id);
      if (failed.length) await reopen(lead, runId, failed);
      const left = new Set(todo.map((s) => s.delivery.id));
      const source = new Map<ChannelName, Delivery[]>();
      for (const e of entries) {
        if (e.kind !== 'planned' || !left.has(e.id)) continue;
        const list = source.get(e.channel) ?? [];
        list.push(plannedDelivery(e));
        source.set(e.channel, list);
      }
      await warnUnserved(lead, out, source.keys());
      await enqueue(lead, runId, source, { limits: context.limits, retry: context.retry, skipUnknown });
      if (skipUnknown) await setSkipUnknown(lead, runId);
      const strategy: Strategy = { kind: 'all' };
      const totals = new Map([...source].map(([c, list]) => [c, list.length]));
      return await followToTheEnd(lead, { ...context, journal, runId, strategy, json: flags.json ?? false, totals }, [...left], last);
    } finally {
      unlock();
    }
  } finally {
    await lead.close();
  }
}

/** `notify check --queue`: Redis answers, and every channel of the plan has a live worker. Sends nothing. */
export async function checkQueue(target: QueueTarget, channels: Iterable<ChannelName>, problems: Problem[]) {
  try {
    await probe(target);
  } catch (error) {
    problems.push({ where: target.from, message: (error as Error).message.replace(/; nothing was sent\.$/, '.'), group: 'queue' });
    return { url: target.shown, prefix: target.prefix, reachable: false, workers: [] };
  }
  const lead = await openLead(target);
  try {
    const workers = await aliveWorkers(lead.redis, target.prefix);
    for (const channel of channels) {
      if (!workers.some((w) => w.channels.includes(channel))) {
        problems.push({
          where: target.from,
          message: `no live worker serves ${channel}; start one on a machine with its credentials: notify worker --channels ${channel}`,
          group: 'queue',
        });
      }
    }
    return { url: target.shown, prefix: target.prefix, reachable: true, workers: workers.map((w) => ({ id: w.id, channels: w.channels })) };
  } finally {
    await lead.close();
  }
}
