/**
 * When did sending happen? Two observers, so the CLI's start-up is kept apart from its
 * send phase:
 * - the run's journal (`.notify/runs/<id>.jsonl`): per channel, the first "attempting"
 *   record to the last "delivered" one, in the CLI's own clock (ISO, milliseconds);
 * - the fakes: the moment each message was accepted, recorded in this process.
 */
import { readJournal } from '../src/core/journal.js';
import type { ProviderFake } from '../test/fakes/provider.js';
import { now } from './process.js';

export interface Span {
  messages: number;
  firstStartMs: number;
  lastEndMs: number;
}

export const spanMs = (s: Span) => s.lastEndMs - s.firstStartMs;
/** Messages per second over a span; the same formula for the CLI and the baselines. */
export const perSecond = (s: Span) => (s.messages * 1000) / Math.max(1, spanMs(s));

export function overall(spans: Span[]): Span {
  return {
    messages: spans.reduce((n, s) => n + s.messages, 0),
    firstStartMs: Math.min(...spans.map((s) => s.firstStartMs)),
    lastEndMs: Math.max(...spans.map((s) => s.lastEndMs)),
  };
}

interface JournalLine {
  kind: string;
  at: string;
  id?: string;
  channel?: string;
  message?: { to: string; subject?: string; text: string; html?: string };
}

export interface JournalRead {
  /** Per channel: first attempt → last delivery. */
  spans: Record<string, Span>;
  /** What was planned per channel, as rendered (the baselines send the same). */
  planned: Record<string, { id: string; to: string; subject?: string; text: string; html?: string }[]>;
}

export function readRunJournal(cwd: string, runId: string): JournalRead {
  // notify's own reader: planned records come back with their message from the run's message store.
  const entries = readJournal(runId, cwd) as unknown as JournalLine[];
  const channelOf = new Map<string, string>();
  const spans: Record<string, Span> = {};
  const planned: JournalRead['planned'] = {};
  for (const entry of entries) {
    if (entry.kind === 'planned' && entry.id && entry.channel && entry.message) {
      channelOf.set(entry.id, entry.channel);
      (planned[entry.channel] ??= []).push({ id: entry.id, ...entry.message });
      continue;
    }
    const channel = entry.id === undefined ? undefined : channelOf.get(entry.id);
    if (!channel) continue;
    const span = (spans[channel] ??= { messages: 0, firstStartMs: Infinity, lastEndMs: 0 });
    const at = Date.parse(entry.at);
    if (entry.kind === 'attempting') span.firstStartMs = Math.min(span.firstStartMs, at);
    if (entry.kind === 'delivered') {
      span.messages += 1;
      span.lastEndMs = Math.max(span.lastEndMs, at);
    }
  }
  return { spans, planned };
}

/** Records the arrival time of every message a fake accepts (it pushes to `messages`). */
export class Arrivals {
  private readonly times = new Map<string, number[]>();

  watch(channel: string, fake: ProviderFake): void {
    const times: number[] = [];
    this.times.set(channel, times);
    const push = fake.messages.push.bind(fake.messages);
    // The fakes call messages.push() the moment they accept a message; an own property
    // on this one array shadows Array.prototype.push without touching the fake's code.
    fake.messages.push = (...items) => {
      const at = now();
      for (let i = 0; i < items.length; i++) times.push(at);
      return push(...items);
    };
  }

  reset(): void {
    for (const times of this.times.values()) times.length = 0;
  }

  first(channel?: string): number | undefined {
    const firsts = [...this.times.entries()].filter(([c]) => !channel || c === channel).map(([, t]) => t[0]).filter((t) => t !== undefined);
    return firsts.length ? Math.min(...firsts) : undefined;
  }

  count(channel: string): number {
    return this.times.get(channel)?.length ?? 0;
  }

  span(channel: string): Span | undefined {
    const times = this.times.get(channel);
    if (!times?.length) return undefined;
    return { messages: times.length, firstStartMs: times[0]!, lastEndMs: times.at(-1)! };
  }
}
