/** `notify report [run-id]`: who was reached, on which channel, who was not, and why. */
import { loadConfig } from '../config.js';
import { listRuns, readRun, resolveRun } from '../core/journal.js';
import { buildReport } from '../core/report.js';
import { displayPath } from '../core/templates.js';
import { EXIT, UserError } from '../errors.js';
import { printReport } from '../format.js';
import { createOutput } from '../output.js';
import { keepHeapNearLive } from '../heap.js';

export async function report(runId: string | undefined, flags: { json?: boolean; queue?: string | boolean; refresh?: boolean }): Promise<number> {
  keepHeapNearLive();
  const config = loadConfig();
  const out = createOutput({ ci: config.ci });
  const latest = runId === undefined ? listRuns().at(-1) : undefined;
  if (runId === undefined && !latest) throw new UserError('No runs yet in .notify/runs/; run a scenario first (e.g. notify outage --dry-run).');
  const { runId: id, path } = resolveRun(runId ?? latest!);
  if (flags.refresh) await (await import('./refresh.js')).refreshReceipts(id, path, config, out);
  // --queue: first bring the journal up to date with what the workers recorded (src/queue/).
  const state = flags.queue !== undefined
    ? await import('../queue/commands.js').then((q) => q.queuedState(q.queueFlag(flags.queue, { envByDefault: true })!, id))
    : readRun(path);
  const result = buildReport(id, displayPath(path), state);
  printReport(out, result);
  if (!result.complete) {
    out.line(flags.queue !== undefined
      ? `Not finished: the workers may still be sending (run this again to see), or finish it with: notify resume ${id} --queue`
      : `Finish it with: notify resume ${id}${result.damaged.length > 0 ? ' --ignore-damaged' : ''}`);
  }
  if (flags.json) out.json(result);
  return result.failures.length > 0 || !result.complete || result.damaged.length > 0 ? EXIT.failed : EXIT.ok;
}
