/**
 * Journals written by hand, record by record as `Journal` writes them (`at`, `seq`, then
 * the record), for the tests that damage, move, link or inflate them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEntry, RunInfo } from '../../src/core/journal.js';
import type { Delivery } from '../../src/core/plan.js';
import type { ChannelName } from './helpers.js';

export const AT = '2025-01-01T09:00:00.000Z';

export function runRecord(runId: string, extra: Partial<RunInfo> = {}): NewEntry {
  return {
    kind: 'run', runId, scenario: 'drill', dryRun: true, contactsFile: 'contacts.csv', templatesDir: 'templates',
    channels: ['sms', 'email'], strategy: 'all', variables: {}, ...extra,
  };
}

/** Person `n` on `channel`, with addresses the loopback fakes accept. */
export function delivery(runId: string, n: number, channel: ChannelName, text = `Exercise ${n}`): Delivery {
  const id = `${runId}-${n}-${channel}`;
  const to = { sms: `+3363998${String(7000 + n)}`, email: `p${n}@example.com`, slack: `U0R${n}`, telegram: String(7000 + n) }[channel];
  const message = { deliveryId: id, channel, to, text, ...(channel === 'email' && { subject: 'Exercise' }) };
  return { id, channel, template: `drill/${channel}.en.hbs`, locale: 'en', contact: { key: `p${n}`, name: `Person ${n}`, line: n + 1 }, message };
}

export const planned = (d: Delivery): NewEntry => ({ kind: 'planned', ...d });
export const attempting = (d: Delivery, attempt = 1): NewEntry => ({ kind: 'attempting', id: d.id, attempt });
export const delivered = (d: Delivery, attempt = 1): NewEntry => ({ kind: 'delivered', id: d.id, attempt, receipt: { providerId: `earlier-${d.id}` } });

/** The lines of a journal: `{ at, seq, ...record }` (`seq: false` writes the format from before sequence numbers). */
export function journalLines(records: NewEntry[], options: { seq?: boolean; at?: string } = {}): string[] {
  return records.map((r, i) => JSON.stringify({ at: options.at ?? AT, ...(options.seq !== false && { seq: i + 1 }), ...r }));
}

/** Write `.notify/runs/<runId>.jsonl` in `cwd` from lines (joined with newlines, one at the end). */
export function writeJournal(cwd: string, runId: string, lines: string[]): string {
  const dir = join(cwd, '.notify', 'runs');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${runId}.jsonl`);
  writeFileSync(path, lines.join('\n') + '\n', { mode: 0o600 });
  return path;
}
