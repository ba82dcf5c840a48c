/**
 * The audit trail, through the built CLI: a real dry run's journal, then edited the ways a
 * tamperer (or a crash) would edit it; `notify audit verify` must name the first bad line,
 * tell a torn last line from tampering, and say "no audit chain" for old journals.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { redactArgv } from '../src/commands/audit-header.js';
import { linkHash } from '../src/core/chain.js';
import { baseEnv, NO_NETWORK, runCli, tempDir } from './helpers/cli.js';
import { journalLines, planned, delivery, runRecord, writeJournal } from './delivery/journals.js';

const run = (cwd: string, args: string[]) => runCli(args, { cwd, env: baseEnv(), nodeArgs: ['--import', NO_NETWORK] });

let original: string[];
let runId: string;

beforeAll(async () => {
  const cwd = tempDir('notify-audit-');
  const result = await run(cwd, ['outage', '--dry-run', '--var', 'eta=14:00', '--var', 'slack_token=xoxb-not-for-the-journal']);
  expect(result.code, result.stderr).toBe(0);
  const name = readdirSync(join(cwd, '.notify/runs')).find((f) => f.endsWith('.jsonl'))!;
  runId = name.slice(0, -'.jsonl'.length);
  original = readFileSync(join(cwd, '.notify/runs', name), 'utf8').trimEnd().split('\n');
  expect(original.length).toBeGreaterThan(20);
});

/** A fresh folder holding the journal as `lines` (joined, newline at the end unless `torn`). */
function journalWith(lines: string[], { torn = false } = {}) {
  const cwd = tempDir('notify-audit-');
  writeJournal(cwd, runId, lines);
  if (torn) writeFileSync(join(cwd, '.notify/runs', `${runId}.jsonl`), lines.join('\n'));
  return cwd;
}

