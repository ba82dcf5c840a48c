/**
 * What earlier runs say about this one, for the blast-radius preview: the last live run
 * of the same scenario — how big its groups were, and whether it ever finished. Only the
 * first line of each journal and the tail of one are read, whatever their size.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { journalPath, listRuns, readRunRecord } from './journal.js';
import type { Plan } from './plan.js';
import type { Problem } from './types.js';

export interface PreviousRun {
  runId: string;
  at: string;
  groupSizes?: Record<string, number>;
  /** Its dispatch ended (a `finished` record, not interrupted) rather than being cut off. */
  complete: boolean;
}

const TAIL_BYTES = 64 * 1024;
/** Warn when a targeted group grew or shrank by more than this since the last live run. */
const GROUP_CHANGE = 0.2;
/** Warn when more than this share of the people targeted has no address on any selected channel. */
const UNREACHABLE_SHARE = 0.05;

export function previousLiveRun(scenario: string, cwd = process.cwd()): PreviousRun | undefined {
  for (const runId of listRuns(cwd).reverse()) {
    const path = journalPath(runId, cwd);
    const run = readRunRecord(path);
    if (!run || run.dryRun || run.scenario !== scenario) continue;
    return { runId, at: run.at, ...(run.groupSizes && { groupSizes: run.groupSizes }), complete: endsFinished(path) };
  }
  return undefined;
}

export function unusual(plan: Plan, now: Record<string, number>, targetGroups: string[], previous: PreviousRun | undefined): Problem[] {
  const found: Problem[] = [];
  const where = 'blast radius';
  const say = (message: string) => found.push({ where, message, group: 'blast radius' });
  const targeted = plan.recipients;
  if (targeted > 0 && plan.unreachable.length / targeted > UNREACHABLE_SHARE) {
    say(`${plan.unreachable.length} of ${targeted} people (${percent(plan.unreachable.length / targeted)}) have no address on any selected channel and will not be reached.`);
  }
  if (plan.unsuitable > 0) say(`${plan.unsuitable} message(s) go to addresses their channel cannot serve (SMS to a landline); see the warnings above.`);
  if (previous?.groupSizes) {
    for (const group of targetGroups.length > 0 ? targetGroups : Object.keys(now)) {
      const before = previous.groupSizes[group] ?? 0;
      const after = now[group] ?? 0;
      if (before > 0 && Math.abs(after - before) / before > GROUP_CHANGE) {
        say(`group "${group}" has ${after} people, ${after > before ? 'up' : 'down'} from ${before} at the last live run (${previous.runId}): check the contact list.`);
      }
    }
  }
  if (previous && !previous.complete) {
    say(`the last live run of this scenario, ${previous.runId}, never finished: to complete it instead of sending everything again, run notify resume ${previous.runId}.`);
  }
  return found;
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** Whether the journal's last complete line is a `finished` record of an uninterrupted dispatch. */
function endsFinished(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    const last = JSON.parse(lines.at(-1) ?? '{}') as { kind?: string; interrupted?: boolean };
    return last.kind === 'finished' && last.interrupted === false;
  } catch {
    return false; // torn or unreadable: not finished as far as anyone can tell
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
