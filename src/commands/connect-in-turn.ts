/**
 * Channels connect one at a time, and each starts sending as soon as its own transport is
 * ready. Loading an SDK is synchronous work on this one thread (twilio takes ~100–200 ms of
 * CPU, node-telegram-bot-api ~20–40): started together, they all finish together, and the
 * first message waits for every one of them.
 */
import type { ChannelName } from '../core/types.js';

/**
 * How long the next channel's SDK waits for the first answer to the channel before it: a
 * load blocks the thread, so started at once it would hold back the request that is about
 * to leave. Beyond this (a slow provider), the load goes ahead.
 */
const FIRST_ANSWER_WAIT_MS = 100;

export interface Connections<T> {
  /** For the dispatcher: this channel's transport, once its turn has come and it is ready. */
  transport(channel: ChannelName): Promise<T>;
  /** The dispatcher heard back from this channel (delivered, failed or retrying): the next may load. */
  answered(channel: ChannelName): void;
  /** Every transport asked for or under way, to close them at the end. */
  all(): Promise<T>[];
}

/**
 * The channels in `order` connect in turn, the first at once; a channel outside it on first
 * use. One that cannot connect does not hold up the next (its deliveries fail with the
 * reason, in dispatch). Once `stop` is aborted (Ctrl-C), the channels still waiting for
 * their turn are not loaded at all.
 */
export function connectInTurn<T>(
  order: Iterable<ChannelName>, connect: (channel: ChannelName) => Promise<T>, stop?: AbortSignal,
): Connections<T> {
  const connected = new Map<ChannelName, Promise<T>>();
  const answers = new Map<ChannelName, () => void>();
  let previous: Promise<unknown> = Promise.resolve();
  for (const channel of order) {
    if (connected.has(channel)) continue;
    const transport = previous.then(() => {
      if (stop?.aborted) throw new Error(`stopped before the ${channel} channel was loaded`);
      return connect(channel);
    });
    connected.set(channel, transport);
    const answered = new Promise<void>((resolve) => answers.set(channel, resolve));
    // (The rejection handler also keeps a channel that cannot start from being an unhandled rejection.)
    previous = transport.then(() => firstOf(answered, FIRST_ANSWER_WAIT_MS), () => undefined);
  }
  return {
    transport(channel) {
      let transport = connected.get(channel);
      if (!transport) connected.set(channel, (transport = connect(channel)));
      return transport;
    },
    answered: (channel) => answers.get(channel)?.(),
    all: () => [...connected.values()],
  };
}

/** `promise`, or `ms` milliseconds, whichever comes first. */
function firstOf(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
