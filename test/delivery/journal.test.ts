/**
 * The journal as the source of truth: crafted journals replayed into delivery states
 * (which outcomes are unknown, which deliveries may have arrived twice), a crash-torn
 * file, and the report built from it — above all, who was reached on no channel.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Journal, readJournal, replay, type JournalEntry, type NewEntry } from '../../src/core/journal.js';
import type { Delivery } from '../../src/core/plan.js';
import { buildReport } from '../../src/core/report.js';
import type { ChannelName } from './helpers.js';
import { ROOT, tempDir } from '../helpers/cli.js';

const AT = '2025-01-01T00:00:00.000Z';
const run: NewEntry = {
  kind: 'run', runId: 'r1', scenario: 'outage', dryRun: false, contactsFile: 'contacts.csv', templatesDir: 'templates',
  channels: ['sms', 'email', 'slack', 'telegram'], strategy: 'all', variables: {},
};

function delivery(person: string, channel: ChannelName, line = 2): Delivery {
  const id = `${person}/${channel}`;
  return {
    id, channel, template: `${channel}.hbs`, locale: 'fr', contact: { key: person, name: person, line },
    message: { deliveryId: id, channel, to: `${person}@${channel}`, text: 'hi' },
  };
}

const stamp = (entries: NewEntry[]) => entries.map((e) => ({ at: AT, ...e }) as JournalEntry);
const planned = (...ds: Delivery[]): NewEntry[] => ds.map((d) => ({ kind: 'planned', ...d }));
const attempting = (id: string, attempt = 1): NewEntry => ({ kind: 'attempting', id, attempt });
const delivered = (id: string, attempt = 1): NewEntry => ({ kind: 'delivered', id, attempt, receipt: { providerId: `p-${id}-${attempt}` } });
const failed = (id: string, attempt: number, reason: string, extra: { final?: boolean; retryable?: boolean; outcomeUnknown?: boolean } = {}): NewEntry => ({
  kind: 'failed', id, attempt, reason, retryable: extra.retryable ?? !extra.final, final: extra.final ?? false,
  ...(extra.outcomeUnknown && { outcomeUnknown: true }),
});
const replayOf = (...entries: NewEntry[]) => replay(stamp([run, ...entries]));

describe('replay: the state of each delivery, from its records', () => {
  const a = delivery('ana', 'sms');

  it.each<[string, NewEntry[], object]>([
    ['planned only: pending', [], { status: 'pending', attempts: 0, uncertain: false, mayBeDuplicated: false }],
    ['sent and confirmed', [attempting(a.id), delivered(a.id)], { status: 'delivered', attempts: 1, uncertain: false, mayBeDuplicated: false }],
    ['crashed mid-send: still "attempting"', [attempting(a.id)], { status: 'attempting', attempts: 1, mayBeDuplicated: false }],
    ['crashed mid-send, then re-sent by resume', [attempting(a.id), attempting(a.id, 2), delivered(a.id, 2)], { status: 'delivered', attempts: 2, uncertain: true, mayBeDuplicated: true }],
    ['timed out (outcome unknown), then delivered', [attempting(a.id), failed(a.id, 1, 'no answer', { outcomeUnknown: true }), attempting(a.id, 2), delivered(a.id, 2)], { status: 'delivered', mayBeDuplicated: true }],
    ['refused (outcome known), then delivered', [attempting(a.id), failed(a.id, 1, 'HTTP 503'), attempting(a.id, 2), delivered(a.id, 2)], { status: 'delivered', uncertain: false, mayBeDuplicated: false }],
    ['a temporary failure then a stop: pending, with the reason', [attempting(a.id), failed(a.id, 1, 'HTTP 503')], { status: 'pending', reason: 'HTTP 503', attempts: 1 }],
    ['failed for good', [attempting(a.id), failed(a.id, 1, 'invalid number', { final: true })], { status: 'failed', reason: 'invalid number', uncertain: false }],
    ['timed out, then failed for good: failed, but uncertain', [attempting(a.id), failed(a.id, 1, 'no answer', { outcomeUnknown: true }), attempting(a.id, 2), failed(a.id, 2, 'invalid', { final: true })], { status: 'failed', uncertain: true, mayBeDuplicated: false }],
    ['skipped', [{ kind: 'skipped', id: a.id, reason: 'already reached by telegram' }], { status: 'skipped', reason: 'already reached by telegram' }],
    ['a delivered record clears the earlier failure reason', [attempting(a.id), failed(a.id, 1, 'HTTP 503'), attempting(a.id, 2), delivered(a.id, 2)], { status: 'delivered', reason: undefined }],
  ])('%s', (_name, records, expected) => {
    const state = replayOf(...planned(a), ...records).states.get(a.id);
    expect(state).toMatchObject(expected);
  });

  it('ignores records about deliveries it never saw planned', () => {
    const replayed = replayOf(...planned(a), attempting('ghost'), delivered('ghost'));
    expect([...replayed.states.keys()]).toEqual([a.id]);
  });

  it('knows the run, who is unreachable and whether the run finished', () => {
    const unreachable: NewEntry = { kind: 'unreachable', contact: { key: 'zoe', name: 'Zoé', line: 9 }, reason: 'no address on sms, email' };
    expect(replayOf(...planned(a), unreachable)).toMatchObject({ run: { runId: 'r1', strategy: 'all' }, finished: false, unreachable: [{ contact: { name: 'Zoé' } }] });
    expect(replayOf({ kind: 'finished', interrupted: true }).finished).toBe(false);
    expect(replayOf({ kind: 'finished', interrupted: false }).finished).toBe(true);
  });
});

describe('the journal file', () => {
  it('is written with mode 0600, one JSON object per line, and replays to the live state', () => {
    const path = join(tempDir('notify-journal-'), 'runs', 'r1.jsonl');
    const journal = new Journal(path);
    const a = delivery('ana', 'email');
    for (const e of [run, ...planned(a), attempting(a.id), delivered(a.id)]) journal.append(e);
    journal.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    const replayed = replay(lines.map((l) => JSON.parse(l) as JournalEntry));
    expect(replayed.states.get(a.id)).toEqual(journal.state.states.get(a.id));
    // The state keeps who and where, not the message: that stays in the file.
    expect(journal.state.states.get(a.id)!.delivery).toEqual({ id: a.id, channel: 'email', contact: a.contact, to: a.message.to });
  });

  it('buffered plan records keep their order and places, and are on disk before any other record', () => {
    const dir = tempDir('notify-journal-');
    const journal = new Journal(join(dir, 'runs', 'r1.jsonl.partial'));
    journal.append(run);
    const ds = ['ana', 'bob', 'cyd'].map((p) => delivery(p, 'sms'));
    const places = ds.map((d) => journal.append({ kind: 'planned', ...d }, { buffered: true }));
    journal.append(attempting(ds[0]!.id)); // an ordinary record flushes the plan first
    expect(journal.read(places[2]!)).toMatchObject({ kind: 'planned', id: ds[2]!.id });
    journal.rename(join(dir, 'runs', 'r1.jsonl'));
    journal.close();
    const kinds = readFileSync(join(dir, 'runs', 'r1.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(kinds).toEqual(['run', 'planned', 'planned', 'planned', 'attempting']);
  });

  it('reads a record back from where it was written', () => {
    const journal = new Journal(join(tempDir('notify-journal-'), 'runs', 'r1.jsonl'));
    journal.append(run);
    const a = delivery('ana', 'email');
    const place = journal.append({ kind: 'planned', ...a });
    journal.append(attempting(a.id));
    expect(journal.read(place)).toMatchObject({ kind: 'planned', ...a });
  });

  it('survives a last line torn by a crash: it is ignored, and records appended after it are not lost', () => {
    const cwd = tempDir('notify-journal-');
    const path = join(cwd, '.notify', 'runs', 'r1.jsonl');
    const a = delivery('ana', 'sms');
    const b = delivery('bob', 'sms');
    const first = new Journal(path);
    for (const e of [run, ...planned(a, b), attempting(a.id), delivered(a.id)]) first.append(e);
    first.close();
    appendFileSync(path, '{"at":"2025-01-01T00:00:01.000Z","kind":"attempting","id":"bob/s'); // power cut mid-write

    expect(readJournal('r1', cwd).map((e) => e.kind)).toEqual(['run', 'planned', 'planned', 'attempting', 'delivered']);
    // notify resume appends to the same file: its first record must not be glued to the torn line.
    const resumed = new Journal(path, replay(readJournal('r1', cwd)));
    resumed.append(attempting(b.id));
    resumed.append(delivered(b.id));
    resumed.close();
    const bobRecords = readJournal('r1', cwd).filter((e) => 'id' in e && e.id === b.id && e.kind !== 'planned');
    expect(bobRecords.map((e) => e.kind)).toEqual(['attempting', 'delivered']);
    const states = replay(readJournal('r1', cwd)).states;
    expect(states.get(b.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(states.get(a.id)).toMatchObject({ status: 'delivered' });
  });

  it('an unknown run id is a user error naming the recent runs', () => {
    const cwd = tempDir('notify-journal-');
    new Journal(join(cwd, '.notify', 'runs', '2025-01-01-0900-outage-ab12.jsonl')).close();
    expect(() => readJournal('nope', cwd)).toThrow(/No run "nope".*2025-01-01-0900-outage-ab12/);
  });
});

describe('end-of-turn records: one write per event-loop turn', () => {
  const onDisk = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).kind as string);

  it('are written together at the end of the turn, in order, and written() resolves once they are on disk', async () => {
    const cwd = tempDir('notify-journal-');
    const path = join(cwd, '.notify', 'runs', 'r1.jsonl');
    const journal = new Journal(path);
    journal.append(run);
    const [a, b] = [delivery('ana', 'sms'), delivery('bob', 'sms')];
    for (const d of [a, b]) journal.append({ kind: 'planned', ...d });
    journal.append(attempting(a.id), { endOfTurn: true });
    journal.append(attempting(b.id), { endOfTurn: true });
    expect(onDisk(path)).toEqual(['run', 'planned', 'planned']); // not yet: the turn goes on
    expect(journal.state.states.get(a.id)).toMatchObject({ status: 'attempting' }); // the state knows at once
    await journal.written();
    expect(onDisk(path)).toEqual(['run', 'planned', 'planned', 'attempting', 'attempting']);
    journal.append(delivered(a.id), { endOfTurn: true });
    journal.append({ kind: 'finished', interrupted: false }); // an ordinary record writes what waits first
    expect(onDisk(path)).toEqual(['run', 'planned', 'planned', 'attempting', 'attempting', 'delivered', 'finished']);
    journal.close();
    expect(replay(readJournal('r1', cwd)).states.get(a.id)).toMatchObject({ status: 'delivered' });
  });

  it('are still written when the process exits before the turn ends (a second Ctrl-C calls process.exit)', () => {
    const path = join(tempDir('notify-journal-'), 'runs', 'r1.jsonl');
    // The built journal, in a process of its own that exits right after the append.
    const script = `
      import { Journal } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/core/journal.js')).href)};
      const journal = new Journal(${JSON.stringify(path)});
      journal.append({ kind: 'attempting', id: 'ana/sms', attempt: 1 }, { endOfTurn: true });
      journal.append({ kind: 'delivered', id: 'ana/sms', attempt: 1, receipt: { providerId: 'SM1' } }, { endOfTurn: true });
      process.exit(130);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(130);
    expect(onDisk(path)).toEqual(['attempting', 'delivered']);
  });

  it('a failed end-of-turn write stops the run: written() rejects and no record is accepted after it', async () => {
    const path = join(tempDir('notify-journal-'), 'runs', 'r1.jsonl');
    const journal = new Journal(path);
    journal.append(run);
    journal.append(attempting('ana/sms'), { endOfTurn: true });
    // The file descriptor goes bad under the journal (a disk pulled out, EBADF): the write at the end of the turn fails.
    closeSync((journal as unknown as { fd: number }).fd);
    await expect(journal.written()).rejects.toThrow();
    expect(() => journal.append(attempting('bob/sms'), { endOfTurn: true })).toThrow();
  });
});

describe('the report: counts, failures, and who was reached on no channel', () => {
  const ana = ['sms', 'email'].map((c) => delivery('ana', c as ChannelName, 2)); // everything fails
  const bob = ['sms', 'telegram'].map((c) => delivery('bob', c as ChannelName, 3)); // reached on one of two
  const cid = [delivery('cid', 'slack', 4)]; // in flight when the process died
  const dee = [delivery('dee', 'sms', 5)]; // re-sent after a timeout
  const all = delivery('#all-hands', 'slack', 0);
  all.contact = { key: 'broadcast:slack', name: '#all-hands' };

  const report = buildReport('r1', '.notify/runs/r1.jsonl', replayOf(
    ...planned(...ana, ...bob, ...cid, ...dee, all),
    { kind: 'unreachable', contact: { key: 'eve', name: 'Eve', line: 6 }, reason: 'no address on sms, email, slack, telegram' },
    attempting('ana/sms'), failed('ana/sms', 1, 'Twilio says the phone number is not valid', { final: true }),
    attempting('ana/email'), failed('ana/email', 1, 'the mail server refused this recipient', { final: true }),
    attempting('bob/sms'), failed('bob/sms', 1, 'the recipient opted out', { final: true }),
    attempting('bob/telegram'), delivered('bob/telegram'),
    attempting('cid/slack'),
    attempting('dee/sms'), failed('dee/sms', 1, 'no answer', { outcomeUnknown: true }), attempting('dee/sms', 2), delivered('dee/sms', 2),
    attempting(all.id), delivered(all.id),
  ));

  it('counts per channel; an attempt with no outcome is still pending', () => {
    expect(report.channels).toEqual({
      sms: { planned: 3, delivered: 1, failed: 2, pending: 0, skipped: 0 },
      email: { planned: 1, delivered: 0, failed: 1, pending: 0, skipped: 0 },
      telegram: { planned: 1, delivered: 1, failed: 0, pending: 0, skipped: 0 },
      slack: { planned: 2, delivered: 1, failed: 0, pending: 1, skipped: 0 },
    });
    expect(report.complete).toBe(false);
  });

  it('lists every failure with its reason and attempt count', () => {
    expect(report.failures).toEqual([
      { contact: 'ana', channel: 'sms', to: 'ana@sms', reason: 'Twilio says the phone number is not valid', attempts: 1 },
      { contact: 'ana', channel: 'email', to: 'ana@email', reason: 'the mail server refused this recipient', attempts: 1 },
      { contact: 'bob', channel: 'sms', to: 'bob@sms', reason: 'the recipient opted out', attempts: 1 },
    ]);
  });

  it('lists the people reached on no channel, with every reason, including those with no address at all', () => {
    expect(report.people).toEqual({ targeted: 5, reached: 2, notReached: 3 });
    expect(report.notReached).toEqual([
      { contact: 'ana', line: 2, reasons: ['sms: Twilio says the phone number is not valid', 'email: the mail server refused this recipient'] },
      { contact: 'cid', line: 4, reasons: [expect.stringMatching(/^slack: .*unknown/)] },
      { contact: 'Eve', line: 6, reasons: ['no address on sms, email, slack, telegram'] },
    ]);
  });

  it('flags what may have arrived twice', () => {
    expect(report.mayBeDuplicated).toEqual([{ contact: 'dee', channel: 'sms' }]);
  });

  it('--strategy first: a person reached on one channel, the rest skipped, is reached', () => {
    const fay = (['sms', 'telegram', 'email'] as const).map((c) => delivery('fay', c));
    const r = buildReport('r2', 'j', replayOf(
      ...planned(...fay),
      attempting('fay/sms'), failed('fay/sms', 1, 'invalid number', { final: true }),
      attempting('fay/telegram'), delivered('fay/telegram'),
      { kind: 'skipped', id: 'fay/email', reason: 'already reached by telegram' },
    ));
    expect(r.people).toEqual({ targeted: 1, reached: 1, notReached: 0 });
    expect(r.complete).toBe(true);
    expect(r.channels.email).toMatchObject({ skipped: 1 });
  });

  it('a message skipped by --skip-unknown does not count as reaching the person', () => {
    const gus = delivery('gus', 'sms');
    const r = buildReport('r3', 'j', replayOf(
      ...planned(gus), attempting(gus.id),
      { kind: 'skipped', id: gus.id, reason: 'outcome of the last attempt unknown; skipped by --skip-unknown (it may not have arrived)' },
    ));
    expect(r.people).toEqual({ targeted: 1, reached: 0, notReached: 1 });
    expect(r.notReached[0]?.reasons).toEqual([expect.stringMatching(/^sms: outcome of the last attempt unknown/)]);
  });
});
