/**
 * A run id names a journal in `.notify/runs/`, nothing else: `report` and `resume` refuse
 * paths, `..`, absolute paths and links leading out of the folder (exit 2, with the recent
 * runs), and never read, append to or re-send from a file elsewhere. A unique beginning
 * of an id is enough.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRun } from '../../src/core/runs.js';
import { baseEnv, NO_NETWORK, runCli, tempDir } from '../helpers/cli.js';
import { delivery, journalLines, planned, runRecord, writeJournal } from './journals.js';

const RUN = '2025-01-01-0900-drill-aa01';
const OTHER = '2025-01-01-0930-drill-bb02';

/**
 * A project folder with two dry runs, and beside it a folder `outside/` holding a journal
 * of a live, published outage nobody should be able to reach through a run id.
 */
function setup() {
  const root = tempDir('notify-run-ids-');
  const cwd = join(root, 'project');
  mkdirSync(cwd);
  for (const runId of [RUN, OTHER]) writeJournal(cwd, runId, journalLines([runRecord(runId), planned(delivery(runId, 1, 'sms'))]));
  const outsideDir = join(root, 'outside');
  const evil = writeJournal(outsideDir, 'evil', journalLines([
    runRecord('evil', { dryRun: false, scenario: 'outage', publish: true, variables: { eta: '23:59' } }),
    planned(delivery('evil', 1, 'sms')),
  ]));
  return { cwd, root, evil, before: readFileSync(evil, 'utf8') };
}

const run = (cwd: string, args: string[]) => runCli(args, { cwd, env: baseEnv(), nodeArgs: ['--import', NO_NETWORK] });

const COMMANDS: [string, (id: string) => string[]][] = [
  ['report', (id) => ['report', id]],
  ['resume --retry-failed', (id) => ['resume', id, '--retry-failed', '--yes']],
];

const BAD_IDS: [string, (s: ReturnType<typeof setup>) => string][] = [
  ['a relative path climbing to the root', (s) => `${'../'.repeat(20)}${s.evil.slice(1, -'.jsonl'.length)}`],
  ['a path through the journal folder', () => '../../../outside/.notify/runs/evil'],
  ['..', () => '..'],
  ['a Windows-style path', () => '..\\outside\\evil'],
  ['an absolute path to a journal', (s) => s.evil],
  ['an absolute path without .jsonl', (s) => s.evil.slice(0, -'.jsonl'.length)],
  ['a folder inside the run folder', () => `sub/${RUN}`],
  ['an empty id', () => ''],
];

describe('resolveRun: a run id is a name in .notify/runs/, or the start of one', () => {
  it.each(BAD_IDS)('refuses %s, with the recent runs', (_what, id) => {
    const s = setup();
    expect(() => resolveRun(id(s), s.cwd)).toThrow(
      /is not a run id: give the name of a run in \.notify\/runs\/, not a path; recent runs: 2025-01-01-0900-drill-aa01, 2025-01-01-0930-drill-bb02\.$/,
    );
  });

  it('takes an exact id, an id with .jsonl, or a unique beginning', () => {
    const s = setup();
    expect(resolveRun(RUN, s.cwd)).toEqual({ runId: RUN, path: join(s.cwd, '.notify/runs', `${RUN}.jsonl`) });
    expect(resolveRun(`${RUN}.jsonl`, s.cwd).runId).toBe(RUN);
    expect(resolveRun('2025-01-01-0930', s.cwd).runId).toBe(OTHER);
  });
});

