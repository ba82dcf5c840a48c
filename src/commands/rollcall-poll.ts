/**
 * One roll-call poll of a run: ask every channel that can hear back (the transports' `poll`)
 * for replies and final statuses since the run started, and record what is new in the
 * run's journal — each reply and receipt once, with the channel's cursor — so that two
 * polls never count a reply twice and a restarted watch picks up where it stopped.
 */
import { channelNamed } from '../channels/index.js';
import type { Transport } from '../core/channel.js';
import type { Config } from '../config.js';
import type { Answers } from '../core/answers.js';
import type { Journal } from '../core/journal.js';
import { readRollCall, recordFor, sentOn, type RollCallState } from '../core/rollcall.js';
import type { ChannelName } from '../core/types.js';

/** One poll of a channel may take this long (Slack paces ~50 calls a minute). */
const POLL_TIMEOUT_MS = 120_000;

export interface Pollers {
  transports: Map<ChannelName, Transport>;
  /** Channels that cannot hear back, and why (not configured, no inbound, IMAP_URL unset…). */
  deaf: Map<ChannelName, string>;
  close(): Promise<void>;
}

/** Connect the run's channels that can poll. Nothing is sent. */
export async function connectPollers(config: Config, channels: Iterable<ChannelName>): Promise<Pollers> {
  const transports = new Map<ChannelName, Transport>();
  const deaf = new Map<ChannelName, string>();
  await Promise.all([...new Set(channels)].map(async (name) => {
    const channel = channelNamed(name);
    const missing = channel.missingConfig(config);
    if (missing.length > 0) return void deaf.set(name, `not configured (${missing.join(', ')})`);
    try {
      const transport = await channel.connect(config);
      if (transport.poll) transports.set(name, transport);
      else {
        deaf.set(name, 'this channel cannot hear back (no replies to read)');
        await transport.close();
      }
    } catch (error) {
      deaf.set(name, (error as Error).message);
    }
  }));
  return { transports, deaf, close: async () => void (await Promise.allSettled([...transports.values()].map((t) => t.close()))) };
}

export interface PollOutcome {
  state: RollCallState;
  /** Records appended by this poll (replies and receipts), for "one line per change". */
  added: number;
  /** Channels whose poll failed, with the reason (the others still count). */
  problems: Map<ChannelName, string>;
}

export async function pollOnce(
  runId: string, path: string, journal: Journal, pollers: Pollers, answers: Answers, options: { replies: boolean; signal: AbortSignal },
): Promise<PollOutcome> {
  const before = readRollCall(runId, path);
  const problems = new Map<ChannelName, string>();
  let added = 0;
  await Promise.all([...pollers.transports].map(async ([channel, transport]) => {
    const sent = sentOn(before, channel);
    if (sent.length === 0) return;
    const cursor = before.cursors.get(channel);
    let result;
    try {
      result = await transport.poll!({ since: before.since, sent, receipts: true, ...(cursor !== undefined && { cursor }) }, AbortSignal.any([options.signal, AbortSignal.timeout(POLL_TIMEOUT_MS)]));
    } catch (error) {
      if (!options.signal.aborted) problems.set(channel, (error as Error).message);
      return;
    }
    if (result.problem) problems.set(channel, result.problem);
    // Journal appends are synchronous: a record is on disk before the next one is made.
    for (const receipt of result.receipts) {
      if (before.settled.has(receipt.deliveryId)) continue;
      journal.append({ kind: 'receipt', id: receipt.deliveryId, status: receipt.status, ...(receipt.code && { code: receipt.code }), ...(receipt.reason && { reason: receipt.reason }) });
      added += 1;
    }
    if (!options.replies) return;
    const fresh = result.replies.map((r) => recordFor(before, channel, r, answers)).filter((r) => r !== undefined);
    fresh.forEach((record, i) => {
      // The cursor goes with the last reply: it moves on only once the replies before it are recorded.
      journal.append(i === fresh.length - 1 && result.cursor !== undefined ? { ...record, cursor: result.cursor } : record);
      before.heard.add(`${channel}\0${record.providerId}`);
      added += 1;
    });
  }));
  return { state: added > 0 ? readRollCall(runId, path) : before, added, problems };
}
