/**
 * A damaged journal line never silently drops a message. A last line torn by a crash is
 * expected (and so is a torn line a resume wrote past: the sequence numbers go on without
 * a gap); any other unreadable line, or a line gone missing, is reported with its line
 * number by `report`, `resume` and `status-page`. `resume` refuses to guess unless
 * --ignore-damaged, and then the deliveries concerned are unknown, never dropped.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, readJournal, readRun, type NewEntry } from '../../src/core/journal.js';
import { buildReport, type RunReport } from '../../src/core/report.js';
import { baseEnv, NO_NETWORK, runCli, tempDir } from '../helpers/cli.js';
import { attempting, delivered, delivery, journalLines, planned, runRecord, writeJournal } from './journals.js';

const RUN = '2025-01-01-0900-drill-dd01';

/** A plan of `count` SMS, the first `sent` of them delivered. */
function plan(count: number, sent = 0): { records: NewEntry[]; ds: ReturnType<typeof delivery>[] } {
  const ds = Array.from({ length: count }, (_, i) => delivery(RUN, i, 'sms'));
  const records = [runRecord(RUN), ...ds.map(planned), ...ds.slice(0, sent).flatMap((d) => [attempting(d), delivered(d)])];
  return { records, ds };
}

/** Line `n` (1-based) garbled the way a bad disk block or a careless edit does it. */
function garble(lines: string[], n: number, how: 'middle' | 'all' = 'middle'): string[] {
  return lines.map((line, i) => {
    if (i !== n - 1) return line;
    if (how === 'all') return '\u0000\u0000\u00ff#garbage#\u0000';
    // A few bytes zeroed just after the id: the kind, the id and the contact still show.
    const at = line.indexOf('"', line.indexOf('"id":"') + 6) + 1;
    return line.slice(0, at) + '\u0000\u0000\u0000' + line.slice(at + 3);
  });
}

const reportOf = (path: string) => buildReport(RUN, path, readRun(path));

