/**
 * Kill and resume: a live run of a few hundred deliveries through the real SDKs, stopped
 * midway by SIGKILL, Ctrl-C, or Ctrl-C twice, then finished with `notify resume`. Whatever
 * the stop, every planned delivery reaches the fakes; duplicates are at most the deliveries
 * in flight at the stop (the journal's "attempting" records with no outcome), none at all
 * on SMS, whose fake honours the Twilio idempotency token, and none at all after a single
 * Ctrl-C, which lets in-flight sends finish.
 *
 * The fakes hold their answers (test/fakes/gate.ts): each channel gets a fixed number of
 * answers, then every send in flight waits until the test releases it. So the stop always
 * lands with exactly those sends in flight, however slow the machine: nothing races a clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/core/journal.js';
import type { RunReport } from '../../src/core/report.js';
import type { ChannelName } from './helpers.js';
import { baseEnv, runCli } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import {
  copiesPerDelivery, crowd, inFlight, journal, plannedIn, runIdIn, startCli, waitUntil, workdir, type Planned,
} from './helpers.js';

const CHANNELS: ChannelName[] = ['sms', 'email', 'slack', 'telegram'];
/** Sends in flight at once per channel: what the fakes end up holding. */
const CONCURRENCY: Record<ChannelName, number> = { sms: 2, email: 2, slack: 2, telegram: 4 };
const IN_FLIGHT = CHANNELS.reduce((n, c) => n + CONCURRENCY[c], 0);
const PACE = ['--rate', 'all=off', '--concurrency', CHANNELS.map((c) => `${c}=${CONCURRENCY[c]}`).join(',')];
const PEOPLE = 100; // × 2 to 4 channels = 284 deliveries
/** Answers each channel gives before holding the rest: deliveries done before the stop. */
const ANSWERED = 10;

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeEach(async () => {
  fakes = await startAllFakes();
});
afterEach(() => {
  release();
  return fakes.close();
});

const holdAfter = (answers: number) => CHANNELS.forEach((c) => fakes[c].hold(answers));
const release = () => CHANNELS.forEach((c) => fakes[c].release());
/** Every channel has as many sends in flight as it may have, all held by the fakes. */
const allHeld = () => CHANNELS.every((c) => fakes[c].held() === CONCURRENCY[c]);

function statusAt(entries: JournalEntry[]): Map<string, string> {
  const status = new Map<string, string>();
  for (const e of entries) if ('id' in e) status.set(e.id, e.kind === 'planned' ? 'pending' : e.kind);
  return status;
}

/** `notify report <run-id> --json` on the stopped run: everything not delivered is pending. */
async function expectPendingReport(cwd: string, runId: string, planned: Planned[], deliveredBefore: number) {
  const result = await runCli(['report', runId, '--json'], { cwd, env: baseEnv() });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`notify resume ${runId}`);
  const report = JSON.parse(result.stdout) as RunReport;
  expect(report.complete).toBe(false);
  let pending = 0;
  for (const channel of CHANNELS) {
    const counts = report.channels[channel]!;
    expect(counts.planned, channel).toBe(planned.filter((p) => p.channel === channel).length);
    expect(counts.failed + counts.skipped, channel).toBe(0);
    expect(counts.delivered + counts.pending, channel).toBe(counts.planned);
    pending += counts.pending;
  }
  expect(pending).toBe(planned.length - deliveredBefore);
  expect(pending).toBeGreaterThan(0);
}

async function resume(cwd: string, runId: string, pace = PACE) {
  const result = await runCli(['resume', runId, '--yes', '--json', ...pace], { cwd, env: baseEnv(fakes.env) });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as RunReport;
  expect(report.complete).toBe(true);
  expect(report.failures).toEqual([]);
  expect(report.people.notReached).toBe(0);
  return { report, stderr: result.stderr };
}

