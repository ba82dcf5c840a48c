/**
 * Receipts: an SMS accepted, then reported `undelivered` (30003) by the carrier, is not
 * delivered after `notify report --refresh` — with the reason in plain words — and with
 * --strategy first the person's next channel goes out on the next poll (or resume).
 */
import { writeFileSync } from 'node:fs';
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
const CONTACTS = `name,role,groups,phone,email,slack,telegram,locale
Alice Martin,lead,staff|crisis-team,+33639980101,alice@example.com,,,fr
Bob Stone,ops,staff|crisis-team,+33639980102,bob@example.com,,,en
`;

async function firstStrategyRun() {
  fakes.email.messages.length = 0;
  const cwd = tempDir();
  writeFileSync(join(cwd, 'contacts.csv'), CONTACTS);
  const env = baseEnv(fakes.env);
  const sent = await runCli(['drill', '--yes', '--strategy', 'first', '--priority', 'sms,email', ...FAST], { cwd, env });
  expect(sent.code).toBe(0);
  expect(fakes.email.messages.filter((m) => m.to === 'alice@example.com')).toHaveLength(0); // SMS reached her: no email
  fakes.sms.setStatus('+33639980101', 'undelivered', 30003);
  fakes.sms.setStatus('+33639980102', 'delivered');
  return { cwd, env };
}

describe('delivery receipts', () => {
  it('report --refresh shows an undelivered SMS as not delivered, with the carrier reason; the next poll tries email', async () => {
    const { cwd, env } = await firstStrategyRun();
    const report = await runCli(['report', '--refresh', '--json'], { cwd, env });
    expect(report.stderr).toMatch(/2 new final status/);
    expect(report.code).toBe(1);
    const json = JSON.parse(report.stdout);
    expect(json.failures).toEqual([expect.objectContaining({ contact: 'Alice Martin', channel: 'sms', reason: expect.stringMatching(/undelivered after it was accepted: the handset is unreachable/) })]);
    expect(json.channels.sms).toMatchObject({ delivered: 1, failed: 1 });
    // A second refresh adds nothing.
    expect((await runCli(['report', '--refresh'], { cwd, env })).stderr).toMatch(/0 new final status/);

    const poll = await runCli(['rollcall'], { cwd, env });
    expect(poll.stderr).toMatch(/Trying the next channel for 1 person/);
    expect(fakes.email.messages.filter((m) => m.to === 'alice@example.com')).toHaveLength(1);
    expect(fakes.email.messages.filter((m) => m.to === 'bob@example.com')).toHaveLength(0);
    const after = JSON.parse((await runCli(['report', '--json'], { cwd, env })).stdout);
    expect(after.people.notReached).toBe(0);
  });

  it('notify resume also sends the next channel after an undelivered receipt', async () => {
    const { cwd, env } = await firstStrategyRun();
    await runCli(['report', '--refresh'], { cwd, env });
    const runId = JSON.parse((await runCli(['report', '--json'], { cwd, env })).stdout).runId;
    const resumed = await runCli(['resume', runId, '--yes', ...FAST], { cwd, env });
    expect(resumed.code).toBe(0);
    expect(fakes.email.messages.map((m) => m.to)).toEqual(['alice@example.com']);
  });
});
