/**
 * What a new user's probes met on the way (issue 13, "poor messages and rough edges"): each
 * answer is one sentence saying what is wrong and what to do, exit 2 for bad input.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, ROOT, runCli, tempDir } from './helpers/cli.js';

const EXAMPLE = readFileSync(join(ROOT, 'contacts.example.csv'), 'utf8');
const withExample = () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'contacts.csv'), EXAMPLE);
  return cwd;
};
const NO_STACK = /\n\s+at .*\.js:\d+/;

describe('command line', () => {
  it('--debug is accepted after the subcommand, as the "run again with --debug" hint says', async () => {
    const report = await runCli(['report', '--debug'], { cwd: withExample() });
    expect(report.stderr).not.toMatch(/unknown option/);
    const send = await runCli(['outage', '--dry-run', '--channels', 'sms', '--debug'], { cwd: withExample() });
    expect(send.stderr).not.toMatch(/unknown option/);
    expect(send.code).toBe(0);
  });

  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('notify <scenario> --help shows the scenario and its values with their examples and defaults', async () => {
    const outage = await runCli(['outage', '--help']);
    expect(outage.code).toBe(0);
    expect(outage.stdout).toMatch(/Usage: notify outage/);
    expect(outage.stdout).toMatch(/eta\s+Expected time of recovery/);
    expect(outage.stdout).toContain('example: 14:00');
    expect(outage.stdout).toMatch(/hotline\s+\+33 1 99 00 12 34/);
    const update = await runCli(['--help', 'update']);
    expect(update.stdout).toMatch(/progress\s+What has changed/);
    expect(update.stdout).toContain('--var progress="the provider has found the fault"');
    // Subcommands keep their own help.
    expect((await runCli(['check', '--help'])).stdout).toMatch(/Usage: notify check/);
  });

  it('--max-attempts 1.5 is refused: attempts are whole numbers', async () => {
    const result = await runCli(['outage', '--dry-run', '--max-attempts', '1.5'], { cwd: withExample() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--max-attempts 1\.5: attempts are counted in whole numbers/);
  });
});

describe('the contact list', () => {
  it('a folder given as contacts is called a folder', async () => {
    const cwd = withExample();
    mkdirSync(join(cwd, 'lists'));
    const result = await runCli(['outage', '--dry-run', '--contacts', 'lists'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/lists is a folder, not a CSV file; pass the contact list file itself/);
    expect(result.stderr).not.toMatch(/permissions/);
  });

  it('a binary file given as contacts is called a binary file, not a Windows export', async () => {
    const result = await runCli(['contacts', 'check', process.execPath], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a binary file, not a CSV/);
    expect(result.stderr).not.toMatch(/is not UTF-8|Windows\/Excel export/);
  });

  it('--contact ignores accents and case', async () => {
    const result = await runCli(['outage', '--dry-run', '--json', '--contact', 'elodie  MARCHAND'], { cwd: withExample() });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).people.targeted).toBe(1);
  });

  it('--contact that finds nobody suggests the closest names', async () => {
    const result = await runCli(['outage', '--dry-run', '--contact', 'Elodie Marchant'], { cwd: withExample() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no contact is named "Elodie Marchant"; did you mean "Élodie Marchand"\?/);
    const partial = await runCli(['outage', '--dry-run', '--contact', 'Marchand'], { cwd: withExample() });
    expect(partial.stderr).toMatch(/did you mean "Élodie Marchand" or "Martine Marchand"\?/);
  });

  it('the same name with another phone is warned about (usually a stale row)', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), [
      'name,role,groups,phone,email,slack,telegram,locale',
      'Élodie Marchand,lead,staff,+33 6 39 98 01 01,elodie@example.com,,,fr',
      'Elodie Marchand,lead,staff,+33 6 39 98 09 09,,,,fr',
    ].join('\n') + '\n');
    const result = await runCli(['contacts', 'check'], { cwd });
    expect(result.stderr).toMatch(/contacts\.csv:3.*same name as line 2 \(Élodie Marchand\) but another phone and email/);
  });

  it('notify contacts check with no contacts.csv checks the example list, like a dry run, and says so', async () => {
    const result = await runCli(['contacts', 'check'], { cwd: tempDir() });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/checking the shipped example list \(contacts\.example\.csv\)/);
    expect(result.stderr).toMatch(/contacts\.example\.csv: 11 contacts/);
  });

  it('NOTIFY_CONTACTS pointing at a missing file says the path came from that variable', async () => {
    const result = await runCli(['outage', '--dry-run'], { cwd: tempDir(), env: baseEnv({ NOTIFY_CONTACTS: 'gone.csv' }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/NOTIFY_CONTACTS is set to gone\.csv, which does not exist; correct or unset that variable/);
  });
});

describe('.env', () => {
  it('a malformed line is reported by number, without its content', async () => {
    const cwd = withExample();
    writeFileSync(join(cwd, '.env'), '# Twilio\nTWILIO_ACCOUNT_SID=AC0123\n\nTWILIO_AUTH_TOKEN s3cr3t-t0ken\nTWILIO_FROM=+33639980000\n');
    const result = await runCli(['check'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\.env:4: the line for TWILIO_AUTH_TOKEN is not NAME=value/);
    expect(result.stderr + result.stdout).not.toContain('s3cr3t');
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('quoted values over several lines, comments and export are well-formed', async () => {
    const cwd = withExample();
    writeFileSync(join(cwd, '.env'), 'export NOTIFY_DEFAULT_REGION=FR\nMAIL_FROM="Crisis\nteam <crisis@example.com>"\n  # note\nSLACK_CHANNEL = #all-hands\n');
    const result = await runCli(['outage', '--dry-run', '--channels', 'sms'], { cwd });
    expect(result.stderr).not.toMatch(/\.env/);
    expect(result.code).toBe(0);
  });
});
