/**
 * What happened in a run, from the journal's point of view: counts per channel and
 * status, every failure with its reason and, above all, every person reached on no
 * channel at all. The same object is the `--json` result and the source of the human report.
 */
import type { DeliveryState, Replayed } from './journal.js';
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
}

export function buildReport(runId: string, journal: string, replayed: Replayed): RunReport {
  const channels: RunReport['channels'] = {};
  const byPerson = new Map<string, { name: string; line?: number; reached: boolean; reasons: string[] }>();
  const report: RunReport = {
    runId, journal, scenario: replayed.run?.scenario ?? '?', dryRun: replayed.run?.dryRun ?? false, complete: true,
    channels, people: { targeted: 0, reached: 0, notReached: 0 }, failures: [], notReached: [], mayBeDuplicated: [],
  };
  for (const state of replayed.states.values()) {
    const { delivery } = state;
    const counts = (channels[delivery.channel] ??= { planned: 0, delivered: 0, failed: 0, pending: 0, skipped: 0 });
    counts.planned += 1;
    counts[countKey(state)] += 1;
    if (state.status === 'pending' || state.status === 'attempting') report.complete = false;
    if (state.status === 'failed') {
      report.failures.push({
        contact: delivery.contact.name, channel: delivery.channel, to: delivery.to,
        reason: state.reason ?? 'unknown', attempts: state.attempts,
      });
    }
    if (state.mayBeDuplicated) report.mayBeDuplicated.push({ contact: delivery.contact.name, channel: delivery.channel });
    if (delivery.contact.key.startsWith('broadcast:')) continue;
    const person = byPerson.get(delivery.contact.key) ?? {
      name: delivery.contact.name, reached: false, reasons: [], ...(delivery.contact.line && { line: delivery.contact.line }),
    };
    byPerson.set(delivery.contact.key, person);
    // Only a delivery reaches someone. A skip is no proof: --strategy first skips because
    // another channel delivered (that one marks the person reached), but --skip-unknown
    // skips a message that may never have arrived.
    if (state.status === 'delivered') person.reached = true;
    else person.reasons.push(`${delivery.channel}: ${whyNotDelivered(state)}`);
  }
  for (const entry of replayed.unreachable) {
    byPerson.set(entry.contact.key, {
      name: entry.contact.name, reached: false, reasons: [entry.reason], ...(entry.contact.line && { line: entry.contact.line }),
    });
  }
  for (const person of byPerson.values()) {
    report.people.targeted += 1;
    if (person.reached) report.people.reached += 1;
    else report.notReached.push({ contact: person.name, ...(person.line && { line: person.line }), reasons: person.reasons });
  }
  report.people.notReached = report.notReached.length;
  return report;
}

function whyNotDelivered(state: DeliveryState): string {
  switch (state.status) {
    case 'failed':
    case 'skipped':
      return state.reason ?? 'unknown';
    case 'attempting':
      return 'interrupted while sending: outcome unknown (notify resume sends it again)';
    default:
      return 'not sent yet';
  }
}

function countKey(state: DeliveryState): keyof Omit<ChannelCounts, 'planned'> {
  return state.status === 'attempting' ? 'pending' : state.status;
}
