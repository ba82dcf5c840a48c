/**
 * `notify report --refresh`: before reporting, ask the providers for the final status of
 * the run's messages (an SMS `undelivered` with its carrier code, a call's outcome) and
 * record what is new as `receipt` records. An accepted message later reported lost then
 * counts as not delivered, and with --strategy first the person's next channel is due
 * (sent by the next `notify rollcall` poll or `notify resume`).
 */
import type { Config } from '../config.js';
import { Journal, readRun, readRunRecord } from '../core/journal.js';
import type { Output } from '../output.js';
import { connectPollers, pollOnce } from './rollcall-poll.js';

export async function refreshReceipts(runId: string, path: string, config: Config, out: Output): Promise<void> {
  const run = readRunRecord(path);
  if (!run || run.dryRun) return void out.line('Nothing to refresh: a dry run sent nothing.');
  const pollers = await connectPollers(config, run.channels);
  const journal = new Journal(path, readRun(path));
  try {
    const noAnswers = { labels: {}, words: {}, reactions: {} };
    const { added, problems } = await pollOnce(runId, path, journal, pollers, noAnswers, { replies: false, signal: new AbortController().signal });
    out.line(`Refreshed from the providers: ${added} new final status(es).`);
    for (const [channel, why] of problems) out.line(out.color.yellow(`! ${channel}: statuses not read: ${why}`));
  } finally {
    await pollers.close();
    journal.close();
  }
}
