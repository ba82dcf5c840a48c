/**
 * What happened in a run, from the journal's point of view: counts per channel and
 * status, every failure with its reason and, above all, every person reached on no
 * channel at all. The same object is the `--json` result and the source of the human report.
 */
import type { Damage, DeliveryState, Replayed } from './journal.js';
import type { ChannelName } from './types.js';

export interface ChannelCounts {
  planned: number;
  delivered: number;
  failed: number;
  pending: number;
  skipped: number;
}

export interface RunReport {
  runId: string;
  scenario: string;
  dryRun: boolean;
  /** Everything planned reached an end (delivered, failed or skipped). */
  complete: boolean;
  journal: string;
  channels: Record<ChannelName, ChannelCounts>;
  people: { targeted: number; reached: number; notReached: number };
  failures: { contact: string; channel: ChannelName; to: string; reason: string; attempts: number }[];
  /** People reached on no channel, with every reason. The list a crisis lead must act on. */
  notReached: { contact: string; line?: number; reasons: string[] }[];
  /** Delivered after an attempt whose outcome was unknown: the person may have it twice. */
  mayBeDuplicated: { contact: string; channel: ChannelName }[];
  /**
   * Lines of the journal that could not be read (a torn last line aside), each with what
   * it means for the deliveries: those it concerns are unknown, never silently dropped.
   */
  damaged: { line: number; record?: string; contact?: string; channel?: ChannelName; effect: string }[];
}

export function buildReport(runId: string, journal: string, replayed: Replayed): RunReport {
  const channels: RunReport['channels'] = {};
  const report: RunReport = {
    runId, journal, scenario: replayed.run?.scenario ?? '?', dryRun: replayed.run?.dryRun ?? false, complete: true,
    channels, people: { targeted: 0, reached: 0, notReached: 0 }, failures: [], notReached: [], mayBeDuplicated: [],
    damaged: replayed.damaged.map((d) => describeDamage(d, replayed)),
  };
  // By ordinal, from the compact state: who and where are read back only for those the report
  // names. A person's deliveries are side by side in the plan, numbered as one person
  // (DeliveryTable): each is settled when the next person starts. People reached are a bit
  // each; only those not reached are kept, by key.
  type Person = { name: string; line?: number; reached: boolean; reasons: string[] };
  const table = replayed.states;
  const notReached = new Map<string, Person>();
  const reached = new Uint8Array(table.peopleCount);
  let current: { contact: number; first: number; reached: boolean; reasons: string[] } | undefined;
  const settle = () => {
    if (!current) return;
    if (current.reached) reached[current.contact] = 1;
    else {
      const { contact } = table.infoOf(current.first);
      const earlier = notReached.get(contact.key);
      if (earlier) earlier.reasons.push(...current.reasons);
      else notReached.set(contact.key, { name: contact.name, ...(contact.line && { line: contact.line }), reached: false, reasons: current.reasons });
    }
    current = undefined;
  };
  for (let i = 0; i < table.size; i++) {
    const channel = table.channelOf(i);
    const status = table.statusOf(i);
    const counts = (channels[channel] ??= { planned: 0, delivered: 0, failed: 0, pending: 0, skipped: 0 });
    counts.planned += 1;
    counts[status === 'attempting' ? 'pending' : status] += 1;
    if (status === 'pending' || status === 'attempting') report.complete = false;
    if (status === 'failed') {
      const delivery = table.infoOf(i);
      report.failures.push({
        contact: delivery.contact.name, channel, to: delivery.to,
        reason: table.reasonOf(i) ?? 'unknown', attempts: table.attemptsOf(i),
      });
    }
    if (table.isDuplicated(i)) report.mayBeDuplicated.push({ contact: table.infoOf(i).contact.name, channel });
    if (table.isBroadcast(i)) continue;
    const contact = table.contactOf(i);
    if (current?.contact !== contact) {
      settle();
      current = { contact, first: i, reached: false, reasons: [] };
    }
    // Only a delivery reaches someone. A skip is no proof: --strategy first skips because
    // another channel delivered (that one marks the person reached), but --skip-unknown
    // skips a message that may never have arrived.
    if (status === 'delivered') current.reached = true;
    else current.reasons.push(`${channel}: ${whyNotDelivered({ status, reason: table.reasonOf(i), damagedLine: table.damagedLineOf(i) })}`);
  }
  settle();
  const reachedCount = reached.reduce((n, bit) => n + bit, 0);
  // Planned messages whose record is damaged: they cannot be sent again, and are never forgotten.
  // (Damaged journals only: then the keys of the people reached are read back, to match them.)
  const reachedKeys = replayed.lost.length > 0 ? keysOfReached(replayed, reached) : new Set<string>();
  for (const lost of replayed.lost) {
    if (lost.channel) {
      const counts = (channels[lost.channel] ??= { planned: 0, delivered: 0, failed: 0, pending: 0, skipped: 0 });
      counts.planned += 1;
      counts[lost.delivered ? 'delivered' : 'pending'] += 1;
    }
    if (!lost.delivered) report.complete = false;
    const key = lost.contact?.key ?? `damaged:${lost.line}`;
    if (reachedKeys.has(key)) continue; // reached on another channel: what was lost changes nothing for them
    const person = notReached.get(key) ?? {
      name: lost.contact?.name ?? `unknown recipient (journal line ${lost.line})`, reached: false, reasons: [],
      ...(lost.contact?.line && { line: lost.contact.line }),
    };
    notReached.set(key, person);
    if (lost.delivered) person.reached = true;
    else person.reasons.push(`${lost.channel ?? 'a channel'}: ${LOST_REASON(lost.line)}`);
  }
  for (const entry of replayed.unreachable) {
    notReached.set(entry.contact.key, {
      name: entry.contact.name, reached: false, reasons: [entry.reason], ...(entry.contact.line && { line: entry.contact.line }),
    });
  }
  report.people.targeted += reachedCount;
  report.people.reached += reachedCount;
  for (const person of notReached.values()) {
    report.people.targeted += 1;
    if (person.reached) report.people.reached += 1;
    else report.notReached.push({ contact: person.name, ...(person.line && { line: person.line }), reasons: person.reasons });
  }
  report.people.notReached = report.notReached.length;
  return report;
}

