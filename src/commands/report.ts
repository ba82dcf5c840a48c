/** `notify report [run-id]`: who was reached, on which channel, who was not, and why. */
import { loadConfig } from '../config.js';
import { journalPath, listRuns, readJournal, replay } from '../core/journal.js';
import { buildReport } from '../core/report.js';
import { displayPath } from '../core/templates.js';
import { EXIT, UserError } from '../errors.js';
import { printReport } from '../format.js';
import { createOutput } from '../output.js';

export async function report(runId: string | undefined, flags: { json?: boolean; queue?: string | boolean }): Promise<number> {
  const out = createOutput({ ci: loadConfig().ci });
  const id = runId ?? listRuns().at(-1);
  if (!id) throw new UserError('No runs yet in .notify/runs/; run a scenario first (e.g. notify outage --dry-run).');
  // --queue: first bring the journal up to date with what the workers recorded (src/queue/).
  const state = flags.queue !== undefined
    ? await import('../queue/commands.js').then((q) => q.queuedState(q.queueFlag(flags.queue, { envByDefault: true })!, id))
    : replay(readJournal(id));
  const result = buildReport(id, displayPath(journalPath(id)), state);
  printReport(out, result);
  if (!result.complete) {
    out.line(flags.queue !== undefined
      ? `Not finished: the workers may still be sending (run this again to see), or finish it with: notify resume ${id} --queue`
      : `Finish it with: notify resume ${id}`);
  }
  if (flags.json) out.json(result);
  return result.failures.length > 0 || !result.complete ? EXIT.failed : EXIT.ok;
}
