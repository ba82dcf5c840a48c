/**
 * The roll call of a run, folded from its journal: who answered what, who is silent, who
 * was never reached — and what the next poll must not count again (the replies and
 * receipts already recorded, each channel's cursor). Pure: no provider, no clock of its
 * own; `notify rollcall` polls, records, and asks this module what it all means.
 *
 * Rules a crisis lead can rely on:
 * - a later answer replaces an earlier one; both stay in the journal;
 * - a reply that is not an answer is shown verbatim, never dropped, and does not erase an
 *   answer given before it ("1" then "merci" stays "1");
 * - a message accepted and later reported undelivered does not reach anybody.
 */
import { readReaction, readReply, type Answers } from './answers.js';
import type { InboundReply, SentMessage } from './channel.js';
import { journalItems, readRun, type DeliveryState, type JournalEntry, type Replayed } from './journal.js';
import type { ChannelName } from './types.js';

type Reply = Extract<JournalEntry, { kind: 'reply' }>;
type Reminder = Extract<JournalEntry, { kind: 'reminder' }>;
type Escalation = Extract<JournalEntry, { kind: 'escalation' }>;

export interface Person {
  key: string;
  name: string;
  line?: number;
  deliveries: DeliveryState[];
  /** The answer that counts (the latest recognised one). */
  answer?: { key: string; channel: ChannelName; at: string; text: string };
  /** Replies that are not answers, verbatim, oldest first. */
  unrecognised: { channel: ChannelName; at: string; text: string }[];
  optedOut?: { channel: ChannelName; at: string };
  reminders: Reminder[];
  escalation?: Escalation;
  /** Why nobody could reach them (no address, every message failed or undelivered). */
  unreachable?: string;
}

export interface RollCallState {
  runId: string;
  scenario: string;
  /** When the run started: nothing older is a reply to it. */
  since: Date;
  replayed: Replayed;
  people: Map<string, Person>;
  /** `channel\0providerId` of every reply recorded. */
  heard: Set<string>;
  /** Deliveries (and reminders) with a final status recorded. */
  settled: Set<string>;
  /** What each delivered message's provider called it, and when it was accepted. */
  accepted: Map<string, { providerId: string; at: string }>;
  cursors: Map<ChannelName, string>;
  /** Replies from nobody on the list, verbatim. */
  strangers: Reply[];
  /** Addresses that opted out during this run (STOP, or Twilio 21610). */
  optOuts: { channel: ChannelName; address: string; at: string }[];
}

/** Read a run's journal into its roll call (two streamed passes: deliveries, then roll-call records). */
export function readRollCall(runId: string, path: string): RollCallState {
  const replayed = readRun(path);
  const state: RollCallState = {
    runId, scenario: replayed.run?.scenario ?? '?', since: new Date(0), replayed, people: new Map(),
    heard: new Set(), settled: new Set(), accepted: new Map(), cursors: new Map(), strangers: [], optOuts: [],
  };
  const person = (key: string, name: string, line?: number) => {
    let p = state.people.get(key);
    if (!p) state.people.set(key, (p = { key, name, deliveries: [], unrecognised: [], reminders: [], ...(line && { line }) }));
    return p;
  };
  for (const s of replayed.states.values()) {
    if (s.delivery.contact.key.startsWith('broadcast:')) continue;
    person(s.delivery.contact.key, s.delivery.contact.name, s.delivery.contact.line).deliveries.push(s);
  }
  for (const u of replayed.unreachable) person(u.contact.key, u.contact.name, u.contact.line).unreachable = u.reason;
  for (const item of journalItems(path)) {
    if (!('entry' in item)) continue;
    const e = item.entry;
    if (e.kind === 'run') state.since = new Date(e.at);
    else if (e.kind === 'reply') foldReply(state, e);
    else if (e.kind === 'receipt') state.settled.add(e.id);
    else if (e.kind === 'delivered') state.accepted.set(e.id, { providerId: e.receipt.providerId, at: e.at });
    else if (e.kind === 'reminder' && state.people.has(e.contact)) state.people.get(e.contact)!.reminders.push(e);
    else if (e.kind === 'escalation' && state.people.has(e.contact)) state.people.get(e.contact)!.escalation = e;
  }
  for (const p of state.people.values()) {
    for (const d of p.deliveries) {
      // Twilio 21610: the number replied STOP to this sender before; it is an opt-out too.
      if (d.status === 'failed' && /opted out/.test(d.reason ?? '')) state.optOuts.push({ channel: d.delivery.channel, address: d.delivery.to, at: state.since.toISOString() });
    }
    if (!p.unreachable && p.deliveries.length > 0 && !p.deliveries.some((d) => d.status === 'delivered' || d.status === 'pending' || d.status === 'attempting')) {
      p.unreachable = p.deliveries.map((d) => `${d.delivery.channel}: ${d.reason ?? d.status}`).join('; ');
    }
  }
  return state;
}

