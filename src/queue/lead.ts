/**
 * The lead's side of a queued run: put the planned deliveries on the channels' queues,
 * then follow what the workers record (the run's event stream) into the local journal,
 * so that the report, the exit code and `notify resume` work exactly as for an
 * in-process send. Also what `report --queue`, `resume --queue` and `check --queue` need.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { ChannelLimits } from '../core/dispatch.js';
import { apply, Journal, journalPath, type JournalEntry, type NewEntry, type Replayed } from '../core/journal.js';
import type { Delivery } from '../core/plan.js';
import type { RetryPolicy } from '../core/retry.js';
import type { ChannelName } from '../core/types.js';
import type { Output } from '../output.js';
import { connect, describeRedisError, type QueueTarget } from './connection.js';
import { aliveWorkers } from './heartbeat.js';
import { eventsKey, queueName, reopenFailed, runKey, writeRunSettings } from './ledger.js';
import type { JobData } from './process.js';

/** Jobs per round trip when enqueuing. */
const BATCH = 1_000;
/** How long one read of the stream waits for news, so Ctrl-C and checks are never far off. */
const READ_BLOCK_MS = 500;
/** Each journal record that came from the queue carries its stream id: where to read on from. */
const EVENT_FIELD = 'queueEvent';
/** Failed jobs (an internal error, not a provider's refusal) are kept this long for inspection. */
const KEEP_FAILED_S = 7 * 24 * 3600;

export interface Lead {
  target: QueueTarget;
  redis: Redis;
  close(): Promise<void>;
}

export async function openLead(target: QueueTarget): Promise<Lead> {
  const redis = await connect(target, 'notify-lead');
  redis.on('error', () => {}); // followers say it in words, below
  return { target, redis, close: async () => void redis.disconnect() };
}

/**
 * Put the deliveries on the queues: the run's settings first (workers read them), then
 * each channel's rate as its queue's limiter (global across workers), then the jobs,
 * job id = delivery id, so enqueuing the same delivery twice is a no-op.
 */
export async function enqueue(
  lead: Lead, runId: string, source: Map<ChannelName, Iterable<Delivery>>,
  options: { limits: Record<ChannelName, ChannelLimits>; retry: RetryPolicy; skipUnknown: boolean },
): Promise<number> {
  const { Queue } = await import('bullmq');
  const { redis, target } = lead;
  await writeRunSettings(redis, target.prefix, runId, { retry: options.retry, skipUnknown: options.skipUnknown });
  await redis.pexpire(eventsKey(target.prefix, runId), 14 * 24 * 3600_000);
  let count = 0;
  for (const [channel, deliveries] of source) {
    const queue = new Queue<JobData>(queueName(channel), { connection: redis, prefix: target.prefix });
    try {
      const perSecond = options.limits[channel]?.perSecond;
      // One job every 1000/rate ms, as the in-process pacing does: evenly spaced, no burst at
      // window edges. Rounded up, so the limit is never exceeded. "off" still needs a limiter
      // (a manual pause for Retry-After only works on a limited queue): a very large one.
      if (perSecond) await queue.setGlobalRateLimit(1, Math.ceil(1000 / perSecond));
      else await queue.setGlobalRateLimit(1_000_000, 1000);
      let batch: Parameters<typeof queue.addBulk>[0] = [];
      const flush = async () => {
        if (batch.length) await queue.addBulk(batch);
        count += batch.length;
        batch = [];
      };
      for (const d of deliveries) {
        batch.push({
          name: 'deliver', data: { runId, message: d.message },
          opts: {
            jobId: d.id, removeOnComplete: true, removeOnFail: { age: KEEP_FAILED_S },
            // For errors of notify's own (Redis scripts…); a provider's errors are retried by the ledger's count.
            attempts: 5, backoff: { type: 'exponential', delay: 1000 },
          },
        });
        if (batch.length >= BATCH) await flush();
      }
      await flush();
    } finally {
      await queue.close();
    }
  }
  return count;
}

/** --retry-failed through the queue: the ledger reopens those failures for the workers. */
export const reopen = (lead: Lead, runId: string, ids: string[]) => reopenFailed(lead.redis, lead.target.prefix, runId, ids);

export async function setSkipUnknown(lead: Lead, runId: string): Promise<void> {
  await lead.redis.hset(runKey(lead.target.prefix, runId), 'skipUnknown', '1');
}

export type Status = 'delivered' | 'failed' | 'retrying' | 'skipped';

/**
 * Read the run's records from the stream into the journal until each delivery in
 * `awaited` has an outcome (delivered, failed for good, skipped), or `stop` aborts.
 */