/** Every planned delivery reached its fake at least once; returns the copies per delivery. */
function expectEveryoneReached(planned: Planned[]) {
  const copies = copiesPerDelivery(fakes, planned);
  const missed = planned.filter((p) => copies.get(p.id) === 0).map((p) => `${p.channel} to ${p.contact.name}`);
  expect(missed).toEqual([]);
  return copies;
}

const label = (p: { contact: { name: string } | string; channel: string }) =>
  `${typeof p.contact === 'string' ? p.contact : p.contact.name}:${p.channel}`;

describe('a live run of a few hundred deliveries, stopped midway and resumed', () => {
  it('SIGKILL: resume sends the rest; duplicates ≤ in flight at the kill, none on SMS; the report flags them', async () => {
    const cwd = workdir(crowd(PEOPLE));
    holdAfter(ANSWERED);
    const live = startCli(['drill', '--yes', '--expect-count', String(PEOPLE), '--json', ...PACE], { cwd, env: baseEnv(fakes.env) });
    await waitUntil(allHeld, live, 'every channel had sends in flight');
    live.child.kill('SIGKILL');
    await live.done;
    release(); // answers to a dead process, which nobody reads

    const runId = runIdIn(cwd)!;
    const atKill = journal(cwd);
    const planned = plannedIn(atKill);
    expect(planned).toHaveLength(284);
    expect(atKill.some((e) => e.kind === 'finished')).toBe(false);
    const status = statusAt(atKill);
    const deliveredBefore = [...status.values()].filter((s) => s === 'delivered').length;
    expect(deliveredBefore).toBe(ANSWERED * CHANNELS.length);
    const unknown = inFlight(atKill); // sent or not: nobody knows
    expect(unknown.size).toBe(IN_FLIGHT);
    // Nothing the journal calls delivered was lost; nothing it never attempted was sent.
    const copiesAtKill = copiesPerDelivery(fakes, planned);
    for (const p of planned) {
      if (status.get(p.id) === 'delivered') expect(copiesAtKill.get(p.id), p.id).toBe(1);
      if (status.get(p.id) === 'pending') expect(copiesAtKill.get(p.id), p.id).toBe(0);
    }

    await expectPendingReport(cwd, runId, planned, deliveredBefore);

    const { report, stderr } = await resume(cwd, runId);
    expect(stderr).toContain(`${unknown.size} of them with an unknown outcome`);
    for (const channel of CHANNELS) {
      const n = planned.filter((p) => p.channel === channel).length;
      expect(report.channels[channel], channel).toEqual({ planned: n, delivered: n, failed: 0, pending: 0, skipped: 0 });
    }

    const copies = expectEveryoneReached(planned);
    const duplicated = planned.filter((p) => copies.get(p.id)! > 1);
    const extra = duplicated.reduce((n, p) => n + copies.get(p.id)! - 1, 0);
    expect(extra).toBeLessThanOrEqual(unknown.size);
    for (const p of duplicated) expect(unknown.has(p.id), `${p.id} duplicated but not in flight`).toBe(true);
    for (const p of planned.filter((d) => d.channel === 'sms')) expect(copies.get(p.id), p.id).toBe(1);
    expect(fakes.sms.messages).toHaveLength(PEOPLE);
    // Delivered messages were never sent again: only the unknown ones were re-sent.
    const after = journal(cwd).slice(atKill.length);
    const resent = new Set(after.filter((e) => e.kind === 'attempting').map((e) => (e as { id: string }).id));
    for (const id of resent) expect(status.get(id), id).not.toBe('delivered');

    // The report names exactly the messages that may have arrived twice.
    const flagged = report.mayBeDuplicated.map(label).sort();
    expect(flagged).toEqual(planned.filter((p) => unknown.has(p.id)).map(label).sort());
    expect(stderr).toContain(`${unknown.size} message(s) may have arrived twice`);

    // Resuming a finished run sends nothing.
    const before = CHANNELS.map((c) => fakes[c].sendAttempts());
    const again = await runCli(['resume', runId, '--yes'], { cwd, env: baseEnv(fakes.env) });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing left to send');
    expect(CHANNELS.map((c) => fakes[c].sendAttempts())).toEqual(before);
  });

  it('Ctrl-C (SIGINT): in-flight sends finish, exit 130, and resume completes the rest with zero duplicates', async () => {
    const cwd = workdir(crowd(PEOPLE));
    holdAfter(ANSWERED);
    const live = startCli(['drill', '--yes', '--expect-count', String(PEOPLE), '--json', ...PACE], { cwd, env: baseEnv(fakes.env) });
    await waitUntil(allHeld, live, 'every channel had sends in flight');
    live.child.kill('SIGINT');
    await waitUntil(() => live.stderr().includes('Stopping'), live, 'the Ctrl-C was acknowledged');
    release(); // the sends in flight get their answers within the grace period
    const stopped = await live.done;
    expect(stopped.code, stopped.stderr).toBe(130);

    const runId = runIdIn(cwd)!;
    expect(stopped.stderr).toContain(`notify resume ${runId}`);
    const atStop = journal(cwd);
    const planned = plannedIn(atStop);
    expect(atStop.at(-1)).toMatchObject({ kind: 'finished', interrupted: true });
    expect(inFlight(atStop).size).toBe(0); // every send in flight finished and was recorded
    const status = statusAt(atStop);
    const deliveredBefore = [...status.values()].filter((s) => s === 'delivered').length;
    expect(deliveredBefore).toBe(ANSWERED * CHANNELS.length + IN_FLIGHT); // and nothing new started
    expect(JSON.parse(stopped.stdout)).toMatchObject({ runId, complete: false });
    // What the fakes hold is exactly what the journal says was delivered.
    const copiesAtStop = copiesPerDelivery(fakes, planned);
    for (const p of planned) expect(copiesAtStop.get(p.id), p.id).toBe(status.get(p.id) === 'delivered' ? 1 : 0);

    await expectPendingReport(cwd, runId, planned, deliveredBefore);

    // No pace flags: the run's own (rates off) are kept; at the defaults (SMS and Slack at
    // 1/s) the rest would take minutes, past the test's time limit.
    expect(atStop[0]).toMatchObject({ kind: 'run', tuning: { rate: ['all=off'], concurrency: [PACE[3]] } });
    const { report, stderr } = await resume(cwd, runId, []);
    expect(stderr).toContain(`At the pace the run was started with: --rate all=off --concurrency ${PACE[3]}`);
    const copies = expectEveryoneReached(planned);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(report.mayBeDuplicated).toEqual([]);
  });

  it('Ctrl-C twice: exits 130 at once; what was in flight is re-sent by resume, never twice on SMS', async () => {
    const cwd = workdir(crowd(20));
    holdAfter(0); // every send stays in flight
    const live = startCli(['drill', '--yes', ...PACE], { cwd, env: baseEnv(fakes.env) });
    await waitUntil(allHeld, live, 'sends were in flight on every channel');
    live.child.kill('SIGINT');
    await waitUntil(() => live.stderr().includes('Stopping'), live, 'the first Ctrl-C was acknowledged');
    live.child.kill('SIGINT');
    const stopped = await live.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/Resume with: notify resume \S+/);

    const runId = runIdIn(cwd)!;
    const atStop = journal(cwd);
    const planned = plannedIn(atStop);
    const unknown = inFlight(atStop);
    expect(unknown.size).toBe(IN_FLIGHT);
    expect(atStop.some((e) => e.kind === 'finished')).toBe(false);

    release();
    const { report } = await resume(cwd, runId);
    const copies = expectEveryoneReached(planned);
    const extra = planned.reduce((n, p) => n + copies.get(p.id)! - 1, 0);
    expect(extra).toBeLessThanOrEqual(unknown.size);
    for (const p of planned.filter((d) => d.channel === 'sms')) expect(copies.get(p.id), p.id).toBe(1);
    expect(report.mayBeDuplicated.map(label).sort()).toEqual(planned.filter((p) => unknown.has(p.id)).map(label).sort());
  });
});