function foldReply(state: RollCallState, r: Reply): void {
  state.heard.add(`${r.channel}\0${r.providerId}`);
  if (r.cursor !== undefined) state.cursors.set(r.channel, r.cursor);
  const p = r.contact ? state.people.get(r.contact) : undefined;
  if (!p) return void state.strangers.push(r);
  if (r.answer !== undefined) {
    if (!p.answer || p.answer.at <= r.sentAt) p.answer = { key: r.answer, channel: r.channel, at: r.sentAt, text: r.text };
  } else if (r.optOut) {
    p.optedOut = { channel: r.channel, at: r.sentAt };
    const to = p.deliveries.find((d) => d.delivery.channel === r.channel)?.delivery.to;
    if (to) state.optOuts.push({ channel: r.channel, address: to, at: r.sentAt });
  } else {
    p.unrecognised.push({ channel: r.channel, at: r.sentAt, text: r.text });
  }
}

/** What a channel's poll needs: our accepted messages on it (planned and reminders), and its cursor. */
export function sentOn(state: RollCallState, channel: ChannelName): SentMessage[] {
  const sent: SentMessage[] = [];
  for (const s of state.replayed.states.values()) {
    if (s.delivery.channel !== channel || s.status === 'pending' || s.status === 'attempting' || s.status === 'skipped') continue;
    const providerId = state.accepted.get(s.delivery.id)?.providerId;
    if (!providerId) continue;
    sent.push({ deliveryId: s.delivery.id, to: s.delivery.to, providerId, settled: state.settled.has(s.delivery.id) || s.status === 'failed' });
  }
  for (const p of state.people.values()) {
    for (const r of p.reminders) {
      if (r.channel === channel && r.providerId) sent.push({ deliveryId: r.id, to: r.to, providerId: r.providerId, settled: true });
    }
  }
  return sent;
}

/**
 * A polled reply → the record to append, or undefined when it was recorded before. The
 * sender is the person the provider says it answers (a thread, In-Reply-To), else the
 * person whose address on that channel it came from.
 */
export function recordFor(state: RollCallState, channel: ChannelName, reply: InboundReply, answers: Answers): Omit<Reply, 'at' | 'seq'> | undefined {
  if (state.heard.has(`${channel}\0${reply.providerId}`)) return undefined;
  const contact = whoSent(state, channel, reply);
  const meaning = reply.reaction ? readReaction(reply.text, answers) : readReply(reply.text, answers);
  return {
    kind: 'reply', channel, providerId: reply.providerId, text: reply.text.slice(0, 500), sentAt: reply.at,
    ...(contact && { contact }),
    ...('answer' in meaning && { answer: meaning.answer }),
    ...('optOut' in meaning && !reply.reaction && { optOut: true as const }),
  };
}

