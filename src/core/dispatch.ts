/**
 * Dispatch: deliveries → transports, recording every step in the journal. Each channel
 * has its own queue (concurrency + rate limit), so the channels run side by side and a
 * slow one never holds up the others. Stopping (Ctrl-C) means: start nothing new, let
 * what is in flight finish within a grace period, record everything.
 */
import pLimit from 'p-limit';
import pThrottle from 'p-throttle';
import { PermanentError, RetryableError } from './delivery-errors.js';
import type { Transport } from './channel.js';
import type { Journal } from './journal.js';
import type { Delivery } from './plan.js';
import { onAbort, type AbortWatch } from './abort-watch.js';
import { classify, retryDelay, type RetryPolicy } from './retry.js';
import type { ChannelName, Receipt } from './types.js';

export interface ChannelLimits {
  concurrency: number;
  /** Messages per second; undefined = unlimited. */
  perSecond?: number;
  /** This channel's own per-attempt time limit, instead of the retry policy's. */
  attemptTimeoutMs?: number;
}

export type Outcome =
  | { status: 'delivered'; receipt: Receipt }
  | { status: 'failed'; reason: string }
  | { status: 'interrupted' };

export type ProgressEvent = { channel: ChannelName; status: 'delivered' | 'failed' | 'retrying' };

export interface DispatchOptions {
  /** Transport for a channel; a rejected promise (e.g. SDK cannot be loaded) fails that channel's deliveries. */
  transport(channel: ChannelName): Promise<Transport>;
  journal: Journal;
  retry: RetryPolicy;
  limits: Record<ChannelName, ChannelLimits>;
  /** Aborted on Ctrl-C: no new attempt starts after it. */
  stop: AbortSignal;
  /** How long in-flight sends may still finish after `stop`. */
  graceMs: number;
  /**
   * The transports send nothing anywhere (a dry run's outbox): an attempt cannot end with
   * an unknown outcome, so no "attempting" record is written before it, and outcomes are
   * written in batches rather than one write each. (A dry run of a million contacts would
   * otherwise write 4 million records that say nothing and pay a system call for each.)
   */
  local?: boolean;
  /** Attempts already made per delivery (resume continues the count). */
  previousAttempts?: Map<string, number>;
  onProgress?(event: ProgressEvent): void;
}

export type Strategy = { kind: 'all' } | { kind: 'first'; priority: ChannelName[] };

/**
 * Deliveries in memory, or one stream per channel. A stream is read as its channel makes
 * progress, so a large plan is never held whole: the plan is in the journal and each
 * channel reads its next messages back when it has room (strategy "all" only).
 */
export type DeliverySource = Delivery[] | Map<ChannelName, AsyncIterable<Delivery> | Iterable<Delivery>>;

/** How many deliveries a streamed channel takes ahead of those it has finished. */
const STREAM_AHEAD = 256;
/**
 * The same for a dry run's outbox, which answers at once: more in flight only keeps more
 * messages alive across garbage collections, promoted to the old generation to die there
 * (the 100,000-contact dry run peaked at over 700 MB of such garbage).
 */
const LOCAL_AHEAD = 16;

export async function dispatch(source: DeliverySource, strategy: Strategy, given: DispatchOptions): Promise<Map<string, Outcome>> {
  // One transport per channel, however often it is asked for (by its stream and its queue).
  const transports = new Map<ChannelName, Promise<Transport>>();
  const transport = (channel: ChannelName) => transports.get(channel) ?? transports.set(channel, given.transport(channel)).get(channel)!;
  const options: DispatchOptions = { ...given, transport };
  // Outcomes are collected for deliveries given in memory; streamed ones are only in the journal.
  const outcomes = new Map<string, Outcome>();
  const queues = new Map<ChannelName, (d: Delivery) => Promise<Outcome>>();
  const grace = onAbort(afterGrace(options.stop, options.graceMs));
  const stopped = onAbort(options.stop);
  const queueFor = (channel: ChannelName) => {
    let queue = queues.get(channel);
    if (!queue) {
      queue = channelQueue(channel, options, grace, stopped);
      queues.set(channel, queue);
    }
    return queue;
  };
  const run = async (d: Delivery) => {
    const outcome = await queueFor(d.channel)(d);
    if (Array.isArray(source)) outcomes.set(d.id, outcome);
    return outcome;
  };

  if (!Array.isArray(source)) {
    const ahead = options.local ? LOCAL_AHEAD : STREAM_AHEAD;
    // A channel reads its messages ahead once it can send them: reading the others' while
    // the first channel's SDK loads would only delay the first message.
    const ready = (channel: ChannelName) => transport(channel).then(() => undefined, () => undefined);
    await Promise.all([...source].map(([channel, stream]) => ready(channel).then(() => drain(stream, run, options.stop, ahead))));
  } else if (strategy.kind === 'all') {
    await Promise.all(source.map(run));
  } else {
    await Promise.all([...byContact(source, strategy.priority).values()].map((chain) => firstThatDelivers(chain, run, options.journal)));
  }
  return outcomes;
}

