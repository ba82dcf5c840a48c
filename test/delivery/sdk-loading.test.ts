/**
 * A live send loads the SDKs of the channels it sends on, and no other: twilio alone takes
 * more CPU to load than planning a small list.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseEnv, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';

const ONLY_SDKS = join(ROOT, 'test/helpers/only-sdks.mjs');

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

it('a send on email alone loads nodemailer and no other SDK, though every channel is configured', async () => {
  for (const [, fake] of fakes.all) fake.messages.length = 0;
  const cwd = tempDir();
  writeFileSync(join(cwd, 'contacts.csv'), readFileSync(join(ROOT, 'contacts.example.csv')));
  const env = baseEnv({ ...fakes.env, NOTIFY_TEST_SDKS: 'nodemailer' });
  const run = await runCli(['outage', '--yes', '--channels', 'email', '--var', 'eta=15:30', '--rate', 'all=off'], { cwd, env, nodeArgs: ['--import', ONLY_SDKS] });
  expect(run.stderr).not.toMatch(/SDK-LOADED/);
  expect(run.code).toBe(0);
  expect(fakes.email.messages.length).toBeGreaterThan(0);
  for (const channel of ['sms', 'slack', 'telegram'] as const) expect(fakes[channel].messages).toEqual([]);
});

it('the guard works: the same send on every channel is stopped at the first other SDK', async () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'contacts.csv'), readFileSync(join(ROOT, 'contacts.example.csv')));
  const env = baseEnv({ ...fakes.env, NOTIFY_TEST_SDKS: 'nodemailer' });
  const run = await runCli(['outage', '--yes', '--var', 'eta=15:30', '--rate', 'all=off'], { cwd, env, nodeArgs: ['--import', ONLY_SDKS] });
  expect(run.stderr).toMatch(/SDK-LOADED: (twilio|@slack\/web-api|node-telegram-bot-api)/);
  expect(run.code).toBe(98);
});
