/** `notify check` as the nightly drill: every seeded fault found at once, no network, masked in CI. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, NO_NETWORK, ROOT, runCli, tempDir } from './helpers/cli.js';

const FAULTS = join(ROOT, 'test/fixtures/check-faults');

describe('notify check with seeded faults', () => {
  it('reports every fault at once, grouped, with exit 2 and no network connection', async () => {
    const env = baseEnv({
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000', TWILIO_AUTH_TOKEN: 'x', TWILIO_FROM: '+15005550006',
      SMTP_URL: 'smtp://user:secret-password@127.0.0.1:2525', // MAIL_FROM missing
    });
    const result = await runCli(
      ['check', '--json', '--channels', 'sms,email', '--contacts', join(FAULTS, 'contacts.csv'), '--templates', join(FAULTS, 'templates')],
      { env, nodeArgs: ['--import', NO_NETWORK] },
    );
    expect(result.stderr).not.toMatch(/NETWORK-ATTEMPT|SDK-LOADED/);
    expect(result.code).toBe(2);
    const err = result.stderr;
    expect(err).toMatch(/contacts\.csv:4: phone "06 12" is not a valid number/); // a bad phone
    expect(err).toMatch(/outage\/sms\.en\.hbs:1: uses \{\{hotline_number\}\}, which is not provided/); // undefined variable, one locale only
    expect(err).not.toMatch(/sms\.fr\.hbs:1: uses/);
    expect(err).toMatch(/outage\/sms\.fr\.hbs: This SMS takes 5 segments \(UCS-2.*the character "ê" forced UCS-2/); // over-budget SMS
    expect(err).toMatch(/board-brief\/scenario\.yaml: no contact is in group "board"/); // missing group
    expect(err).toMatch(/MAIL_FROM: email is used by the plan but not configured/); // missing credential
    expect(err).not.toMatch(/sms is used by the plan but not configured/);
    expect(err).toMatch(/outage\/email\.hbs: .*subject/i); // email without subject
    expect(err).not.toContain('secret-password');
    expect(err).toMatch(/notify check: FAILED/);

    const json = JSON.parse(result.stdout);
    expect(json.ok).toBe(false);
    expect(json.problems.length).toBeGreaterThanOrEqual(6);
    expect(json.credentials).toMatchObject({ sms: 'not checked', email: 'not configured' });
  });

  it('passes on the shipped example, and under CI=true prints no phone number or email address', async () => {
    const result = await runCli(['check'], { cwd: tempDir(), env: baseEnv({ CI: 'true' }), nodeArgs: ['--import', NO_NETWORK] });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/notify check: OK — 7 scenario\(s\), 11 contacts/);
    expect(result.stderr).not.toMatch(/[A-Za-z0-9._%+-]{2,}@example\.(com|org)/);
    expect(result.stderr).not.toMatch(/\+?\d(?:[ .]?\d){7,}/);
  });

  it('a dry run under CI=true masks every phone and email in its previews and report', async () => {
    const result = await runCli(['outage', '--dry-run'], { cwd: tempDir(), env: baseEnv({ CI: 'true' }) });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/[A-Za-z0-9._%+-]{2,}@example\.(com|org)/);
    expect(result.stderr).not.toMatch(/\+?\d(?:[ .]?\d){7,}/);
    expect(result.stderr).not.toMatch(/\x1b\[/); // no colour in CI
    expect(result.stderr.trim().split('\n').at(-1)).toBe('notify outage (dry run): OK — 30/30 messages checked, 0 failed, 0 pending; 11/11 people would be reached');
  });

  it('warns, without failing, about a landline that would get SMS', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), 'name,groups,phone,email,locale\nOffice,staff,01 99 00 12 34,office@example.com,fr\nAnne,staff,06 12 34 56 78,,fr\n');
    const env = baseEnv({
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000', TWILIO_AUTH_TOKEN: 'x', TWILIO_FROM: '+15005550006',
      SMTP_URL: 'smtp://u:p@127.0.0.1:2525', MAIL_FROM: 'crisis@example.com',
    });
    const result = await runCli(['check', '--json', '--scenario', 'outage', '--channels', 'sms,email'], { cwd, env });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/contacts line 2: Office's phone \+33199001234 is a landline: the sms message will fail there/);
    expect(JSON.parse(result.stdout).warnings).toHaveLength(1);
  });
});
