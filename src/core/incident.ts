/**
 * Is a customer-facing incident open, and when did customers last hear from us? Read from
 * the run journals, the only record of what was sent.
 *
 * The rule (one place, so it can follow the status page's "published run" rule):
 * the **latest** run that is
 *   - of scenario `outage`, `update` or `resolved`,
 *   - published, the status page's rule: sent live with `--status-page DIR`, which marks
 *     the run record `publish: true` (a one-person test send or a dry run never is),
 * decides: `outage` or `update` → an incident is open and that run was the last customer
 * update; `resolved` (or no such run) → none is open.
 *
 * Only the first line of each journal (its `run` record) is read, streamed: a journal of a
 * 100,000-contact send is never loaded to answer this.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { journalPath, listRuns, type JournalEntry } from './journal.js';

export const CUSTOMER_SCENARIOS = ['outage', 'update', 'resolved'] as const;

export interface CustomerRun {
  runId: string;
  scenario: (typeof CUSTOMER_SCENARIOS)[number];
  at: Date;
}

/** The open incident's last customer update, or undefined when none is open. */
export async function openIncident(cwd = process.cwd()): Promise<CustomerRun | undefined> {
  const latest = await latestCustomerRun(cwd);
  return latest && latest.scenario !== 'resolved' ? latest : undefined;
}

/** The latest run that counts as telling customers (see the rule above). */
export async function latestCustomerRun(cwd = process.cwd()): Promise<CustomerRun | undefined> {
  let best: CustomerRun | undefined;
  // Run ids start with their minute (YYYY-MM-DD-HHMM): newest first, and stop once a
  // run's minute is older than the best found (same-minute runs are compared by time).
  for (const runId of listRuns(cwd).reverse()) {
    if (best && runId.slice(0, 15) < best.runId.slice(0, 15)) break;
    const run = await firstRecord(journalPath(runId, cwd));
    if (!run || !counts(run)) continue;
    const at = new Date(run.at);
    if (!best || at > best.at) best = { runId, scenario: run.scenario as CustomerRun['scenario'], at };
  }
  return best;
}

type RunRecord = Extract<JournalEntry, { kind: 'run' }>;

function counts(run: RunRecord): boolean {
  return run.publish === true && !run.dryRun && (CUSTOMER_SCENARIOS as readonly string[]).includes(run.scenario);
}

/** The `run` record at the top of a journal, read line by line and closed right after. */
async function firstRecord(path: string): Promise<RunRecord | undefined> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 16 * 1024 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      const record = JSON.parse(line) as JournalEntry;
      return record.kind === 'run' ? record : undefined;
    }
  } catch {
    // unreadable or torn: not a run we can count
  } finally {
    lines.close();
    stream.destroy();
  }
  return undefined;
}
