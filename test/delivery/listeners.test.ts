/**
 * A large live send must not print Node's "Possible EventTarget memory leak" warning: the
 * dispatcher once added an 'abort' listener per attempt to the run's shared signal, and
 * with more than 10 sends in flight across the channels Node printed it on every send.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import { crowd, workdir } from './helpers.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

it('sends a few hundred messages with many in flight and prints no MaxListenersExceededWarning', async () => {
  fakes.sms.messages.length = 0;
  const cwd = workdir(crowd(300)); // 300 SMS, 300 emails, 150 Telegram, 100 Slack
  // 8 in flight per channel: 32 attempts at once, well past Node's limit of 10 listeners.
  const result = await runCli(['outage', '--yes', '--expect-count', '300', '--var', 'eta=14:00', '--rate', 'all=off', '--concurrency', 'all=8'], {
    cwd, env: baseEnv(fakes.env),
  });
  expect(result.code).toBe(0);
  expect(fakes.sms.messages).toHaveLength(300);
  expect(result.stderr).not.toMatch(/MaxListenersExceeded|memory leak/);
}, 120_000);

it('prints no MaxListenersExceededWarning when many messages wait to be retried at once', async () => {
  const cwd = workdir(crowd(40));
  // The first 16 sends, all in flight together, are told to come back in 2 s: 16 retry waits at once.
  fakes.sms.fail(...Array.from({ length: 16 }, () => ({ kind: 'rate-limit' as const, retryAfterS: 2 })));
  const result = await runCli(['outage', '--yes', '--var', 'eta=14:00', '--channels', 'sms', '--rate', 'all=off', '--concurrency', 'sms=16'], {
    cwd, env: baseEnv(fakes.env),
  });
  expect(result.code).toBe(0);
  expect(result.stderr).not.toMatch(/MaxListenersExceeded|memory leak/);
}, 120_000);
