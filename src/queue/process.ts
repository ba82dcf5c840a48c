/**
 * One job, one delivery: what a worker does with it. The same decisions as an in-process
 * send (src/core/dispatch.ts) — the channel's transport, the per-attempt time limit, the
 * error classes, `classify` and `retryDelay` — with the waits handed to BullMQ instead of
 * a timer: a retry is the job moved to "delayed", a Retry-After pauses the whole queue
 * (every worker: the provider asked the account to slow down) and puts the job back with
 * `Worker.RateLimitError`. Attempts are counted in the ledger, not by BullMQ: a job
 * recovered from a dead worker, or put back by a rate limit, does not count one there.
 */
import type { Job } from 'bullmq';
import type { Transport } from '../core/channel.js';
import type { Rendered, Receipt } from '../core/types.js';
import { classify, retryDelay } from '../core/retry.js';
import { isAlive } from './heartbeat.js';
import { readRunSettings, type Ledger, type LedgerState, type RunSettings } from './ledger.js';
import type { Redis } from 'ioredis';

/** What a job carries: the rendered message and its run. Never a credential. */
export interface JobData {
  runId: string;
  message: Rendered;
}

/** How long a job waits when the delivery is being sent by a worker that is still alive. */
const BUSY_RETRY_MS = 2_000;
const SETTINGS_CACHE_MS = 2_000;

export interface ProcessContext {
  workerId: string;
  prefix: string;
  redis: Redis;
  ledger: Ledger;
  transport(): Promise<Transport>;
  /** Retry later: move the job to delayed (BullMQ's DelayedError). */
  later(job: Job<JobData>, token: string | undefined, ms: number): Promise<never>;
  /** The provider asked to wait: pause this channel's queue for all workers (Worker.RateLimitError). */
  pause(ms: number): Promise<never>;
}

export type Result = { outcome: 'delivered'; receipt: Receipt } | { outcome: 'done'; why: string };

export function createProcessor(context: ProcessContext) {
  const { ledger, workerId } = context;
  /** Deliveries this process is sending right now. */
  const inFlight = new Set<string>();
  /** Per run: the provider refused the channel itself (bad token); the rest fail without a request. */
  const channelDown = new Map<string, string>();
  const settingsCache = new Map<string, { at: number; settings: RunSettings | undefined }>();
  const settingsOf = async (runId: string) => {
    const cached = settingsCache.get(runId);
    if (cached && Date.now() - cached.at < SETTINGS_CACHE_MS) return cached.settings;
    const settings = await readRunSettings(context.redis, context.prefix, runId);
    settingsCache.set(runId, { at: Date.now(), settings });
    return settings;
  };

  return async (job: Job<JobData>, token?: string): Promise<Result> => {
    const { runId, message } = job.data;
    const id = message.deliveryId;
    const settings = await settingsOf(runId);
    // The run's keys expired or were deleted: nothing to record an outcome in, so nothing is sent.
    if (!settings) return { outcome: 'done', why: 'run unknown in Redis' };
    const { raw, state } = await ledger.get(runId, id);
    if (state && (state.s === 'delivered' || state.s === 'failed' || state.s === 'skipped')) return { outcome: 'done', why: state.s };
    if (state?.s === 'attempting') {
      // Handed out twice: is the first sender still at it?
      const ours = state.w === workerId;
      if ((ours && inFlight.has(id)) || (!ours && (await isAlive(context.redis, context.prefix, state.w)))) {
        return context.later(job, token, BUSY_RETRY_MS);
      }
      // Its worker died mid-send: the outcome is unknown. Same policy as `notify resume`.
      if (settings.skipUnknown) {
        await ledger.record(runId, id, { ...state, s: 'skipped', w: workerId }, {
          kind: 'skipped', id, worker: workerId,
          reason: 'outcome of the last attempt unknown (its worker stopped); skipped by --skip-unknown (it may not have arrived)',
        });
        return { outcome: 'done', why: 'skipped' };
      }
      // Otherwise it is sent again: a second "attempting" after one with no outcome marks it
      // "may be duplicated" in the journal and the report.
    }
    const base = state?.b ?? 0;
    const attempt = (state?.n ?? 0) + 1;
    const down = channelDown.get(runId);
    if (down) {
      await ledger.record(runId, id, { s: 'failed', w: workerId, n: attempt - 1, b: base }, {
        kind: 'failed', id, attempt: attempt - 1, reason: `not sent: ${down}`, retryable: false, final: true, worker: workerId,
      });
      return { outcome: 'done', why: 'failed' };
    }
    const claim: LedgerState = { s: 'attempting', w: workerId, n: attempt, b: base };
    const claimed = await ledger.claim(runId, id, raw, claim, { kind: 'attempting', id, attempt, worker: workerId });
    if (!claimed.ok) return context.later(job, token, BUSY_RETRY_MS); // another worker moved first: look again shortly

    inFlight.add(id);
    try {
      const client = await context.transport();
      const receipt = await withDeadline(settings.retry.attemptTimeoutMs, (signal) => client.send(message, signal));
      await ledger.record(runId, id, { ...claim, s: 'delivered' }, { kind: 'delivered', id, attempt, receipt, worker: workerId });
      return { outcome: 'delivered', receipt };
    } catch (error) {
      const facts = classify(error);
      if (facts.channelWide) channelDown.set(runId, facts.reason);
      const wait = retryDelay(facts, attempt - base, settings.retry);
      const final = wait === undefined;
      await ledger.record(runId, id, { ...claim, s: final ? 'failed' : 'retry' }, {
        kind: 'failed', id, attempt, reason: facts.reason, retryable: facts.retryable, final, worker: workerId,
        ...(facts.outcomeUnknown && { outcomeUnknown: true }),
      });
      if (final) return { outcome: 'done', why: 'failed' };
      if (facts.retryAfterMs !== undefined) return context.pause(wait);
      return context.later(job, token, wait);
    } finally {
      inFlight.delete(id);
    }
  };
}

async function withDeadline<T>(ms: number, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('time limit')), ms);
  try {
    return await task(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
