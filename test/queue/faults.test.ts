/**
 * Faults around the queue: Redis killed mid-run and restarted; the lead detached and
 * reporting later; every worker killed and the run resumed. The promises checked each
 * time: nothing lost, nothing sent twice (or, where a sender died mid-send, only what it
 * had in flight, flagged).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { baseEnv, runCli } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import {
  copiesPerDelivery, crowd, journal, plannedIn, runIdIn, startCli, waitUntil, workdir, type ChannelName, type LiveRun,
} from '../delivery/helpers.js';
import { attemptedAfterDelivered, inFlightOf, startWorkers, stopWorkers, workerIdOf } from './helpers.js';
import { redisAvailable, startRedis, type RedisServer } from './redis.js';

const CHANNELS: ChannelName[] = ['sms', 'email', 'slack', 'telegram'];
const label = (p: { contact: { name: string } | string; channel: string }) => `${typeof p.contact === 'string' ? p.contact : p.contact.name}:${p.channel}`;

describe.skipIf(!redisAvailable())('queue faults', () => {
  let redis: RedisServer | undefined;
  let fakes: Awaited<ReturnType<typeof startAllFakes>>;
  let workers: LiveRun[] = [];
  beforeEach(async () => {
    fakes = await startAllFakes();
    for (const [, fake] of fakes.all) fake.latencyMs = 30;
  });
  afterEach(async () => {
    await stopWorkers(workers);
    workers = [];
    await fakes.close();
    await redis?.close();
    redis = undefined;
  });
  const envFor = (url: string) => baseEnv({ ...fakes.env, NOTIFY_QUEUE_URL: url });
  const received = () => CHANNELS.reduce((n, c) => n + fakes[c].messages.length, 0);

  it('Redis killed for 5 s mid-run and restarted: the workers and the lead wait and go on; nothing lost, nothing twice', async () => {
    redis = await startRedis({ persistent: true }); // appendfsync always: a SIGKILL loses no write
    const cwd = workdir(crowd(150));
    const env = envFor(redis.url);
    workers = await startWorkers(2, { cwd, env, args: ['--concurrency', '2'] });
    const live = startCli(['drill', '--yes', '--json', '--expect-count', '150', '--rate', 'all=off'], { cwd, env });
    await waitUntil(() => received() >= 60, live, '60 messages arrived');
    await redis.kill();
    const atOutage = received();
    await new Promise((r) => setTimeout(r, 5_000));
    await redis.start();
    const result = await live.done;
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
    expect(result.stderr).toContain('Redis is back');
    for (const w of workers) expect(w.stderr()).toMatch(/unreachable[\s\S]*Redis is back/);

    const report = JSON.parse(result.stdout) as RunReport;
    const planned = plannedIn(journal(cwd));
    const copies = copiesPerDelivery(fakes, planned);
    expect(planned.filter((p) => copies.get(p.id) !== 1).map((p) => `${label(p)} ×${copies.get(p.id)}`)).toEqual([]);
    expect(report.complete).toBe(true);
    // Flagged "may be duplicated" only where an attempt's outcome really was unknown (it timed
    // out: on a loaded machine a request can outlast its time limit); never for a Redis outage alone.
    const entries = journal(cwd);
    const unexplained = report.mayBeDuplicated.map((d) => planned.find((q) => q.contact.name === d.contact && q.channel === d.channel)!).filter((p) => {
      const records = entries.filter((e) => 'id' in e && e.id === p.id);
      return !records.some((e) => e.kind === 'failed' && e.outcomeUnknown && !/redis/i.test(e.reason));
    });
    expect(unexplained.map((p) => `${label(p)}: ${entries.filter((e) => 'id' in e && e.id === p.id && e.kind !== 'planned').map((e) => e.kind).join(' ')}`)).toEqual([]);
    expect(atOutage).toBeLessThan(planned.length); // the outage did fall mid-run
  }, 120_000);

  it('--detach, then report --queue before, while and after the workers send', async () => {
    redis = await startRedis();
    const cwd = workdir(crowd(100));
    const env = envFor(redis.url);
    const detached = await runCli(['drill', '--yes', '--detach', '--json', '--expect-count', '100', '--rate', 'all=off'], { cwd, env });
    expect(detached.code, detached.stderr).toBe(0);
    const runId = runIdIn(cwd)!;
    expect(detached.stderr).toContain('No worker is serving');
    expect(detached.stderr).toContain(`notify report ${runId}`);
    expect(received()).toBe(0);

    const before = await runCli(['report', runId, '--queue', '--json'], { cwd, env });
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout)).toMatchObject({ complete: false });
    expect(before.stderr).toContain('the workers may still be sending');

    workers = await startWorkers(1, { cwd, env, args: ['--concurrency', '1'] });
    const probe = startCli(['report', runId, '--queue', '--json'], { cwd, env }); // a handle for waitUntil
    await probe.done;
    await waitUntil(() => received() >= 40, workers[0]!, '40 messages arrived');
    const during = await runCli(['report', runId, '--queue', '--json'], { cwd, env });
    const mid = JSON.parse(during.stdout) as RunReport;
    const deliveredMid = Object.values(mid.channels).reduce((n, c) => n + c.delivered, 0);
    expect(deliveredMid).toBeGreaterThanOrEqual(40);

    const planned = plannedIn(journal(cwd));
    await waitUntil(() => received() >= planned.length, workers[0]!, 'every message arrived');
    // The last outcomes reach the stream right after the sends: ask until the report is complete.
    let after: RunReport | undefined;
    for (let i = 0; i < 50 && !after?.complete; i += 1) {
      const r = await runCli(['report', runId, '--queue', '--json'], { cwd, env });
      after = JSON.parse(r.stdout) as RunReport;
      if (!after.complete) await new Promise((res) => setTimeout(res, 100));
    }
    expect(after!.complete).toBe(true);
    for (const c of CHANNELS) {
      const n = planned.filter((p) => p.channel === c).length;
      expect(after!.channels[c], c).toEqual({ planned: n, delivered: n, failed: 0, pending: 0, skipped: 0 });
    }
    const copies = copiesPerDelivery(fakes, planned);
    expect(planned.filter((p) => copies.get(p.id) !== 1).map(label)).toEqual([]);
    // The journal took in each record once, however many reports read the stream.
    const entries = journal(cwd);
    expect(entries.filter((e) => e.kind === 'delivered')).toHaveLength(planned.length);
  }, 120_000);

  it('every worker killed mid-run: resume --queue with a new worker finishes; duplicates only among what was in flight, flagged', async () => {
    redis = await startRedis();
    const cwd = workdir(crowd(150));
    const env = envFor(redis.url);
    workers = await startWorkers(2, { cwd, env, args: ['--concurrency', '3'] });
    const live = startCli(['drill', '--yes', '--json', '--expect-count', '150', '--rate', 'all=off'], { cwd, env });
    await waitUntil(() => received() >= 80, live, '80 messages arrived');
    const ids = workers.map(workerIdOf);
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    live.child.kill('SIGINT'); // the lead stops following: it says the workers go on (here, they do not)
    const stopped = await live.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('The workers keep sending');
    const runId = runIdIn(cwd)!;

    workers = await startWorkers(1, { cwd, env, args: ['--concurrency', '4'] });
    // The queue's rates are the resume's (as in-process): without --rate, SMS would go at the default 1/s.
    const resumed = await runCli(['resume', runId, '--queue', '--yes', '--json', '--rate', 'all=off'], { cwd, env });
    expect(resumed.stderr).toMatch(/\d+ of them last seen being sent/);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(resumed.stdout) as RunReport;
    expect(report.complete).toBe(true);
    expect(report.failures).toEqual([]);

    const entries = journal(cwd);
    const planned = plannedIn(entries);
    const copies = copiesPerDelivery(fakes, planned);
    expect(planned.filter((p) => copies.get(p.id) === 0).map(label)).toEqual([]);
    const inFlight = new Set(ids.flatMap((id) => [...inFlightOf(entries, id!)]));
    for (const p of planned.filter((d) => copies.get(d.id)! > 1)) expect(inFlight.has(p.id), `${label(p)} twice, not in flight`).toBe(true);
    expect(report.mayBeDuplicated.map(label).sort()).toEqual(planned.filter((p) => inFlight.has(p.id)).map(label).sort());
    expect(attemptedAfterDelivered(entries)).toEqual([]);
  }, 150_000);
});
