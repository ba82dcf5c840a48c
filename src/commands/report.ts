/** `notify report [run-id]`: who was reached, on which channel, who was not, and why. */
import { loadConfig } from '../config.js';
import { listRuns, readRun, resolveRun } from '../core/journal.js';
import { buildReport } from '../core/report.js';
import { displayPath } from '../core/templates.js';
import { EXIT, UserError } from '../errors.js';
import { printReport } from '../format.js';
import { createOutput } from '../output.js';

export async function report(runId: string | undefined, flags: { json?: boolean; refresh?: boolean }): Promise<number> {
  const config = loadConfig();
  const out = createOutput({ ci: config.ci });
  const latest = runId === undefined ? listRuns().at(-1) : undefined;
  if (runId === undefined && !latest) throw new UserError('No runs yet in .notify/runs/; run a scenario first (e.g. notify outage --dry-run).');
  const { runId: id, path } = resolveRun(runId ?? latest!);
  if (flags.refresh) await (await import('./refresh.js')).refreshReceipts(id, path, config, out);
  const result = buildReport(id, displayPath(path), readRun(path));
  printReport(out, result);
  if (!result.complete) out.line(`Finish it with: notify resume ${id}${result.damaged.length > 0 ? ' --ignore-damaged' : ''}`);
  if (flags.json) out.json(result);
  return result.failures.length > 0 || !result.complete || result.damaged.length > 0 ? EXIT.failed : EXIT.ok;
}
