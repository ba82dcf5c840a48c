/**
 * The whole path with the real SDKs: the built CLI sends the example plan to the four
 * loopback fakes, and what the fakes received must match the plan, the journal and --json.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../src/core/journal.js';
import { baseEnv, ROOT, runCli, tempDir } from './helpers/cli.js';
import { startAllFakes } from './helpers/fakes.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

const FAST = ['--rate', 'all=off', '--concurrency', 'all=8'];

function workdir(contacts = readFileSync(join(ROOT, 'contacts.example.csv'), 'utf8')) {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'contacts.csv'), contacts);
  return cwd;
}
/** The run's journal, planned records with their message (from the live run's message store). */
const journal = (cwd: string) => {
  const dir = join(cwd, '.notify/runs');
  return readJournal(readdirSync(dir).find((f) => f.endsWith('.jsonl'))!.slice(0, -'.jsonl'.length), cwd);
};
const reset = () => {
  for (const [, f] of fakes.all) f.messages.length = 0;
};

describe('notify outage --yes against the four fake providers', () => {
  it('delivers exactly the planned messages, once each, and the journal and --json agree', async () => {
    reset();
    const cwd = workdir();
    const env = baseEnv({ ...fakes.env, SLACK_CHANNEL: '#all-hands', TELEGRAM_CHAT_ID: '-100999' });
    // The dry run plans the same deliveries (a dry run keeps only the digests of its messages).
    const dry = await runCli(['outage', '--dry-run', '--var', 'eta=15:30'], { cwd, env });
    expect(dry.code).toBe(0);
    const dryPlanned = journal(cwd).filter((e) => e.kind === 'planned');

    const liveDir = workdir();
    const live = await runCli(['outage', '--yes', '--json', '--var', 'eta=15:30', ...FAST], { cwd: liveDir, env });
    expect(live.stderr).not.toMatch(/failed/i);
    expect(live.code).toBe(0);
    const report = JSON.parse(live.stdout);
    // The live run's journal is the expectation: what it says was sent is what arrived.
    const planned = journal(liveDir).filter((e) => e.kind === 'planned');
    const who = (p: { channel: string; to?: string; template: string }) => `${p.channel} ${p.to} ${p.template}`;
    expect(planned.map(who).sort()).toEqual(dryPlanned.map(who).sort());

    for (const [channel, fake] of fakes.all) {
      const expected = planned.filter((p) => p.channel === channel);
      expect(fake.messages.map((m) => m.to).sort(), channel).toEqual(expected.map((p) => p.message.to).sort());
      for (const p of expected) {
        const got = fake.messages.find((m) => m.to === p.message.to)!;
        // Run ids differ between the two runs; everything else is identical.
        const strip = (s: string | undefined) => s?.replace(/\d{4}-\d\d-\d\d-\d{4}-outage-[0-9a-f]{4}/g, 'RUN').replace(/\r\n/g, '\n');
        expect(strip(got.text), `${channel} to ${p.contact.name}`).toBe(strip(p.message.text));
        if (p.message.subject) expect(got.subject).toBe(p.message.subject);
        if (p.message.html) expect(strip(got.html)?.trim()).toBe(strip(p.message.html));
      }
      expect(report.channels[channel]).toMatchObject({ planned: expected.length, delivered: expected.length, failed: 0 });
    }
    // Broadcasts go once, not once per contact.
    expect(fakes.slack.messages.filter((m) => m.to === '#all-hands')).toHaveLength(1);
    expect(fakes.telegram.messages.filter((m) => m.to === '-100999')).toHaveLength(1);

    // The journal of the live run records one delivery per message the fakes received, with provider ids.
    const liveCwd = live.stdout ? report.journal : '';
    expect(liveCwd).toMatch(/\.notify\/runs\/.*\.jsonl$/);
    expect(report.people.notReached).toBe(0);
    const total = fakes.all.reduce((n, [, f]) => n + f.messages.length, 0);
    expect(Object.values(report.channels as Record<string, { delivered: number }>).reduce((n, c) => n + c.delivered, 0)).toBe(total);
  });

  it('messages two people of one name with neither phone nor email, each at their own address, as the warning says', async () => {
    reset();
    const cwd = workdir('name,role,groups,phone,email,slack,telegram,locale\nJean Martin,,staff,,,U0AAAA1,,fr\nJean Martin,,staff,,,U0BBBB2,,fr\n');
    const run = await runCli(['outage', '--yes', '--json', '--var', 'eta=15:30', '--channels', 'slack', ...FAST], { cwd, env: baseEnv(fakes.env) });
    expect(run.stderr).toContain('both rows will be messaged as two people');
    expect(run.code).toBe(0);
    expect(fakes.slack.messages.map((m) => m.to).sort()).toEqual(['U0AAAA1', 'U0BBBB2']);
    const report = JSON.parse(run.stdout);
    expect(report.channels.slack).toMatchObject({ planned: 2, delivered: 2 });
    expect(report.people).toMatchObject({ targeted: 2, reached: 2, notReached: 0 });
  });

  it('records provider ids and idempotency keys in the journal', async () => {
    reset();
    const cwd = workdir();
    const env = baseEnv(fakes.env);
    const result = await runCli(['drill', '--yes', ...FAST], { cwd, env });
    expect(result.code).toBe(0);
    const entries = journal(cwd);
    const delivered = entries.filter((e) => e.kind === 'delivered');
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.length).toBe(entries.filter((e) => e.kind === 'planned').length);
    for (const d of delivered) expect(d.receipt.providerId).toBeTruthy();
    const sids = delivered.filter((d) => d.receipt.providerId.startsWith('SM'));
    expect(sids.length).toBe(fakes.sms.messages.length);
    // The delivery id is the Twilio idempotency token and the email Message-ID.
    const ids = new Set(entries.filter((e) => e.kind === 'planned').map((e) => e.id));
    for (const m of fakes.sms.messages) expect(ids.has(m.idempotencyKey!)).toBe(true);
    for (const m of fakes.email.messages) expect(ids.has(m.idempotencyKey!.replace(/^<|@.*$/g, ''))).toBe(true);
  });

  it('with one channel set wrong, still delivers the others, names the broken one, exits 1, and resume --retry-failed finishes it', async () => {
    reset();
    const env = baseEnv({ ...fakes.env, SLACK_BOT_TOKEN: 'xoxb-wrong-token' });
    const cwd = workdir();
    const result = await runCli(['outage', '--yes', '--json', '--var', 'eta=15:30', ...FAST], { cwd, env });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.channels.slack.failed).toBe(report.channels.slack.planned);
    expect(report.channels.sms.delivered).toBe(report.channels.sms.planned);
    expect(report.channels.email.delivered).toBe(report.channels.email.planned);
    expect(fakes.slack.messages).toHaveLength(0);
    expect(result.stderr).toMatch(/SLACK_BOT_TOKEN/);
    expect(result.stderr).not.toContain('xoxb-wrong-token');
    expect(result.stdout).not.toContain('xoxb-wrong-token');

    // Fix the token and finish the same run: only the failed Slack messages go out.
    const before = fakes.all.map(([, f]) => f.messages.length);
    const resumed = await runCli(['resume', report.runId, '--retry-failed', '--yes', '--json', ...FAST], { cwd, env: baseEnv(fakes.env) });
    expect(resumed.code).toBe(0);
    const after = JSON.parse(resumed.stdout);
    expect(after.channels.slack).toMatchObject({ delivered: report.channels.slack.planned, failed: 0 });
    expect(fakes.slack.messages).toHaveLength(report.channels.slack.planned);
    expect(fakes.all.map(([, f]) => f.messages.length)).toEqual(before.map((n, i) => (fakes.all[i]![0] === 'slack' ? n + report.channels.slack.planned : n)));
  });

  it('notify check --live passes against the fakes and fails with a bad token, without printing it', async () => {
    const ok = await runCli(['check', '--live', '--json'], { cwd: workdir(), env: baseEnv(fakes.env) });
    expect(ok.stderr).toMatch(/sms: ok/);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).credentials).toEqual({ sms: 'ok', email: 'ok', slack: 'ok', telegram: 'ok' });
    const sent = fakes.all.reduce((n, [, f]) => n + f.messages.length, 0);

    const bad = await runCli(['check', '--live'], { cwd: workdir(), env: baseEnv({ ...fakes.env, TELEGRAM_BOT_TOKEN: '999:not-the-token' }) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/telegram: failed: .*TELEGRAM_BOT_TOKEN/);
    expect(bad.stderr).not.toContain('not-the-token');
    expect(fakes.all.reduce((n, [, f]) => n + f.messages.length, 0)).toBe(sent); // a check sends nothing
  });

  it('--status-page regenerates the page from the journal after the send', async () => {
    const cwd = workdir();
    const env = baseEnv(fakes.env);
    const result = await runCli(['outage', '--yes', '--var', 'eta=17:45', '--status-page', 'public', '--channels', 'email', ...FAST], { cwd, env });
    expect(result.code).toBe(0);
    const status = JSON.parse(readFileSync(join(cwd, 'public/status.json'), 'utf8'));
    expect(status).toMatchObject({ state: 'down', eta: '17:45', service: 'WhatsApp' });
    expect(readFileSync(join(cwd, 'public/index.html'), 'utf8')).toContain('17:45');
  });
});