describe.each(COMMANDS)('notify %s <run-id>', (_name, args) => {
  it.each(BAD_IDS.filter(([what]) => /climbing|absolute path to/.test(what)))('refuses %s (exit 2, with the recent runs) and leaves the file alone', async (_what, id) => {
    const s = setup();
    const result = await run(s.cwd, args(id(s)));
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^notify: ".*" is not a run id: give the name of a run in \.notify\/runs\/, not a path; recent runs: 2025-01-01-0900-drill-aa01, 2025-01-01-0930-drill-bb02\.\n$/);
    expect(result.stdout).toBe('');
    expect(readFileSync(s.evil, 'utf8')).toBe(s.before);
  });

  it('refuses a link in .notify/runs/ that leads out of the folder', async () => {
    const s = setup();
    symlinkSync(s.evil, join(s.cwd, '.notify/runs/2025-01-02-0900-outage-ee99.jsonl'));
    const result = await run(s.cwd, args('2025-01-02-0900-outage-ee99'));
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toBe(
      `notify: .notify/runs/2025-01-02-0900-outage-ee99.jsonl is a link to ${s.evil}, outside .notify/runs/; notify only reads journals inside that folder (remove the link, or copy the journal into the folder).\n`,
    );
    expect(readFileSync(s.evil, 'utf8')).toBe(s.before);
  });
});

describe('ids that match no run, or several', () => {
  it.each([['report'], ['resume']])('notify %s: an id that names no run is refused, listing the recent ones', async (command) => {
    const s = setup();
    const result = await run(s.cwd, [command, '2024-12-31', '--yes'].slice(0, command === 'resume' ? 3 : 2));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('notify: No run "2024-12-31" in .notify/runs/; recent runs: 2025-01-01-0900-drill-aa01, 2025-01-01-0930-drill-bb02.\n');
  });

  it('notify report: a beginning shared by several runs is refused, naming them', async () => {
    const s = setup();
    const result = await run(s.cwd, ['report', '2025-01-01']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('notify: "2025-01-01" matches 2 runs (2025-01-01-0900-drill-aa01, 2025-01-01-0930-drill-bb02); give more of the run id.\n');
  });

  it('notify resume: a unique beginning of a run id is enough', async () => {
    const s = setup();
    const result = await run(s.cwd, ['resume', '2025-01-01-0930', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Resuming ${OTHER}: 1 message(s) left.`);
  });
});

describe('links inside the journal folder', () => {
  it('a link to another journal of the folder is read', async () => {
    const s = setup();
    symlinkSync(join(s.cwd, '.notify/runs', `${RUN}.jsonl`), join(s.cwd, '.notify/runs/2025-01-03-0900-drill-cc03.jsonl'));
    const result = await run(s.cwd, ['report', '2025-01-03-0900-drill-cc03']);
    expect(result.stderr).toContain('Run 2025-01-03-0900-drill-cc03 (drill');
  });
});

describe('notify status-page', () => {
  it('leaves out a journal linked from outside the folder, and says so', async () => {
    const s = setup();
    // A published live outage, delivered: it would be on the page if it were read.
    writeFileSync(s.evil, s.before + JSON.stringify({ at: '2025-01-01T10:00:00.000Z', seq: 3, kind: 'delivered', id: 'evil-1-sms', attempt: 1, receipt: { providerId: 'x' } }) + '\n');
    symlinkSync(s.evil, join(s.cwd, '.notify/runs/2025-01-02-0900-outage-ee99.jsonl'));
    const result = await run(s.cwd, ['status-page', '--out', 'public', '--locale', 'en']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`! .notify/runs/2025-01-02-0900-outage-ee99.jsonl is a link to ${s.evil}, outside .notify/runs/`);
    expect(result.stderr).toContain('Status page (en): no incident.');
    expect(readFileSync(join(s.cwd, 'public/status.json'), 'utf8')).not.toContain('23:59');
  });
});

describe('.notify or .notify/runs is a file', () => {
  it.each([
    ['.notify', ['report']],
    ['.notify', ['resume', RUN, '--yes']],
    ['.notify', ['status-page']],
    ['.notify/runs', ['report', RUN]],
    ['.notify/runs', ['drill', '--dry-run']],
  ])('%s as a file: notify %s says what to do in one sentence (exit 2)', async (file, args) => {
    const cwd = tempDir('notify-run-ids-');
    if (file === '.notify/runs') mkdirSync(join(cwd, '.notify'));
    writeFileSync(join(cwd, file), 'a note\n');
    const result = await run(cwd, args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(`^notify: ${file.replace('.', '\\.')} here is a file, not a folder: notify keeps its run journals in \\.notify/runs/; rename or remove that file \\(it was not written by notify\\), or run notify from another folder(; nothing was sent)?\\.\\n$`),
    );
  });
});
