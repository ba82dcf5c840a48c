/** The core pipeline as a user meets it: the built CLI in a subprocess. */
import { cpSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, NO_NETWORK, ROOT, runCli, tempDir } from './helpers/cli.js';

const EXAMPLE = readFileSync(join(ROOT, 'contacts.example.csv'), 'utf8');
const journalOf = (cwd: string) => {
  const dir = join(cwd, '.notify/runs');
  const [file] = readdirSync(dir);
  return { path: join(dir, file!), entries: readFileSync(join(dir, file!), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) };
};

describe('notify <scenario> --dry-run on the shipped example', () => {
  it('plans every contact on every channel, writes the journal, opens no connection and loads no SDK', async () => {
    const cwd = tempDir();
    const result = await runCli(['outage', '--dry-run', '--json'], { cwd, nodeArgs: ['--import', NO_NETWORK] });
    expect(result.stderr).not.toMatch(/NETWORK-ATTEMPT|SDK-LOADED/);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('using the shipped example list');
    expect(result.stderr).toMatch(/sms\s+9\s+9/);

    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ scenario: 'outage', dryRun: true, complete: true, failures: [], notReached: [] });
    const contacts = EXAMPLE.trim().split('\n').length - 1;
    expect(report.people.targeted).toBe(contacts);

    const { path, entries } = journalOf(cwd);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(entries[0]).toMatchObject({ kind: 'run', scenario: 'outage', dryRun: true });
    const planned = entries.filter((e) => e.kind === 'planned');
    expect(planned).toHaveLength(Object.values(report.channels as Record<string, { planned: number }>).reduce((n, c) => n + c.planned, 0));
    // Nothing was delivered: one record says the whole plan was checked (a record per message said nothing more).
    expect(entries.filter((e) => e.kind === 'delivered')).toHaveLength(0);
    expect(entries.filter((e) => e.kind === 'checked')).toEqual([expect.objectContaining({ messages: planned.length })]);
    expect(entries.at(-1)).toMatchObject({ kind: 'finished', interrupted: false });
  });

  it('the no-network guard itself works: a live send trips it', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), EXAMPLE);
    const env = baseEnv({ TELEGRAM_BOT_TOKEN: '1:x', TELEGRAM_API_URL: 'http://127.0.0.1:9' });
    const result = await runCli(['drill', '--yes', '--channels', 'telegram'], { cwd, env, nodeArgs: ['--import', NO_NETWORK] });
    expect(result.stderr).toMatch(/SDK-LOADED: node-telegram-bot-api|NETWORK-ATTEMPT/);
  });

  it('shows one preview per template with the rendered text', async () => {
    const result = await runCli(['outage', '--dry-run', '--channels', 'sms'], {});
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/── sms · .*sms\.vip\.fr\.hbs/);
    expect(result.stderr).toContain('WhatsApp');
    expect(result.stderr).not.toMatch(/── email/);
  });

  it('prints usage for --help with examples', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('notify outage --dry-run');
    for (const cmd of ['check', 'preview', 'resume', 'report', 'contacts', 'status-page']) expect(result.stdout).toContain(cmd);
  });
});

describe('bad input: one clear sentence, exit 2, no stack trace, nothing sent', () => {
  const badContacts = () => {
    const cwd = tempDir();
    const lines = EXAMPLE.trim().split('\n');
    lines[6] = 'Bad Phone,client,vip,06 12,,,,fr';
    writeFileSync(join(cwd, 'contacts.csv'), lines.join('\n') + '\n');
    return cwd;
  };
  const cases: [string, string[], RegExp, (() => string)?][] = [
    ['a missing contacts file', ['outage', '--dry-run', '--contacts', 'nope.csv'], /nope\.csv does not exist; pass the contact list with --contacts/],
    ['a bad phone on line 7', ['outage', '--dry-run'], /contacts\.csv:7: phone "06 12" is not a valid number/, badContacts],
    ['an unknown scenario', ['outrage', '--dry-run'], /Unknown scenario "outrage"; the templates in .* define: alert-team, alert-team-recovered, alert-team-reminder, drill, outage, resolved, update/],
    ['--channels fax', ['outage', '--dry-run', '--channels', 'fax'], /--channels fax: "fax" is not a channel; choose from sms, email, slack, telegram/],
    ['an unknown flag', ['outage', '--dry-rnu'], /unknown option '--dry-rnu'/],
    ['a bad --var', ['outage', '--dry-run', '--var', 'eta'], /--var "eta" must be written key=value/],
    ['--max-sms-segments zero', ['outage', '--dry-run', '--max-sms-segments', '0'], /--max-sms-segments 0 must be a whole number/],
    ['an unknown group', ['outage', '--dry-run', '--group', 'vipp'], /--group: no contact is in group "vipp"/],
    ['a live send without contacts.csv', ['outage', '--yes'], /no contacts\.csv in this folder; pass your list with --contacts FILE/],
  ];
  it.each(cases)('%s', async (_name, args, message, setup) => {
    const cwd = setup ? setup() : tempDir();
    const result = await runCli(args, { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    // No run was recorded (a refused plan's journal is deleted).
    expect(existsSync(join(cwd, '.notify/runs')) ? readdirSync(join(cwd, '.notify/runs')) : []).toEqual([]);
  });

  it('a template using an undefined variable names the file, line and variable', async () => {
    const cwd = tempDir();
    cpSync(join(ROOT, 'templates'), join(cwd, 'templates'), { recursive: true });
    writeFileSync(join(cwd, 'templates/outage/sms.staff.en.hbs'), 'Down until {{eta}}.\nCall {{hotlines}}\n');
    const result = await runCli(['outage', '--dry-run'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/templates\/outage\/sms\.staff\.en\.hbs:2: uses \{\{hotlines\}\}, which is not provided/);
    expect(result.stderr).toMatch(/nothing was sent/);
  });

  it('a journal that cannot be written stops the run before anything is sent', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, '.notify'), 'not a folder');
    const result = await runCli(['outage', '--dry-run'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'notify: .notify here is a file, not a folder: notify keeps its run journals in .notify/runs/; rename or remove that file (it was not written by notify), or run notify from another folder; nothing was sent.\n',
    );
  });

  it('--skip-invalid plans without the bad row and still lists it', async () => {
    const cwd = badContacts();
    const result = await runCli(['outage', '--dry-run', '--skip-invalid'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/contacts\.csv:7: skipped: phone "06 12"/);
  });
});

describe('live sends are deliberate', () => {
  const withContacts = () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), EXAMPLE);
    return cwd;
  };
  it('names the missing credentials per channel and exits 2', async () => {
    const result = await runCli(['outage', '--yes', '--var', 'eta=14:00'], { cwd: withContacts() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/sms needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID/);
    expect(result.stderr).toMatch(/email needs SMTP_URL, MAIL_FROM/);
    expect(result.stderr).toMatch(/slack needs SLACK_BOT_TOKEN/);
    expect(result.stderr).toMatch(/telegram needs TELEGRAM_BOT_TOKEN/);
  });

  it('refuses to send an example value: a live send needs the scenario variables', async () => {
    const result = await runCli(['outage', '--yes'], { cwd: withContacts() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/variable "eta" has no value; pass it with --var eta=/);
  });

  it('without a terminal it needs --yes', async () => {
    const env = baseEnv({ TELEGRAM_BOT_TOKEN: '123:abc', TELEGRAM_API_URL: 'http://127.0.0.1:9' });
    const result = await runCli(['outage', '--channels', 'telegram', '--var', 'eta=14:00'], { cwd: withContacts(), env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/add --yes to send them/);
  });
});