describe('notify audit verify', () => {
  it('an untouched journal: intact, with who ran it, the command line (secrets redacted) and the head hash', async () => {
    const result = await run(journalWith(original), ['audit', 'verify', runId, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`audit chain intact, ${original.length} records`);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ intact: true, chained: true, records: original.length, torn: [] });
    expect(json.head).toBe(linkHash(original.at(-1)!));
    const header = JSON.parse(original[0]!).audit;
    expect(header).toMatchObject({ chain: 1, argv: ['outage', '--dry-run', '--var', 'eta=14:00', '--var', 'slack_token=[redacted]'] });
    expect(header.inputs.contacts.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(header.inputs.templates.files).toBeGreaterThan(10);
    expect(original.join('\n')).not.toContain('xoxb-not-for-the-journal');
    // Every record after the run record links to the one before it.
    for (let i = 1; i < original.length; i++) expect(JSON.parse(original[i]!).prev).toBe(linkHash(original[i - 1]!));
  });

  it('one byte flipped in a middle record (still valid JSON) → exit 1 naming that line', async () => {
    const lines = [...original];
    const middle = Math.floor(lines.length / 2);
    lines[middle - 1] = lines[middle - 1]!.replace(/"attempt":1/, '"attempt":2').replace(/"locale":"fr"/, '"locale":"en"');
    expect(lines[middle - 1]).not.toBe(original[middle - 1]);
    const result = await run(journalWith(lines), ['audit', 'verify', runId]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`:${middle}: line ${middle} was changed after it was written`);
  });

  it('one byte flipped so the line no longer parses → exit 1 naming that line', async () => {
    const lines = [...original];
    lines[9] = lines[9]!.replace('"kind"', '"ki\u0000d"').replace('{', '[');
    const result = await run(journalWith(lines), ['audit', 'verify', runId]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(':10: line 10 is not a record');
  });

  it('a line deleted → exit 1 naming where it was', async () => {
    const lines = original.filter((_, i) => i !== 11); // line 12
    const result = await run(journalWith(lines), ['audit', 'verify', runId]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(':12: records are missing before line 12');
  });

  it('two lines swapped → exit 1 naming the first of them', async () => {
    const lines = [...original];
    [lines[14], lines[15]] = [lines[15]!, lines[14]!]; // lines 15 and 16
    const result = await run(journalWith(lines), ['audit', 'verify', runId]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/:15: (records are missing before line 15|line 15 is out of order)/);
  });

  it('a last line torn by a crash is reported as torn, not tampered (exit 0)', async () => {
    const lines = [...original];
    lines[lines.length - 1] = lines.at(-1)!.slice(0, 40);
    const result = await run(journalWith(lines, { torn: true }), ['audit', 'verify', runId]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Line ${lines.length} was cut short by a crash (torn), not tampered with.`);
  });

  it('a torn run that was resumed keeps one unbroken chain, the torn line written past', async () => {
    // Cut the run after 20 records, mid-record, as a power cut would; resume it (a dry run: the outbox).
    const lines = original.slice(0, 20);
    lines.push(original[20]!.slice(0, 30));
    const cwd = journalWith(lines, { torn: true });
    const resumed = await run(cwd, ['resume', runId, '--yes']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = await run(cwd, ['audit', 'verify', runId]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('audit chain intact');
    expect(result.stderr).toContain('Line 21 was cut short by a crash (torn), not tampered with.');
  });

  it('a journal from before the audit chain: "no audit chain" (exit 1), and report still reads it', async () => {
    const cwd = tempDir('notify-audit-');
    const id = '2025-01-01-0900-drill-0ld1';
    const d = delivery(id, 1, 'sms');
    writeJournal(cwd, id, journalLines([runRecord(id), planned(d), { kind: 'delivered', id: d.id, attempt: 1, receipt: { providerId: 'SM1' } }, { kind: 'finished', interrupted: false }]));
    const result = await run(cwd, ['audit', 'verify', id]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no audit chain');
    const report = await run(cwd, ['report', id, '--json']);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout).channels.sms).toMatchObject({ planned: 1, delivered: 1 });
  });
});

describe('notify audit export', () => {
  it('csv: one row per outcome with person, channel, template, provider id; unknown record kinds exported generically', async () => {
    // A roll-call reply (a kind this version does not know), chained like any record.
    const lines = [...original];
    const last = JSON.parse(lines.at(-1)!);
    const firstSms = JSON.parse(lines.find((l) => l.includes('"kind":"planned"') && l.includes('"channel":"sms"'))!);
    lines.push(JSON.stringify({ at: '2030-01-01T00:00:00.000Z', seq: last.seq + 1, prev: linkHash(lines.at(-1)!), kind: 'reply', id: firstSms.id, answer: 'safe' }));
    const cwd = journalWith(lines);
    expect((await run(cwd, ['audit', 'verify', runId])).code).toBe(0);

    const csv = await run(cwd, ['audit', 'export', runId, '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('time,event,person,channel,template,to,outcome,provider_id,attempt,line,details');
    // A dry run: its one "checked" record becomes a row per planned message.
    const planned = original.filter((l) => l.includes('"kind":"planned"')).length;
    expect(rows.filter((r) => r.includes(',checked,'))).toHaveLength(planned);
    expect(rows.find((r) => r.includes(`,checked,${firstSms.contact.name},sms,${firstSms.template},${firstSms.to},checked (dry run: not sent),`))).toBeDefined();
    const reply = rows.find((r) => r.includes(',reply,'))!;
    expect(reply).toContain(`${firstSms.contact.name},sms,${firstSms.template}`);
    expect(reply).toContain('""answer"":""safe""');

    const json = await run(cwd, ['audit', 'export', runId, '--format', 'json']);
    const timeline = JSON.parse(json.stdout) as Record<string, string>[];
    const smsRow = timeline.find((r) => r.event === 'checked' && r.person === firstSms.contact.name && r.channel === 'sms')!;
    expect(smsRow).toMatchObject({ template: firstSms.template, to: firstSms.to, outcome: 'checked (dry run: not sent)' });
    expect(timeline.at(-1)).toMatchObject({ event: 'reply', person: firstSms.contact.name, outcome: 'reply' });
  });

  it('--format xml is refused in one sentence (exit 2)', async () => {
    const result = await run(journalWith(original), ['audit', 'export', runId, '--format', 'xml']);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the command line in the run record', () => {
  const env = { env: { TWILIO_AUTH_TOKEN: 'tok-12345678', SMTP_URL: 'smtp://u:p@h' } as Record<string, string> };
  it.each([
    [['outage', '--var', 'eta=14:00'], ['outage', '--var', 'eta=14:00']],
    [['outage', '--var', 'api_key=abc'], ['outage', '--var', 'api_key=[redacted]']],
    [['outage', '--var=password=abc'], ['outage', '--var=password=[redacted]']],
    [['outage', '--var', 'note=tok-12345678'], ['outage', '--var', 'note=[redacted]']],
    [['check', '--x', 'smtps://me:hunter2@mail.example.com'], ['check', '--x', 'smtps://me:[redacted]@mail.example.com']],
  ])('%j → %j', (argv, expected) => expect(redactArgv(argv, env)).toEqual(expected));
});
