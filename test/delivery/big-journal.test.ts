/**
 * Journals are read as streams, never whole: `report`, `resume` and `status-page` get
 * through a journal of about 50 MB with the V8 heap capped at 48 MB, where reading the
 * file into one string (and splitting it, and parsing every line into memory) needs three
 * times that and aborts. A heap limit is a bound on memory, not on time: no timing here.
 * `status-page` reads no dry run past its first line.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewEntry } from '../../src/core/journal.js';
import type { RunReport } from '../../src/core/report.js';
import type { StatusJson } from '../../src/core/status-page.js';
import { baseEnv, NO_NETWORK, runCli, tempDir } from '../helpers/cli.js';

const HEAP_MB = 48;
const MESSAGES = 20_000;
const TEXT = 'Le service de messagerie est interrompu ; joignez-nous au 01 99 00 12 34. '.repeat(30);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A run of MESSAGES SMS, the first `sent` of them delivered (default half), written a
 * thousand records at a time. `tail`: what follows the run record instead of the records
 * (to prove it is never read).
 */
function bigJournal(runId: string, options: { dryRun: boolean; publish?: boolean; tail?: string; cwd?: string; sent?: number }): { cwd: string; bytes: number } {
  const cwd = options.cwd ?? tempDir('notify-big-journal-');
  dirs.push(cwd);
  mkdirSync(join(cwd, '.notify/runs'), { recursive: true });
  const path = join(cwd, '.notify/runs', `${runId}.jsonl`);
  const fd = openSync(path, 'w', 0o600);
  let seq = 0;
  const line = (r: NewEntry) => JSON.stringify({ at: '2026-03-12T09:00:00.000Z', seq: ++seq, ...r }) + '\n';
  let chunk: string[] = [];
  const put = (text: string) => {
    chunk.push(text);
    if (chunk.length >= 1000) {
      writeSync(fd, chunk.join(''));
      chunk = [];
    }
  };
  put(line({
    kind: 'run', runId, scenario: 'outage', dryRun: options.dryRun, contactsFile: 'contacts.csv', templatesDir: 'templates',
    channels: ['sms'], strategy: 'all', variables: { eta: '14:00' }, ...(options.publish && { publish: true }),
  }));
  if (options.tail !== undefined) {
    for (let i = 0; i < MESSAGES; i++) put(options.tail);
  } else {
    for (let i = 0; i < MESSAGES; i++) {
      const id = `${runId}-${i}`;
      const to = `+3363998${String(i % 10_000).padStart(4, '0')}`;
      put(line({
        kind: 'planned', id, channel: 'sms', template: 'outage/sms.fr.hbs', locale: 'fr',
        contact: { key: `p${i}`, name: `Person ${i}`, line: i + 2 }, message: { deliveryId: id, channel: 'sms', to, text: TEXT },
      }));
    }
    for (let i = 0; i < (options.sent ?? MESSAGES / 2); i++) {
      put(line({ kind: 'attempting', id: `${runId}-${i}`, attempt: 1 }));
      put(line({ kind: 'delivered', id: `${runId}-${i}`, attempt: 1, receipt: { providerId: `SM${i}` } }));
    }
  }
  writeSync(fd, chunk.join(''));
  closeSync(fd);
  return { cwd, bytes: statSync(path).size };
}

const run = (cwd: string, args: string[]) =>
  runCli(args, { cwd, env: baseEnv({ NOTIFY_DEFAULT_LOCALE: 'en' }), nodeArgs: [`--max-old-space-size=${HEAP_MB}`, '--import', NO_NETWORK] });

// Tens of megabytes through a subprocess on a busy machine: a generous limit (the bound tested is memory).
describe(`a journal of about 50 MB, with the heap capped at ${HEAP_MB} MB`, { timeout: 120_000 }, () => {
  it('notify report reads it through', async () => {
    const runId = '2026-03-12-0900-outage-big1';
    const { cwd, bytes } = bigJournal(runId, { dryRun: false, publish: true });
    expect(bytes).toBeGreaterThan(45 * 1024 * 1024);
    const result = await run(cwd, ['report', runId, '--json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(1); // half of it is not sent yet
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.channels.sms).toEqual({ planned: MESSAGES, delivered: MESSAGES / 2, failed: 0, pending: MESSAGES / 2, skipped: 0 });
    expect(report.damaged).toEqual([]);
    expect(report.people.targeted).toBe(MESSAGES);
  });

  it('notify resume finishes it, reading each message back from the file as it is sent', async () => {
    const runId = '2026-03-12-0900-outage-big2';
    const { cwd } = bigJournal(runId, { dryRun: true, sent: MESSAGES - 1000 });
    const result = await run(cwd, ['resume', runId, '--yes', '--json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stderr).toContain(`Resuming ${runId}: 1000 message(s) left.`);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report).toMatchObject({ complete: true, channels: { sms: { planned: MESSAGES, delivered: MESSAGES } } });
  });

  it('notify status-page reads a published one through, and reads no dry run past its first line', async () => {
    const live = '2026-03-12-0900-outage-big3';
    const { cwd } = bigJournal(live, { dryRun: false, publish: true });
    // A dry run just as big, published even: after its run record, 50 MB that are no records at all.
    // Read, it would show as thousands of damaged lines; it must not be read.
    bigJournal('2026-03-12-1000-outage-big4', { cwd, dryRun: true, publish: true, tail: `${'#'.repeat(2500)}\n` });
    const result = await run(cwd, ['status-page', '--out', 'public']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stderr).not.toContain('!');
    expect(result.stderr).toContain('Status page (en): down.');
    const status = JSON.parse(readFileSync(join(cwd, 'public/status.json'), 'utf8')) as StatusJson;
    expect(status.updates.map((u) => u.runId)).toEqual([live]);
  });
});