/** Run a channel's stream with at most STREAM_AHEAD deliveries taken and not finished. */
async function drain(stream: AsyncIterable<Delivery> | Iterable<Delivery>, run: (d: Delivery) => Promise<Outcome>, stop: AbortSignal, ahead: number) {
  // A counter and one waiter, not Promise.race over the set: racing attaches a handler to
  // every pending delivery on each turn, which made streaming cost 3× the CPU per message.
  let taken = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const room = () => new Promise<void>((resolve) => (wake = resolve));
  for await (const delivery of stream) {
    if (stop.aborted || failure) break; // the rest stays "planned" in the journal, for notify resume
    taken += 1;
    run(delivery)
      .catch((error: unknown) => void (failure ??= error))
      .finally(() => {
        taken -= 1;
        wake?.();
      });
    while (taken >= ahead) await room();
  }
  while (taken > 0) await room();
  if (failure) throw failure;
}

/** --strategy first: try the contact's channels in priority order until one delivers. */
async function firstThatDelivers(chain: Delivery[], run: (d: Delivery) => Promise<Outcome>, journal: Journal) {
  for (const [index, delivery] of chain.entries()) {
    const outcome = await run(delivery);
    if (outcome.status === 'failed') continue; // fall back to the next channel
    if (outcome.status === 'delivered') {
      for (const rest of chain.slice(index + 1)) {
        journal.append({ kind: 'skipped', id: rest.id, reason: `already reached by ${delivery.channel}` });
      }
    }
    return;
  }
}

function byContact(deliveries: Delivery[], priority: ChannelName[]): Map<string, Delivery[]> {
  const chains = new Map<string, Delivery[]>();
  for (const d of deliveries) chains.set(d.contact.key, [...(chains.get(d.contact.key) ?? []), d]);
  const rank = (c: ChannelName) => (priority.indexOf(c) + 1 || priority.length + 1);
  for (const chain of chains.values()) chain.sort((a, b) => rank(a.channel) - rank(b.channel));
  return chains;
}

