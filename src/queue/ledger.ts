/**
 * What notify keeps in Redis beside BullMQ's own keys, per run:
 *
 *   <prefix>:run:<id>           hash    the run's settings for workers (retry policy, --skip-unknown)
 *   <prefix>:run:<id>:ledger    hash    delivery id → its last state (attempting by which worker, delivered, failed…)
 *   <prefix>:run:<id>:events    stream  the journal records the workers wrote, in order
 *
 * The ledger is what makes a send safe when a job is handed out twice (a worker died, its
 * lock expired): a worker claims a delivery with a compare-and-set before sending and
 * records the outcome after, each together with its journal record in one atomic script,
 * so the ledger and the stream never disagree. A delivery the ledger calls delivered is
 * never sent again.
 *
 * Why a stream per run rather than BullMQ's QueueEvents: QueueEvents is one stream per
 * queue, capped (10,000 events by default), shared by every run, and says only
 * completed/failed. The lead needs every journal record of its own run (attempting,
 * each failure and its reason, the receipt), in order, from the start, at any later time
 * (`notify report --queue` after a --detach, a laptop that slept): a stream per run is
 * exactly that, and the lead resumes reading at the last id it wrote to its journal.
 */
import type { Redis } from 'ioredis';
import type { NewEntry } from '../core/journal.js';
import type { RetryPolicy } from '../core/retry.js';

/** Run keys expire this long after the run starts: personal data does not stay in Redis for ever. */
export const RUN_TTL_MS = 14 * 24 * 3600_000;

export const runKey = (prefix: string, runId: string) => `${prefix}:run:${runId}`;
export const ledgerKey = (prefix: string, runId: string) => `${prefix}:run:${runId}:ledger`;
export const eventsKey = (prefix: string, runId: string) => `${prefix}:run:${runId}:events`;
/** BullMQ queue name of a channel: one queue per channel, so each has its own rate limit. */
export const queueName = (channel: string) => `send.${channel}`;

/** One delivery's last state in the ledger. */
export interface LedgerState {
  s: 'attempting' | 'delivered' | 'failed' | 'retry' | 'skipped';
  /** Worker id (attempting) or the worker that recorded the outcome. */
  w: string;
  /** Attempt number. */
  n: number;
  /** Attempts made before the current retry budget started (resume --retry-failed). */
  b: number;
}

export interface RunSettings {
  retry: RetryPolicy;
  skipUnknown: boolean;
}

// KEYS: ledger, events. ARGV: id, expected state ('' = none), new state, journal record, ttl ms.
// Returns {1} when claimed, {0, current} when someone else changed the state first. The same
// claim again is a success: ioredis re-sends a command whose answer a Redis outage cut off,
// and the first one may have run (each claim is unique: worker id and attempt number).
const CLAIM = `
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if cur == ARGV[3] then return {1} end
if cur ~= ARGV[2] then return {0, cur} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('XADD', KEYS[2], '*', 'e', ARGV[4])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return {1}`;

// KEYS: ledger, events. ARGV: id, new state, journal record, ttl ms, '1' if the record is a failure.
// A failure never overwrites a delivery: another worker's copy arrived, and that is the truth.
const RECORD = `
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if ARGV[5] == '1' and string.find(cur, '"s":"delivered"', 1, true) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', 'e', ARGV[3])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return 1`;

type Record = NewEntry & { at?: string; worker?: string };

export class Ledger {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async get(runId: string, id: string): Promise<{ raw: string; state?: LedgerState }> {
    const raw = (await this.redis.hget(ledgerKey(this.prefix, runId), id)) ?? '';
    return { raw, ...(raw && { state: JSON.parse(raw) as LedgerState }) };
  }

  /** Compare-and-set: the state goes from `expected` to `next` only if nobody changed it meanwhile. */
  async claim(runId: string, id: string, expected: string, next: LedgerState, record: Record): Promise<{ ok: true } | { ok: false; raw: string }> {
    const result = (await this.redis.eval(
      CLAIM, 2, ledgerKey(this.prefix, runId), eventsKey(this.prefix, runId),
      id, expected, JSON.stringify(next), stamp(record), String(RUN_TTL_MS),
    )) as [number, string?];
    return result[0] === 1 ? { ok: true } : { ok: false, raw: result[1] ?? '' };
  }

  /** The outcome of an attempt, with its journal record. False if a failure lost to a delivery. */
  async record(runId: string, id: string, next: LedgerState, record: Record): Promise<boolean> {
    const failure = next.s !== 'delivered' ? '1' : '0';
    const result = await this.redis.eval(
      RECORD, 2, ledgerKey(this.prefix, runId), eventsKey(this.prefix, runId),
      id, JSON.stringify(next), stamp(record), String(RUN_TTL_MS), failure,
    );
    return result === 1;
  }
}

const stamp = (record: Record) => JSON.stringify({ at: new Date().toISOString(), ...record });

export async function writeRunSettings(redis: Redis, prefix: string, runId: string, settings: RunSettings): Promise<void> {
  const key = runKey(prefix, runId);
  await redis.multi()
    .hset(key, { retry: JSON.stringify(settings.retry), skipUnknown: settings.skipUnknown ? '1' : '0' })
    .pexpire(key, RUN_TTL_MS)
    .exec();
}

export async function readRunSettings(redis: Redis, prefix: string, runId: string): Promise<RunSettings | undefined> {
  const hash = await redis.hgetall(runKey(prefix, runId));
  if (!hash.retry) return undefined;
  return { retry: JSON.parse(hash.retry) as RetryPolicy, skipUnknown: hash.skipUnknown === '1' };
}

/**
 * `resume --retry-failed`: failed deliveries become sendable again, with a fresh retry
 * budget (their attempt numbers go on). Only failures: a delivery is never reopened.
 */
export async function reopenFailed(redis: Redis, prefix: string, runId: string, ids: string[]): Promise<void> {
  const key = ledgerKey(prefix, runId);
  for (const id of ids) {
    const raw = await redis.hget(key, id);
    if (!raw) continue;
    const state = JSON.parse(raw) as LedgerState;
    if (state.s !== 'failed') continue;
    await redis.hset(key, id, JSON.stringify({ ...state, s: 'retry', b: state.n }));
  }
}