/** The keys of the people reached, read back from one planned record each. */
function keysOfReached(replayed: Replayed, reached: Uint8Array): Set<string> {
  const table = replayed.states;
  const keys = new Set<string>();
  for (let i = 0; i < table.size; i++) {
    const contact = table.contactOf(i);
    if (reached[contact] !== 1 || table.isBroadcast(i)) continue;
    keys.add(table.infoOf(i).contact.key);
    reached[contact] = 2; // its key is known
  }
  return keys;
}

const LOST_REASON = (line: number) =>
  `its planned record (journal line ${line}) cannot be read, so the message cannot be sent again: reach them another way`;

function whyNotDelivered(state: Pick<DeliveryState, 'status' | 'reason' | 'damagedLine'>): string {
  switch (state.status) {
    case 'failed':
    case 'skipped':
      return state.reason ?? 'unknown';
    case 'attempting':
      return state.damagedLine !== undefined
        ? `a journal record about it (line ${state.damagedLine}) cannot be read: outcome unknown (notify resume --ignore-damaged sends it again)`
        : 'interrupted while sending: outcome unknown (notify resume sends it again)';
    default:
      return 'not sent yet';
  }
}

/** One damaged line, and what it means for the deliveries, in words. */
function describeDamage(damage: Damage, replayed: Replayed): RunReport['damaged'][number] {
  const state = damage.id ? replayed.states.get(damage.id) : undefined;
  const lost = replayed.lost.find((l) => l.line === damage.line);
  const contact = state?.delivery.contact.name ?? lost?.contact?.name ?? damage.contact?.name;
  const channel = state?.delivery.channel ?? lost?.channel ?? damage.channel;
  const about = { line: damage.line, ...(damage.kind && { record: damage.kind }), ...(contact && { contact }), ...(channel && { channel }) };
  const count = damage.missing ?? 1;
  let effect: string;
  if (damage.problem === 'out-of-order') {
    effect = 'a record numbered out of order (was this run resumed twice at the same time?); it was read as it is';
  } else if (state) {
    effect = state.status === 'attempting' && state.damagedLine === damage.line
      ? 'cannot be read: the outcome of this message is unknown (notify resume --ignore-damaged sends it again; it may arrive twice)'
      : `cannot be read, but a later record settles this message (${state.status})`;
  } else if (damage.kind === 'planned') {
    const delivered = lost?.delivered ? '; a later record shows it was delivered' : ': it cannot be sent again; reach the recipient another way';
    effect = damage.problem === 'missing'
      ? `${count} planned message(s) missing here${delivered}`
      : `a planned message that cannot be read${delivered}`;
  } else if (damage.kind === 'run') {
    effect = 'the run record cannot be read: the scenario and options of this run are unknown';
  } else if (damage.kind === 'unreachable') {
    effect = 'a person with no address on the selected channels: listed as not reached';
  } else {
    effect = `${damage.problem === 'missing' ? `${count} record(s) missing here` : 'cannot be read'}: what it recorded is unknown (a message it recorded as delivered may be sent again by resume)`;
  }
  return { ...about, effect };
}