function whoSent(state: RollCallState, channel: ChannelName, reply: InboundReply): string | undefined {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  for (const p of state.people.values()) {
    if (reply.deliveryId && (p.deliveries.some((d) => d.delivery.id === reply.deliveryId) || p.reminders.some((r) => r.id === reply.deliveryId))) {
      // A thread of a personal message: the person it was sent to — unless someone else wrote in it.
      const to = p.deliveries.find((d) => d.delivery.channel === channel)?.delivery.to;
      if (!to || channel !== 'slack' || same(to, reply.from)) return p.key;
    }
  }
  for (const p of state.people.values()) {
    if (p.deliveries.some((d) => d.delivery.channel === channel && same(d.delivery.to, reply.from))) return p.key;
  }
  return undefined;
}

export type Status = 'answered' | 'silent' | 'unreachable';

export interface RollCallPerson {
  name: string;
  status: Status;
  answer: string | null;
  label: string | null;
  via: ChannelName | null;
  at: string | null;
  /** Replies that were not answers, verbatim. */
  unrecognised: string[];
  optedOut: boolean;
  reminders: number;
  escalated: boolean;
  /** A voice call's outcome: the only thing a call can tell. */
  call?: 'answered' | 'unanswered';
  /** Why they are unreachable. */
  reason?: string;
}

export interface Tally {
  runId: string;
  scenario: string;
  since: string;
  answers: Record<string, string>;
  counts: Record<string, number> & { silent: number; unreachable: number; unrecognised: number; optedOut: number };
  people: RollCallPerson[];
  /** Replies from senders on nobody's list, verbatim. */
  strangers: { channel: ChannelName; text: string; at: string }[];
  complete: boolean;
}

export function tally(state: RollCallState, answers: Answers): Tally {
  const counts: Tally['counts'] = { ...Object.fromEntries(Object.keys(answers.labels).map((k) => [k, 0])), silent: 0, unreachable: 0, unrecognised: 0, optedOut: 0 };
  const people: RollCallPerson[] = [];
  for (const p of state.people.values()) {
    const status: Status = p.answer ? 'answered' : p.unreachable ? 'unreachable' : 'silent';
    counts[status === 'answered' ? p.answer!.key : status] = (counts[status === 'answered' ? p.answer!.key : status] ?? 0) + 1;
    if (p.unrecognised.length > 0) counts.unrecognised += 1;
    if (p.optedOut) counts.optedOut += 1;
    const call = p.deliveries.find((d) => d.delivery.channel === 'voice' && (d.status === 'delivered' || d.status === 'failed'));
    people.push({
      name: p.name, status,
      answer: p.answer?.key ?? null, label: p.answer ? answers.labels[p.answer.key] ?? null : null,
      via: p.answer?.channel ?? null, at: p.answer?.at ?? null,
      unrecognised: p.unrecognised.map((u) => u.text), optedOut: Boolean(p.optedOut),
      reminders: p.reminders.filter((r) => !r.failed).length, escalated: Boolean(p.escalation && !p.escalation.failed),
      ...(call && { call: call.status === 'delivered' ? 'answered' as const : 'unanswered' as const }),
      ...(status === 'unreachable' && { reason: p.unreachable }),
    });
  }
  people.sort((a, b) => order(a.status) - order(b.status) || a.name.localeCompare(b.name));
  return {
    runId: state.runId, scenario: state.scenario, since: state.since.toISOString(), answers: answers.labels, counts, people,
    strangers: state.strangers.map((s) => ({ channel: s.channel, text: s.text, at: s.sentAt })),
    complete: people.every((p) => p.status === 'answered'),
  };
}

const order = (s: Status) => (s === 'silent' ? 0 : s === 'unreachable' ? 1 : 2);

/** When the person was last sent something (a delivery or a reminder), and on which channel. */
export function lastContact(state: RollCallState, p: Person): { at: string; channel: ChannelName } | undefined {
  let last: { at: string; channel: ChannelName } | undefined;
  for (const d of p.deliveries) {
    const at = d.status === 'delivered' ? state.accepted.get(d.delivery.id)?.at : undefined;
    if (at && (!last || at > last.at)) last = { at, channel: d.delivery.channel };
  }
  for (const r of p.reminders) if (!r.failed && (!last || r.at > last.at)) last = { at: r.at, channel: r.channel };
  return last;
}
