/**
 * Nothing goes out with a hole in it: an empty value for a variable the messages use, a
 * nested value from a --vars file, a template that renders to nothing, a contact column
 * the list does not have. Each is one sentence naming where to fix it, exit 2.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTwilioFake } from '../fakes/twilio.js';
import { baseEnv, ROOT, runCli, tempDir } from '../helpers/cli.js';

const EXAMPLE = readFileSync(join(ROOT, 'contacts.example.csv'), 'utf8');

/** A folder with the example contacts and an editable copy of the shipped templates. */
function workdir(): string {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'contacts.csv'), EXAMPLE);
  cpSync(join(ROOT, 'templates'), join(cwd, 'templates'), { recursive: true });
  return cwd;
}

let twilio: Awaited<ReturnType<typeof startTwilioFake>>;
beforeAll(async () => {
  twilio = await startTwilioFake();
});
afterAll(() => twilio.close());
beforeEach(() => {
  twilio.messages.length = 0;
});

describe('empty and nested variable values', () => {
  it('--var eta= (an unset shell variable) stops a live send, naming the variable and the flag', async () => {
    const result = await runCli(['outage', '--yes', '--channels', 'sms', '--var', 'eta='], { cwd: workdir(), env: baseEnv(twilio.env) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--var eta=.*"eta" is empty but the outage messages use \{\{eta\}\}/);
    expect(twilio.messages).toHaveLength(0);
  });

  it('a whitespace-only --var value counts as empty, in dry runs too', async () => {
    const result = await runCli(['update', '--dry-run', '--var', 'progress=  '], { cwd: workdir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/"progress" is empty/);
  });

  it('an empty value in a --vars file names the file and line', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'vars.yaml'), 'company: Exemple SARL\neta: ""\n');
    const result = await runCli(['outage', '--dry-run', '--vars', 'vars.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--vars vars\.yaml:2.*"eta" is empty/);
  });

  it('a key with nothing after it in a --vars file is empty too', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'vars.yaml'), 'eta:\n');
    const result = await runCli(['outage', '--dry-run', '--vars', 'vars.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--vars vars\.yaml:1.*"eta" is empty/);
  });

  it('an empty organisation value in variables.yaml names that file', async () => {
    const cwd = workdir();
    const file = join(cwd, 'templates/variables.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('value: "+33 1 99 00 12 34"', 'value: ""'));
    const result = await runCli(['check', '--scenario', 'outage'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/templates\/variables\.yaml.*"hotline" is empty/);
  });

  it('a nested value in a --vars file is refused with its line', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'vars.yaml'), 'company: Exemple SARL\neta: {h: 14}\n');
    const result = await runCli(['outage', '--dry-run', '--vars', 'vars.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--vars vars\.yaml:2: "eta" holds a list or nested values; give it plain text, a number or true\/false/);
    expect(result.stderr).not.toContain('[object Object]');
  });

  it('numbers and booleans from a --vars file are accepted as text', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'vars.json'), '{"eta": 14, "unused": true}');
    const result = await runCli(['outage', '--dry-run', '--channels', 'sms', '--vars', 'vars.json'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('expected back 14.');
  });

  it('a variable the scenario declares optional may be empty', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'templates/outage/scenario.yaml'), 'variables:\n  eta:\n    description: recovery time\n    optional: true\n');
    const given = await runCli(['outage', '--dry-run', '--channels', 'sms', '--var', 'eta='], { cwd });
    expect(given.stderr).not.toMatch(/is empty/);
    expect(given.code).toBe(0);
    // Optional also means it may be left out of a live send.
    const live = await runCli(['outage', '--yes', '--channels', 'sms', '--rate', 'all=off'], { cwd, env: baseEnv(twilio.env) });
    expect(live.stderr).not.toMatch(/has no value/);
    expect(live.code).toBe(0);
  });

  it('an empty value for a variable no template uses is not a problem', async () => {
    const result = await runCli(['outage', '--dry-run', '--channels', 'sms', '--var', 'eta=14:00', '--var', 'progress='], { cwd: workdir() });
    expect(result.code).toBe(0);
  });
});

describe('templates that render to nothing', () => {
  it('a whitespace-only SMS template stops the send and notify check names the file', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'templates/outage/sms.fr.hbs'), '  \n\n');
    const live = await runCli(['outage', '--yes', '--channels', 'sms', '--var', 'eta=14:00'], { cwd, env: baseEnv(twilio.env) });
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/templates\/outage\/sms\.fr\.hbs.*renders an empty message/);
    expect(twilio.messages).toHaveLength(0);
    const check = await runCli(['check', '--scenario', 'outage'], { cwd });
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/templates\/outage\/sms\.fr\.hbs.*renders an empty message/);
  });

  it('a template that is only an optional variable left empty renders nothing: refused', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'templates/outage/scenario.yaml'), 'variables:\n  eta:\n    optional: true\n');
    writeFileSync(join(cwd, 'templates/outage/sms.fr.hbs'), '{{eta}}\n');
    const result = await runCli(['outage', '--dry-run', '--channels', 'sms', '--var', 'eta='], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/sms\.fr\.hbs.*renders an empty message/);
  });

  it('an email subject of spaces names the file', async () => {
    const cwd = workdir();
    const file = join(cwd, 'templates/outage/email.en.hbs');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^subject: .*$/m, 'subject: "  "'));
    const result = await runCli(['check', '--scenario', 'outage'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/templates\/outage\/email\.en\.hbs.*no subject/);
  });
});

it('{{contact.societe}} missing from the contacts file names the column, not --var', async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, 'templates/outage/sms.fr.hbs'), 'Hello {{contact.name}}\nfrom {{contact.societe}}: down until {{eta}}.\n');
  const result = await runCli(['outage', '--dry-run', '--channels', 'sms'], { cwd });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/sms\.fr\.hbs:2: uses \{\{contact\.societe\}\}, but the contacts file has no "societe" column; add that column to the contacts file/);
  expect(result.stderr).not.toMatch(/--var societe/);
});
