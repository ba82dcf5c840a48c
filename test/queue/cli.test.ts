/**
 * The queue's edges a user meets first: a wrong URL or password, a Redis that is not there,
 * a dry run (which never touches Redis), `check --queue`, an ACL user. Exit 2 and one
 * sentence naming the flag or variable; never the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { crowd, workdir, type LiveRun } from '../delivery/helpers.js';
import { startWorkers, stopWorkers } from './helpers.js';
import { freePort, redisAvailable, startRedis, type RedisServer } from './redis.js';

describe.skipIf(!redisAvailable())('queue: flags, errors, check, ACL users', () => {
  let redis: RedisServer;
  const SECRET = 'n0t-in-0utput';
  beforeAll(async () => {
    // An ACL user with a password, and the default user switched off, as a production Redis would be.
    redis = await startRedis({ args: ['--user', 'default', 'off', '--user', 'notify', 'on', `>${SECRET}`, '~*', '&*', '+@all'] });
  });
  afterAll(() => redis?.close());
  const url = (password = SECRET) => `redis://notify:${password}@127.0.0.1:${redis.port}`;

  it('a URL that is not Redis, a refused password, a Redis not running: exit 2, the flag or variable named, no password shown', async () => {
    const cwd = workdir(crowd(3));
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--queue', `http://u:${SECRET}@127.0.0.1:1`], {}, /--queue http:\/\/u:\*\*\*@127\.0\.0\.1:1 must start with redis:\/\/ or rediss:\/\//],
      [['--queue', url('wrong-pass')], {}, /Cannot reach the queue at redis:\/\/notify:\*\*\*@127\.0\.0\.1:\d+ \(--queue\): the user name or password was refused/],
      [[], { NOTIFY_QUEUE_URL: `redis://x:${SECRET}@127.0.0.1:${await freePort()}` }, /Cannot reach the queue at .* \(NOTIFY_QUEUE_URL\): connection refused/],
    ];
    for (const [args, env, message] of cases) {
      const result = await runCli(['drill', '--yes', ...args], { cwd, env: baseEnv(env) });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr + result.stdout).not.toContain(SECRET);
    }
    const worker = await runCli(['worker', '--queue', url('wrong-pass')], { cwd, env: baseEnv({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006' }) });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/password was refused/);
    expect(worker.stderr).not.toContain(SECRET);
    const noQueue = await runCli(['worker'], { cwd, env: baseEnv() });
    expect(noQueue.code).toBe(2);
    expect(noQueue.stderr).toMatch(/--queue .* NOTIFY_QUEUE_URL/);
  });

  it('a dry run never touches Redis, even with a queue set', async () => {
    const cwd = workdir(crowd(3));
    const result = await runCli(['drill', '--dry-run', '--queue', 'redis://127.0.0.1:1'], { cwd, env: baseEnv({ NOTIFY_QUEUE_URL: 'not a url' }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/Redis|Cannot reach|Queued/);
  });

  it('check --queue: Redis answers and each channel has a live worker; names the channel that has none', async () => {
    const cwd = workdir(crowd(3));
    const env = baseEnv({ NOTIFY_QUEUE_URL: url() });
    const none = await runCli(['check', '--scenario', 'drill', '--channels', 'sms,email', '--queue', '--json'], { cwd, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no live worker serves sms; start one/);
    expect(JSON.parse(none.stdout).queue).toMatchObject({ reachable: true, workers: [] });

    const { startTwilioFake } = await import('../fakes/twilio.js');
    const twilio = await startTwilioFake();
    let workers: LiveRun[] = [];
    try {
      workers = await startWorkers(1, { cwd, env: { ...env, ...twilio.env }, args: ['--channels', 'sms'] });
      const some = await runCli(['check', '--scenario', 'drill', '--channels', 'sms,email', '--queue', '--json'], { cwd, env });
      expect(some.code).toBe(2);
      expect(some.stderr).not.toMatch(/serves sms/);
      expect(some.stderr).toMatch(/no live worker serves email/);
      const sms = await runCli(['check', '--scenario', 'drill', '--channels', 'sms', '--queue'], { cwd, env });
      expect(sms.code, sms.stderr).toBe(0);
      expect(sms.stderr).toMatch(/1 live worker\(s\)/);
      expect(sms.stderr).not.toContain(SECRET);
      expect(twilio.sendAttempts()).toBe(0); // checking sends nothing
    } finally {
      await stopWorkers(workers);
      await twilio.close();
    }
  }, 60_000);
});
