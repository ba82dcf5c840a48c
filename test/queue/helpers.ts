/** Workers as separate `notify worker` processes, and what the journal says each did. */
import type { JournalEntry } from '../../src/core/journal.js';
import { startCli, waitUntil, type LiveRun } from '../delivery/helpers.js';

/** Start `count` workers and wait until each has said it is serving (its heartbeat is then written). */
export async function startWorkers(count: number, options: { cwd: string; env: Record<string, string>; args?: string[] }): Promise<LiveRun[]> {
  const workers = Array.from({ length: count }, () => startCli(['worker', ...(options.args ?? [])], options));
  await Promise.all(workers.map((w) => waitUntil(() => /serving/.test(w.stderr()), w, 'the worker started')));
  return workers;
}

export async function stopWorkers(workers: LiveRun[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.done));
}

/** The worker id a process announced ("notify worker <id>: serving …"). */
export const workerIdOf = (w: LiveRun) => /notify worker (\S+): serving/.exec(w.stderr())?.[1];

type Tagged = JournalEntry & { worker?: string };

/**
 * Deliveries a worker had in flight when it died: its "attempting" record with no outcome
 * recorded by that same worker afterwards.
 */
export function inFlightOf(entries: JournalEntry[], workerId: string): Set<string> {
  const open = new Set<string>();
  for (const e of entries as Tagged[]) {
    if (!('id' in e) || e.worker !== workerId) continue;
    if (e.kind === 'attempting') open.add(e.id);
    else open.delete(e.id);
  }
  return open;
}

/** Deliveries attempted again after a "delivered" record: the ledger must make this impossible. */
export function attemptedAfterDelivered(entries: JournalEntry[]): string[] {
  const delivered = new Set<string>();
  const bad: string[] = [];
  for (const e of entries) {
    if (e.kind === 'delivered') delivered.add(e.id);
    if (e.kind === 'attempting' && delivered.has(e.id)) bad.push(e.id);
  }
  return bad;
}
