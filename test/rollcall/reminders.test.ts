/**
 * Reminders and escalation through the real SDKs and the fakes: one reminder per silent
 * person, on a different channel when they have one; nobody who answered is reminded; the
 * escalate_to contact is told once; a second poll sends nothing more.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

const FAST = ['--rate', 'all=off', '--concurrency', 'all=8'];
const CONTACTS = `name,role,groups,phone,email,slack,telegram,locale,escalate_to
Alice Martin,lead,staff|crisis-team,+33639980101,alice@example.com,,2001,fr,
Bob Stone,ops,staff|crisis-team,+33639980102,,,,en,Marc Chef
Carol Vidal,ops,staff|crisis-team,+33639980103,,,,fr,Marc Chef
Marc Chef,manager,managers,,,,2009,fr,
`;

const records = (cwd: string, kind: string) => {
  const dir = join(cwd, '.notify/runs');
  return readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.kind === kind);
};

describe('rollcall --remind-after / --escalate-after', () => {
  it('reminds each silent person once, on their next channel, and tells escalate_to once', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), CONTACTS);
    const env = baseEnv(fakes.env);
    expect((await runCli(['drill', '--yes', '--strategy', 'first', '--channels', 'sms,telegram,email', '--priority', 'sms,telegram,email', ...FAST], { cwd, env })).code).toBe(0);
    expect(fakes.telegram.messages.filter((m) => m.to === '2001')).toHaveLength(0); // SMS reached Alice first
    fakes.sms.reply('+33639980103', '1'); // Carol answers

    const flags = ['--remind-after', '1ms', '--max-reminders', '1', '--escalate-after', '1ms', '--json'];
    const first = await runCli(['rollcall', ...flags], { cwd, env });
    expect(first.code).toBe(1);
    const reminders = records(cwd, 'reminder');
    expect(reminders.map((r) => [r.to, r.channel]).sort()).toEqual([['+33639980102', 'sms'], ['2001', 'telegram']]);
    // Alice, last told by SMS, is reminded on Telegram, with the reminder template.
    expect(fakes.telegram.messages.filter((m) => m.to === '2001').map((m) => m.text)).toEqual([expect.stringContaining('RAPPEL')]);
    expect(fakes.sms.messages.filter((m) => m.to === '+33639980103')).toHaveLength(1); // Carol answered: no reminder
    // Bob stays silent: Marc Chef, his escalate_to, is told once, on his only channel.
    const told = fakes.telegram.messages.filter((m) => m.to === '2009');
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toMatch(/Bob Stone n'a pas répondu à l'exercice depuis \d\d:\d\d ; essayé par sms ; téléphone \+33639980102/);
    const tally = JSON.parse(first.stdout);
    expect(tally.people.find((p: { name: string }) => p.name === 'Bob Stone')).toMatchObject({ status: 'silent', reminders: 1, escalated: true });

    const sentBefore = fakes.all.map(([, f]) => f.messages.length);
    const second = await runCli(['rollcall', ...flags], { cwd, env });
    expect(second.code).toBe(1);
    expect(fakes.all.map(([, f]) => f.messages.length)).toEqual(sentBefore);
    expect(records(cwd, 'escalation')).toHaveLength(1);
  });

  it('refuses a run whose scenario declares no answers, with exit 2 and what to add', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), CONTACTS);
    const env = baseEnv(fakes.env);
    expect((await runCli(['outage', '--yes', '--var', 'eta=15:00', '--channels', 'sms', '--rate', 'all=off'], { cwd, env })).code).toBe(0);
    const result = await runCli(['rollcall'], { cwd, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/scenario "outage", which declares no answers, so it is not a roll call; add answers: \{"1": safe, "2": needs help\}/);
  });

  it('refuses a malformed duration with one sentence and exit 2', async () => {
    const result = await runCli(['rollcall', 'x', '--remind-after', 'soon'], { cwd: tempDir(), env: baseEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--remind-after soon is not a duration; write it like 10m or 1h\./);
  });
});
