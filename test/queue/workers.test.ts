/**
 * `notify <scenario> --queue` with `notify worker` processes: a real redis-server of the
 * test's own, real BullMQ, the real SDKs against the loopback fakes. Delivered exactly once
 * by three workers; a worker killed mid-run; the per-channel rate held across workers,
 * read from the fake's own clock.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { baseEnv, runCli } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import { copiesPerDelivery, crowd, journal, phone, plannedIn, runIdIn, startCli, waitUntil, workdir, type ChannelName } from '../delivery/helpers.js';
import { attemptedAfterDelivered, inFlightOf, startWorkers, stopWorkers, workerIdOf } from './helpers.js';
import { redisAvailable, startRedis, type RedisServer } from './redis.js';
import type { LiveRun } from '../delivery/helpers.js';

const CHANNELS: ChannelName[] = ['sms', 'email', 'slack', 'telegram'];
const label = (p: { contact: { name: string } | string; channel: string }) => `${typeof p.contact === 'string' ? p.contact : p.contact.name}:${p.channel}`;

describe.skipIf(!redisAvailable())('sending through workers on Redis (BullMQ)', () => {
  let redis: RedisServer;
  let fakes: Awaited<ReturnType<typeof startAllFakes>>;
  let workers: LiveRun[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.close());
  beforeEach(async () => {
    fakes = await startAllFakes();
  });
  afterEach(async () => {
    await stopWorkers(workers);
    workers = [];
    await fakes.close();
  });
  /** Each test its own key prefix: one Redis, no test sees another's queues or limits. */
  const envFor = (prefix: string, extra: Record<string, string> = {}) =>
    baseEnv({ ...fakes.env, NOTIFY_QUEUE_URL: redis.url, NOTIFY_QUEUE_PREFIX: prefix, ...extra });

  it('3 workers, 2,000 contacts on 4 channels: each delivered exactly once; journal = report --queue = what the fakes received', async () => {
    const cwd = workdir(crowd(2000));
    const env = envFor('t-once');
    workers = await startWorkers(3, { cwd, env });
    const result = await runCli(['drill', '--yes', '--json', '--expect-count', '2000', '--rate', 'all=off'], { cwd, env });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    const entries = journal(cwd);
    const planned = plannedIn(entries);
    expect(planned.length).toBe(2000 + 2000 + 1000 + 667);
    const copies = copiesPerDelivery(fakes, planned);
    expect(planned.filter((p) => copies.get(p.id) !== 1).map(label)).toEqual([]);
    expect(CHANNELS.reduce((n, c) => n + fakes[c].messages.length, 0)).toBe(planned.length);
    expect(CHANNELS.reduce((n, c) => n + fakes[c].sendAttempts(), 0)).toBe(planned.length); // no attempt wasted either
    for (const c of CHANNELS) {
      const n = planned.filter((p) => p.channel === c).length;
      expect(report.channels[c], c).toEqual({ planned: n, delivered: n, failed: 0, pending: 0, skipped: 0 });
    }
    expect(report.mayBeDuplicated).toEqual([]);
    // Every delivery was recorded by the worker that sent it, and the three shared the work.
    const senders = new Set(entries.flatMap((e) => (e.kind === 'delivered' ? [(e as { worker?: string }).worker] : [])));
    expect(senders.size).toBe(3);

    const later = await runCli(['report', runIdIn(cwd)!, '--queue', '--json'], { cwd, env });
    expect(later.code, later.stderr).toBe(0);
    expect({ ...JSON.parse(later.stdout), journal: '' }).toEqual({ ...report, journal: '' });
  }, 180_000);

  it('kill -9 of one worker mid-run: all delivered; duplicates only among what it had in flight, each flagged; nothing delivered sent again', async () => {
    for (const [, fake] of fakes.all) fake.latencyMs = 40; // keep sends in flight
    const cwd = workdir(crowd(150));
    const env = envFor('t-kill');
    workers = await startWorkers(3, { cwd, env, args: ['--concurrency', '4'] });
    const live = startCli(['drill', '--yes', '--json', '--expect-count', '150', '--rate', 'all=off'], { cwd, env });
    const received = () => CHANNELS.reduce((n, c) => n + fakes[c].messages.length, 0);
    await waitUntil(() => received() >= 100, live, '100 messages arrived');
    const victim = workers[0]!;
    const victimId = workerIdOf(victim)!;
    victim.child.kill('SIGKILL');
    const result = await live.done;
    expect(result.code, result.stderr.slice(-2000)).toBe(0);

    const report = JSON.parse(result.stdout) as RunReport;
    const entries = journal(cwd);
    const planned = plannedIn(entries);
    const copies = copiesPerDelivery(fakes, planned);
    expect(planned.filter((p) => copies.get(p.id) === 0).map(label)).toEqual([]);
    const inFlight = inFlightOf(entries, victimId);
    expect(inFlight.size).toBeGreaterThan(0);
    const duplicated = planned.filter((p) => copies.get(p.id)! > 1);
    for (const p of duplicated) expect(inFlight.has(p.id), `${label(p)} arrived twice but was not in flight at the kill`).toBe(true);
    // Each in-flight delivery was sent again by another worker and flagged; no other is flagged.
    expect(report.mayBeDuplicated.map(label).sort()).toEqual(planned.filter((p) => inFlight.has(p.id)).map(label).sort());
    expect(attemptedAfterDelivered(entries)).toEqual([]);
    expect(report.complete).toBe(true);
    expect(report.failures).toEqual([]);
  }, 120_000);

  it('rate held across 3 workers: SMS at 5/s, 60 SMS — never more than 5 (+1, the limiter\'s one-job granularity) in any second of the fake\'s clock', async () => {
    const people = Array.from({ length: 60 }, (_, i) => ({ name: `P${i}`, phone: phone(i) }));
    const cwd = workdir(people);
    const env = envFor('t-rate');
    workers = await startWorkers(3, { cwd, env, args: ['--channels', 'sms', '--concurrency', '4'] });
    const result = await runCli(['drill', '--yes', '--expect-count', '60', '--channels', 'sms', '--rate', 'sms=5'], { cwd, env });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const times = fakes.sms.http.requests.filter((r) => r.method === 'POST').map((r) => r.at).sort((a, b) => a - b);
    expect(times).toHaveLength(60);
    // The limiter lets one job start every 200 ms, queue-wide. The fake sees arrivals, which
    // a job start precedes by a variable HTTP round trip: one extra in a window is that jitter.
    let most = 0;
    for (const [i, t] of times.entries()) most = Math.max(most, times.filter((u, j) => j >= i && u < t + 1000).length);
    expect(most, times.map((t) => t - times[0]!).join(" ")).toBeLessThanOrEqual(5 + 1);
    // And the three workers did share it (the limit is not per worker).
    const senders = new Set(journal(cwd).flatMap((e) => (e.kind === 'delivered' ? [(e as { worker?: string }).worker] : [])));
    expect(senders.size).toBeGreaterThan(1);
  }, 120_000);
});