describe('reading a journal: what is damage and what is not', () => {
  it('a last line torn by a crash is expected: no damage, nothing lost', () => {
    const cwd = tempDir('notify-damage-');
    const { records } = plan(3, 1);
    const path = writeJournal(cwd, RUN, journalLines(records));
    appendFileSync(path, '{"at":"2025-01-01T09:00:01.000Z","seq":7,"kind":"attempting","id":"2025-01-01-09'); // power cut mid-write
    const replayed = readRun(path);
    expect(replayed.damaged).toEqual([]);
    expect(replayed.states.size).toBe(3);
  });

  it('a torn line that a resume wrote past is not damage either (the numbers go on without a gap)', () => {
    const cwd = tempDir('notify-damage-');
    const { records, ds } = plan(3, 1);
    const path = writeJournal(cwd, RUN, journalLines(records));
    appendFileSync(path, '{"at":"2025-01-01T09:00:01.000Z","seq":7,"kind":"attempting","id":"2025-01-01-09');
    const resumed = new Journal(path, readRun(path));
    resumed.append(attempting(ds[1]!));
    resumed.append(delivered(ds[1]!));
    resumed.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(9); // the torn line is still there, in the middle now
    expect(JSON.parse(lines[7]!).seq).toBe(7); // the resume took the number the torn record would have had
    const replayed = readRun(path);
    expect(replayed.damaged).toEqual([]);
    expect(replayed.states.get(ds[1]!.id)).toMatchObject({ status: 'delivered' });
  });

  it('one garbled planned line in a plan of 2,000: reported with its line number, and the plan still counts 2,000', () => {
    const cwd = tempDir('notify-damage-');
    const { records, ds } = plan(2000);
    const path = writeJournal(cwd, RUN, garble(journalLines(records), 1001));
    const replayed = readRun(path);
    expect(replayed.damaged).toEqual([expect.objectContaining({ line: 1001, problem: 'unreadable', kind: 'planned', id: ds[999]!.id })]);
    expect(replayed.states.size).toBe(1999);
    const report = reportOf(path);
    expect(report.channels.sms).toMatchObject({ planned: 2000, pending: 2000 });
    expect(report.people.targeted).toBe(2000);
    expect(report.notReached.find((p) => p.contact === 'Person 999')?.reasons).toEqual([
      'sms: its planned record (journal line 1001) cannot be read, so the message cannot be sent again: reach them another way',
    ]);
    expect(report.damaged).toEqual([{
      line: 1001, record: 'planned', contact: 'Person 999', channel: 'sms',
      effect: 'a planned message that cannot be read: it cannot be sent again; reach the recipient another way',
    }]);
  });

  it('a planned line garbled beyond recognition is still counted, as an unknown recipient', () => {
    const cwd = tempDir('notify-damage-');
    const path = writeJournal(cwd, RUN, garble(journalLines(plan(10).records), 5, 'all'));
    const report = reportOf(path);
    expect(report.damaged).toEqual([{ line: 5, record: 'planned', effect: expect.stringMatching(/^a planned message that cannot be read/) }]);
    expect(report.people.targeted).toBe(10);
    expect(report.notReached.map((p) => p.contact)).toContain('unknown recipient (journal line 5)');
  });

  it('a line gone missing shows as a gap in the numbers, where it was', () => {
    const cwd = tempDir('notify-damage-');
    const lines = journalLines(plan(10).records);
    lines.splice(4, 1); // planned record number 5, deleted
    const report = reportOf(writeJournal(cwd, RUN, lines));
    expect(report.damaged).toEqual([{ line: 5, record: 'planned', effect: '1 planned message(s) missing here: it cannot be sent again; reach the recipient another way' }]);
    expect(report.people.targeted).toBe(10);
  });

  it("a damaged record about a delivery makes that delivery's outcome unknown, unless a later record settles it", () => {
    const cwd = tempDir('notify-damage-');
    const { records, ds } = plan(3);
    records.push(attempting(ds[0]!), delivered(ds[0]!), attempting(ds[1]!), delivered(ds[1]!), attempting(ds[2]!), { kind: 'failed', id: ds[2]!.id, attempt: 1, reason: 'HTTP 503', retryable: true, final: false }, attempting(ds[2]!, 2), delivered(ds[2]!, 2));
    // line 6: ds[0] delivered; line 8: ds[1] delivered; line 10: ds[2] failed, and then lines 11-12 deliver it
    const path = writeJournal(cwd, RUN, garble(garble(garble(journalLines(records), 6), 8), 10));
    const replayed = readRun(path);
    expect(replayed.states.get(ds[0]!.id)).toMatchObject({ status: 'attempting', damagedLine: 6 });
    expect(replayed.states.get(ds[2]!.id)).toMatchObject({ status: 'delivered', damagedLine: 10 });
    const report = reportOf(path);
    expect(report.damaged.map((d) => [d.line, d.record, d.effect])).toEqual([
      [6, 'delivered', expect.stringMatching(/^cannot be read: the outcome of this message is unknown \(notify resume --ignore-damaged sends it again/)],
      [8, 'delivered', expect.stringMatching(/^cannot be read: the outcome of this message is unknown/)],
      [10, 'failed', 'cannot be read, but a later record settles this message (delivered)'],
    ]);
    expect(report.complete).toBe(false);
  });

  it('journals written before sequence numbers still read; a bad line inside one is reported', () => {
    const cwd = tempDir('notify-damage-');
    const { records, ds } = plan(3, 2);
    const old = journalLines(records, { seq: false });
    expect(readRun(writeJournal(cwd, RUN, old))).toMatchObject({ damaged: [], records: 8 });
    expect(readJournal(RUN, cwd).map((e) => e.kind)).toEqual(['run', 'planned', 'planned', 'planned', 'attempting', 'delivered', 'attempting', 'delivered']);
    // Resumed by this version: its records continue the count.
    const resumed = new Journal(join(cwd, '.notify/runs', `${RUN}.jsonl`), readRun(join(cwd, '.notify/runs', `${RUN}.jsonl`)));
    resumed.append(attempting(ds[2]!));
    resumed.close();
    expect(readJournal(RUN, cwd).at(-1)).toMatchObject({ kind: 'attempting', seq: 9 });

    const damaged = readRun(writeJournal(cwd, RUN, garble(old, 3)));
    expect(damaged.damaged).toEqual([expect.objectContaining({ line: 3, kind: 'planned', id: ds[1]!.id })]);
  });

  it('a line longer than any record is damage, read without ever being held whole', () => {
    const cwd = tempDir('notify-damage-');
    const lines = journalLines(plan(3).records);
    lines.splice(2, 0, 'x'.repeat(70 * 1024 * 1024)); // over the 64 MB line limit
    const replayed = readRun(writeJournal(cwd, RUN, lines));
    expect(replayed.damaged).toEqual([expect.objectContaining({ line: 3, problem: 'unreadable', kind: 'planned' })]);
    expect(replayed.states.size).toBe(3);
  });
});

describe('report, resume and status-page say where the damage is', () => {
  const run = (cwd: string, args: string[]) => runCli(args, { cwd, env: baseEnv(), nodeArgs: ['--import', NO_NETWORK] });

  /**
   * A dry run planned 6 SMS and checked 3; then line 5 (Person 3's planned message) and
   * line 11 (Person 1's "delivered") were garbled.
   */
  function damagedRun() {
    const cwd = tempDir('notify-damage-');
    const { records } = plan(6, 3);
    const path = writeJournal(cwd, RUN, garble(garble(journalLines(records), 5), 11));
    return { cwd, path, before: readFileSync(path, 'utf8') };
  }

  it('notify report lists each damaged line with its number and meaning, exit 1', async () => {
    const { cwd } = damagedRun();
    const result = await run(cwd, ['report', RUN, '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The journal has 2 damaged line(s); the messages they concern are unknown, not dropped:');
    expect(result.stderr).toContain('  - line 5 (planned · Person 3 · sms): a planned message that cannot be read: it cannot be sent again; reach the recipient another way');
    expect(result.stderr).toContain('  - line 11 (delivered · Person 1 · sms): cannot be read: the outcome of this message is unknown');
    expect(result.stderr).toContain(`Finish it with: notify resume ${RUN} --ignore-damaged`);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.damaged.map((d) => d.line)).toEqual([5, 11]);
    expect(report.people.targeted).toBe(6);
  });

  it('notify resume refuses to guess (exit 2), says how to go on, and writes nothing', async () => {
    const { cwd, path, before } = damagedRun();
    const result = await run(cwd, ['resume', RUN, '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('  - line 5 (planned · Person 3 · sms)');
    expect(result.stderr).toContain(
      `notify: The journal of run ${RUN} has 2 damaged line(s) (lines 5, 11), so resume cannot tell what they recorded; nothing was sent. ` +
        `Restore .notify/runs/${RUN}.jsonl from a backup if you have one, or go on with notify resume ${RUN} --ignore-damaged: ` +
        'the messages those lines concern are then treated as unknown (sent again, or skipped with --skip-unknown), and a planned message that cannot be read is listed as not sent.\n',
    );
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('notify resume --ignore-damaged sends the unknown one again and lists the unreadable one as not reached', async () => {
    const { cwd, path } = damagedRun();
    const result = await run(cwd, ['resume', RUN, '--yes', '--ignore-damaged', '--json']);
    expect(result.stderr).toContain(`Resuming ${RUN}: 3 message(s) left, 1 of them with an unknown outcome (re-sent; they may arrive twice).`);
    expect(result.code).toBe(1); // Person 3's message could not be sent: the run cannot be complete
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.people).toEqual({ targeted: 6, reached: 5, notReached: 1 });
    expect(report.notReached).toEqual([{ contact: 'Person 3', line: 4, reasons: [expect.stringMatching(/^sms: its planned record \(journal line 5\) cannot be read/)] }]);
    expect(report.mayBeDuplicated).toEqual([{ contact: 'Person 1', channel: 'sms' }]);
    const after = readJournal(RUN, cwd).filter((e) => 'id' in e && e.id === delivery(RUN, 1, 'sms').id && e.kind !== 'planned');
    // Line 11 unreadable, then re-sent (through the dry run's outbox, which writes no "attempting").
    expect(after.map((e) => e.kind)).toEqual(['attempting', 'delivered']);
    expect(readFileSync(path, 'utf8')).toContain('"kind":"finished"');
  });

  it('notify status-page warns with the line numbers of a published run, and builds the page from the rest', async () => {
    const cwd = tempDir('notify-damage-');
    const id = '2025-01-01-0900-outage-dd02';
    const ds = [0, 1, 2].map((n) => delivery(id, n, 'sms'));
    const records: NewEntry[] = [
      runRecord(id, { scenario: 'outage', dryRun: false, publish: true, variables: { eta: '14:00' } }),
      ...ds.map(planned), ...ds.flatMap((d) => [attempting(d), delivered(d)]),
    ];
    writeJournal(cwd, id, garble(journalLines(records), 3));
    const result = await run(cwd, ['status-page', '--out', 'public', '--locale', 'en']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`! run ${id}: journal line 3 cannot be read (see notify report ${id}); the page uses the rest.`);
    expect(JSON.parse(readFileSync(join(cwd, 'public/status.json'), 'utf8'))).toMatchObject({ state: 'down', eta: '14:00' });
  });

  it('a journal edited into nonsense on line 1 is reported, not taken for a run', async () => {
    const cwd = tempDir('notify-damage-');
    const lines = journalLines(plan(2).records);
    writeJournal(cwd, RUN, garble(lines, 1, 'all'));
    const resume = await run(cwd, ['resume', RUN, '--yes', '--ignore-damaged']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('  - line 1 (run): the run record cannot be read: the scenario and options of this run are unknown');
    expect(resume.stderr).toContain(`notify: The journal of run ${RUN} has no readable run record (line 1); it cannot be resumed.`);
  });
});
