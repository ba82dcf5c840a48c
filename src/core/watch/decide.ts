/**
 * The watcher's judgement, as pure functions of what it remembers and what one round saw:
 * no clock, no network, no files. The command feeds them rounds; the tests feed them
 * rounds too, without waiting.
 *
 * - A **round fails** when at least `agree` probes fail in it: one flaky endpoint alone
 *   never counts.
 * - The service is **down** after `downAfter.failed` failed rounds among the last
 *   `downAfter.of` (3 of 4 by default).
 * - Once down, it is **up** again after `upAfter` clean rounds in a row; the window then
 *   starts afresh, so a new outage needs N new failed rounds.
 */
import { clockTime, formatDuration } from '../duration.js';

export interface Rules {
  downAfter: { failed: number; of: number };
  agree: number;
  upAfter: number;
}

export interface RoundMark {
  at: string;
  failed: boolean;
  /** Names of the probes that failed in this round (even when too few to fail it). */
  failing: string[];
}

/** What the watcher carries from round to round (and across restarts, in state.json). */
export interface Memory {
  status: 'up' | 'down';
  /** While down: when the outage began (the first failed round that led to the verdict). */
  downSince?: string;
  /** The last `downAfter.of` rounds, oldest first. */
  window: RoundMark[];
  /** Clean rounds in a row since the last failed one. */
  cleanStreak: number;
  /** Rounds run so far, for the record. */
  rounds: number;
}

export const FRESH: Memory = { status: 'up', window: [], cleanStreak: 0, rounds: 0 };

export interface Decision {
  memory: Memory;
  /** Set on the round the verdict flips. */
  change?: 'down' | 'up';
  roundFailed: boolean;
  /** Failed rounds in the window, after this one. */
  failedRounds: number;
  /** The verdict and its reasons, in plain words, one or two sentences. */
  explanation: string;
}

export interface Seen {
  at: Date;
  /** Probes that failed this round, by name. */
  failing: string[];
  /** Probes in the round. */
  total: number;
}

export function decide(previous: Memory, seen: Seen, rules: Rules, service: string): Decision {
  const roundFailed = seen.failing.length >= rules.agree;
  const mark: RoundMark = { at: seen.at.toISOString(), failed: roundFailed, failing: seen.failing };
  const window = [...previous.window, mark].slice(-rules.downAfter.of);
  const failedRounds = window.filter((r) => r.failed).length;
  const cleanStreak = roundFailed ? 0 : previous.cleanStreak + 1;
  const memory: Memory = { ...previous, window, cleanStreak, rounds: previous.rounds + 1 };
  const parts = [describeRound(seen, rules, roundFailed)];
  const when = (iso: string) => clockTime(new Date(iso), seen.at);
  const { failed: n, of: m } = rules.downAfter;

  if (previous.status === 'up') {
    if (failedRounds >= n) {
      memory.status = 'down';
      memory.downSince = window.find((r) => r.failed)!.at;
      parts.push(`That makes ${failedRounds} failed rounds of the last ${window.length} (the limit is ${n} of ${m}): ${service} looks DOWN since ${when(memory.downSince)}.`);
      return { memory, change: 'down', roundFailed, failedRounds, explanation: parts.join(' ') };
    }
    parts.push(failedRounds === 0
      ? `No failed round among the last ${window.length}: ${service} looks up.`
      : `Failed rounds: ${failedRounds} of the last ${window.length}; down needs ${n} of ${m}, so ${service} still counts as up.`);
    return { memory, roundFailed, failedRounds, explanation: parts.join(' ') };
  }

  const since = previous.downSince ? when(previous.downSince) : 'earlier';
  if (cleanStreak >= rules.upAfter) {
    const lasted = previous.downSince ? `, ${formatDuration(seen.at.getTime() - Date.parse(previous.downSince))}` : '';
    parts.push(`${cleanStreak} clean rounds in a row: ${service} looks back UP (down since ${since}${lasted}).`);
    const up: Memory = { status: 'up', window: [], cleanStreak, rounds: memory.rounds };
    return { memory: up, change: 'up', roundFailed, failedRounds: 0, explanation: parts.join(' ') };
  }
  parts.push(roundFailed
    ? `${service} still looks down (since ${since}); it is called back up after ${rules.upAfter} clean rounds in a row.`
    : `${service} still counts as down (since ${since}): ${cleanStreak} clean round${cleanStreak > 1 ? 's' : ''} of the ${rules.upAfter} in a row needed to call it back up.`);
  return { memory, roundFailed, failedRounds, explanation: parts.join(' ') };
}

function describeRound(seen: Seen, rules: Rules, roundFailed: boolean): string {
  const names = seen.failing.join(', ');
  if (seen.failing.length === 0) return `All ${seen.total} probe${seen.total > 1 ? 's' : ''} passed: a clean round.`;
  if (!roundFailed) {
    return `${seen.failing.length} of ${seen.total} probes failed (${names}); that alone does not count, a round fails only when at least ${rules.agree} probes agree: a clean round.`;
  }
  return `${seen.failing.length} of ${seen.total} probes failed (${names}): a failed round.`;
}

export interface OpenIncident {
  /** The scenario of the last customer update (outage or update). */
  scenario: string;
  runId: string;
  /** When that update was sent. */
  at: Date;
}

/**
 * The reminder due now, if any: one per due time (the last customer update plus
 * `update_every`), never twice for the same one, even across restarts (`remindedFor`).
 */
export function reminderDue(incident: OpenIncident | undefined, everyMs: number | undefined, remindedFor: string | undefined, now: Date): { dueAt: Date } | undefined {
  if (!incident || everyMs === undefined) return undefined;
  const dueAt = new Date(incident.at.getTime() + everyMs);
  if (now < dueAt || remindedFor === dueAt.toISOString()) return undefined;
  return { dueAt };
}