export async function follow(
  lead: Lead, runId: string, journal: Journal, out: Output,
  options: { awaited: Iterable<string>; stop: AbortSignal; from?: string; onRecord?(channel: ChannelName, status: Status): void },
): Promise<{ stopped: boolean; lost: boolean }> {
  const { redis, target } = lead;
  const waiting = new Set(options.awaited);
  let last = options.from ?? '0';
  let down = false;
  const onError = (error: Error) => {
    if (down) return;
    down = true;
    out.line(out.color.yellow(`Redis at ${target.shown} is unreachable (${describeRedisError(error)}); waiting for it. The workers keep what they record there; the journal keeps what arrived so far.`));
  };
  const onReady = () => {
    if (!down) return;
    down = false;
    out.line('Redis is back; following the run again.');
  };
  redis.on('error', onError);
  redis.on('ready', onReady);
  let quiet = 0;
  try {
    while (waiting.size > 0 && !options.stop.aborted) {
      const reply = (await redis.xread('COUNT', BATCH, 'BLOCK', READ_BLOCK_MS, 'STREAMS', eventsKey(target.prefix, runId), last)) as
        [string, [string, string[]][]][] | null;
      const records = reply?.[0]?.[1] ?? [];
      for (const [id, fields] of records) {
        last = id;
        const ended = absorb(journal, id, fields[1]!, options.onRecord);
        if (ended) waiting.delete(ended);
      }
      // Nothing new for a while: make sure Redis still knows the run (a restart without
      // persistence loses everything; then waiting would be for ever).
      quiet = records.length ? 0 : quiet + 1;
      if (quiet > 0 && quiet % 10 === 0 && !(await redis.exists(runKey(target.prefix, runId)))) return { stopped: true, lost: true };
    }
  } finally {
    redis.off('error', onError);
    redis.off('ready', onReady);
  }
  return { stopped: waiting.size > 0, lost: false };
}

/**
 * Bring the journal up to date with the stream, once (report --queue, resume --queue).
 * Only one process may write a journal: while the lead follows the run, this reads the
 * records into the state in memory and leaves the file to the lead.
 */
export async function catchUp(
  lead: Lead, runId: string, entries: JournalEntry[], replayed: Replayed,
): Promise<{ journal?: Journal; added: number; last?: string }> {
  const lock = takeLock(runId);
  const journal = lock ? new Journal(journalPath(runId), replayed) : undefined;
  let added = 0;
  let from = lastEvent(entries) ?? '-';
  try {
    for (;;) {
      const start = from === '-' ? '-' : `(${from}`;
      const records = await lead.redis.xrange(eventsKey(lead.target.prefix, runId), start, '+', 'COUNT', BATCH);
      for (const [id, fields] of records) {
        from = id;
        const record = { ...JSON.parse(fields[1]!), [EVENT_FIELD]: id } as JournalEntry;
        if (journal) journal.append(record as NewEntry);
        else apply(replayed, record);
        added += 1;
      }
      if (records.length < BATCH) break;
    }
  } finally {
    lock?.();
  }
  return { ...(journal && { journal }), added, ...(from !== '-' && { last: from }) };
}

/** Hold the right to write a run's journal from the queue (the lead following it, or a catch-up). */
export function takeLock(runId: string): (() => void) | undefined {
  const path = `${journalPath(runId)}.follow`;
  for (let tries = 0; tries < 2; tries += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch {
      const pid = Number(readFileSync(path, 'utf8'));
      if (pidAlive(pid)) return undefined;
      unlinkSync(path); // left by a process that died: take it over
    }
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Channels of the plan that no live worker serves: their messages wait until one starts. */
export async function unservedChannels(lead: Lead, channels: Iterable<ChannelName>): Promise<ChannelName[]> {
  const workers = await aliveWorkers(lead.redis, lead.target.prefix);
  return [...channels].filter((c) => !workers.some((w) => w.channels.includes(c)));
}

export { aliveWorkers };

/** Append one record from the stream; returns the delivery id if the record is its outcome. */
function absorb(journal: Journal, streamId: string, json: string, onRecord?: (channel: ChannelName, status: Status) => void): string | undefined {
  const record = { ...JSON.parse(json), [EVENT_FIELD]: streamId } as JournalEntry;
  journal.append(record as NewEntry);
  // The compact state, by ordinal: no need to read the delivery's who and where back.
  const ordinal = 'id' in record ? journal.state.states.ordinal(record.id) : undefined;
  if (ordinal === undefined || !('id' in record)) return undefined;
  const outcome: Status | undefined = record.kind === 'delivered' ? 'delivered' : record.kind === 'skipped' ? 'skipped'
    : record.kind === 'failed' ? (record.final ? 'failed' : 'retrying') : undefined;
  if (outcome) onRecord?.(journal.state.states.channelOf(ordinal), outcome);
  return outcome && outcome !== 'retrying' ? record.id : undefined;
}

/** The last stream id the journal holds (records carry it in `queueEvent`). */
function lastEvent(entries: JournalEntry[]): string | undefined {
  let last: string | undefined;
  for (const e of entries) {
    const id = (e as { [EVENT_FIELD]?: string })[EVENT_FIELD];
    if (id && (!last || compareIds(id, last) > 0)) last = id;
  }
  return last;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}