function channelQueue(channel: ChannelName, options: DispatchOptions, grace: AbortWatch, stopped: AbortWatch) {
  const { concurrency, perSecond } = options.limits[channel] ?? { concurrency: 1 }; // every registered channel has limits
  const limit = pLimit(Math.max(1, concurrency));
  // One call every 1000/perSecond ms: evenly spaced, no bursts at window edges.
  const pace = perSecond ? pThrottle({ limit: 1, interval: 1000 / perSecond })(async () => {}) : async () => {};
  let transport: Promise<Transport> | undefined;
  let loaded = false; // the transport has settled (ready, or failed to start)
  // Set when the provider refuses the channel itself (bad credentials): every message left
  // would fail the same way, so they fail at once with that reason instead of each taking
  // a rate-limited request — with a wrong Slack token, 10,000 contacts would take 3 hours.
  let channelDown: string | undefined;

  return (delivery: Delivery) =>
    limit(async (): Promise<Outcome> => {
      const { journal, retry, stop } = options;
      // A resumed delivery keeps its attempt numbers but gets a fresh retry budget.
      const earlier = options.previousAttempts?.get(delivery.id) ?? 0;
      let attempt = earlier;
      const notSent = (why: string): Outcome => {
        const reason = `not sent: ${why}`;
        journal.append({ kind: 'failed', id: delivery.id, attempt, reason, retryable: false, final: true }, { endOfTurn: true });
        options.onProgress?.({ channel, status: 'failed' });
        return { status: 'failed', reason };
      };
      while (!stop.aborted) {
        if (channelDown) return notSent(channelDown);
        if (!loaded) {
          // Channels load one at a time: wait for this one's SDK before taking a rate slot or
          // recording an attempt, so a message stopped (Ctrl-C) meanwhile stays planned, not
          // "outcome unknown". (A channel that cannot start fails in the attempt below.)
          transport ??= options.transport(channel);
          await transport.then(() => undefined, () => undefined);
          loaded = true;
          continue;
        }
        await pace();
        if (stop.aborted) break;
        if (channelDown) return notSent(channelDown);
        attempt += 1;
        const local = options.local === true;
        if (!local) {
          // On disk before the request leaves; written with the other records of this turn.
          journal.append({ kind: 'attempting', id: delivery.id, attempt }, { endOfTurn: true });
          await journal.written();
        }
        try {
          transport ??= options.transport(channel);
          const client = await transport.catch((error: unknown) => {
            // The channel could not start (SDK missing, bad setup): nothing was sent, and the
            // same cached failure would come back on every retry. Fail at once, outcome known.
            if (error instanceof PermanentError || error instanceof RetryableError) throw error;
            throw new PermanentError(`the ${channel} channel could not start: ${error instanceof Error ? error.message : String(error)}`);
          });
          // The clock starts once the SDK is loaded: on a busy machine loading it can take
          // longer than a short --attempt-timeout, which would waste (and cast doubt on) the
          // first attempt of every channel without a byte sent.
          // The outbox answers at once and cannot hang: no timer and no AbortController per
          // message (they were the largest garbage of a dry run, promoted before dying).
          const receipt = local
            ? await client.send(delivery.message, grace.signal)
            : await withDeadline(options.limits[channel]?.attemptTimeoutMs ?? retry.attemptTimeoutMs, grace, (signal) => client.send(delivery.message, signal));
          journal.append({ kind: 'delivered', id: delivery.id, attempt, receipt }, local ? { buffered: true } : { endOfTurn: true });
          options.onProgress?.({ channel, status: 'delivered' });
          return { status: 'delivered', receipt };
        } catch (error) {
          const facts = classify(error);
          if (facts.channelWide) channelDown ??= facts.reason;
          const wait = retryDelay(facts, attempt - earlier, retry);
          const final = wait === undefined && !grace.signal.aborted;
          journal.append({
            kind: 'failed', id: delivery.id, attempt, reason: facts.reason, retryable: facts.retryable, final,
            ...(facts.outcomeUnknown && { outcomeUnknown: true }),
          }, { endOfTurn: true });
          if (final) {
            options.onProgress?.({ channel, status: 'failed' });
            return { status: 'failed', reason: facts.reason };
          }
          if (wait === undefined) break;
          options.onProgress?.({ channel, status: 'retrying' });
          await sleep(wait, stopped);
        }
      }
      return { status: 'interrupted' };
    });
}

/**
 * Run `task` with a signal that aborts after `ms` or when `cutOff` does. The timer and the
 * callback are released as soon as the task settles: AbortSignal.timeout would keep a
 * timer alive for the full time limit after every send, tens of thousands at once.
 */
async function withDeadline<T>(ms: number, cutOff: AbortWatch, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('time limit')), ms);
  const forget = cutOff.whenAborted(() => controller.abort(cutOff.signal.reason));
  try {
    return await task(controller.signal);
  } finally {
    clearTimeout(timer);
    forget();
  }
}

/** Aborts `graceMs` after `stop` aborts: the moment in-flight sends are cut off. */
function afterGrace(stop: AbortSignal, graceMs: number): AbortSignal {
  const controller = new AbortController();
  const cut = () => setTimeout(() => controller.abort(new Error('interrupted')), graceMs).unref();
  if (stop.aborted) cut();
  else stop.addEventListener('abort', cut, { once: true });
  return controller.signal;
}

function sleep(ms: number, stopped: AbortWatch): Promise<void> {
  // Already stopped (Ctrl-C came during the attempt): a callback would never fire and the
  // run would sit out the whole delay — a Retry-After can be minutes.
  if (stopped.signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      forget();
      resolve();
    }, ms);
    const forget = stopped.whenAborted(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
