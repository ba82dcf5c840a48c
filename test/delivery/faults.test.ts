/**
 * Injected faults, end to end: the built CLI sends through the real SDKs to the loopback
 * fakes, which answer 429 with Retry-After, 500/503, reset the connection, hang past the
 * time limit, answer SMTP 421/451, or refuse an address for good. Afterwards every planned
 * delivery must be delivered exactly once or failed with its reason — counted on the
 * fakes' side and compared with the journal, the `--json` report and `notify report`.
 *
 * One send at a time per channel (`--concurrency all=1`) makes the fault order exact: the
 * first person on a channel takes the first queued faults until they succeed or run out of
 * attempts, the second takes the rest. No timing is asserted.
 *
 * The per-attempt time limit is generous (HANG_LIMIT_S): only the scripted hang, which the
 * fake never answers, runs into it. With a limit of one second, a busy machine let ordinary
 * answers run past it too, and the attempt counts changed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/core/journal.js';
import type { RunReport } from '../../src/core/report.js';
import type { ChannelName } from './helpers.js';
import { baseEnv, runCli } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import { copiesPerDelivery, journal, pathOf, phone, plannedIn, runIdIn, workdir, type Person } from './helpers.js';

const CHANNELS: ChannelName[] = ['sms', 'email', 'slack', 'telegram'];
/** Seconds a hang lasts before the attempt is given up: bounds a hang, never an answer. */
const HANG_LIMIT_S = 5;
const FLAGS = ['--yes', '--json', '--rate', 'all=off', '--concurrency', 'all=1', '--attempt-timeout', String(HANG_LIMIT_S)];

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeEach(async () => {
  fakes = await startAllFakes();
});
afterEach(() => fakes.close());

const everywhere = (name: string, i: number): Person => ({
  name, phone: phone(i), email: `${name.toLowerCase()}@example.com`, slack: `U0${name.toUpperCase()}`, telegram: String(3000 + i),
});
const addressOf = (p: Person, channel: ChannelName) =>
  ({ sms: p.phone!.replace(/ /g, ''), email: p.email, slack: p.slack, telegram: p.telegram })[channel]!;

describe('every delivery ends delivered exactly once or failed with its reason', () => {
  // Alice's retries (~4 s of Retry-After and backoff), then Bob's hang: the run takes ~10 s.
  it('through 429 + Retry-After, 500, 503, resets, hangs, SMTP 421/451 and permanent refusals', async () => {
    const alice = everywhere('Alice', 1); // first on every channel: takes four faults in a row, runs out of attempts
    const bob = everywhere('Bob', 2); // second: a hang, then one more fault, then delivered
    const carol = everywhere('Carol', 3); // refused for good on every channel
    const others = ['Dan', 'Eli', 'Fia', 'Gil'].map((n, i) => everywhere(n, 4 + i));
    const eve: Person = { name: 'Eve' }; // no address at all
    const people = [alice, bob, carol, ...others, eve];

    for (const channel of ['sms', 'slack', 'telegram'] as const) {
      fakes[channel].fail(
        { kind: 'rate-limit', retryAfterS: 1 }, { kind: 'server-error', status: 500 }, { kind: 'reset' }, { kind: 'server-error', status: 503 }, // Alice
        { kind: 'hang' }, { kind: 'rate-limit', retryAfterS: 1 }, // Bob
      );
    }
    fakes.email.fail(
      { kind: 'server-error' }, { kind: 'temporary' }, { kind: 'reset' }, { kind: 'temporary' }, // Alice: 421, 451, reset, 451
      { kind: 'hang' }, { kind: 'server-error' }, // Bob: no answer, then 421
    );
    for (const channel of CHANNELS) fakes[channel].failFor(addressOf(carol, channel), { kind: 'permanent' });

    const cwd = workdir(people);
    const result = await runCli(['drill', ...FLAGS], { cwd, env: baseEnv(fakes.env) });
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as RunReport;
    const entries = journal(cwd);
    const planned = plannedIn(entries);
    const copies = copiesPerDelivery(fakes, planned);
    const id = (p: Person, channel: ChannelName) => planned.find((d) => d.contact.name === p.name && d.channel === channel)!.id;
    const reasons = (p: Person, c: ChannelName) =>
      entries.filter((e): e is Extract<JournalEntry, { kind: 'failed' }> => e.kind === 'failed' && e.id === id(p, c)).map((e) => e.reason);

    // What the fakes received: exactly one copy of each delivered message, none of the failed ones.
    expect(planned).toHaveLength(7 * 4);
    for (const d of planned) {
      const expected = d.contact.name === 'Alice' || d.contact.name === 'Carol' ? 0 : 1;
      expect(copies.get(d.id), `${d.channel} to ${d.contact.name}`).toBe(expected);
    }
    const receivedTotal = CHANNELS.reduce((n, c) => n + fakes[c].messages.length, 0);
    const deliveredTotal = Object.values(report.channels).reduce((n, c) => n + c.delivered, 0);
    expect(receivedTotal).toBe(deliveredTotal);

    for (const channel of CHANNELS) {
      expect(report.channels[channel], channel).toEqual({ planned: 7, delivered: 5, failed: 2, pending: 0, skipped: 0 });
      // The path each delivery took: every fault cost one attempt, nothing more.
      expect(pathOf(entries, id(alice, channel)), `${channel}: ${reasons(alice, channel).join(' | ')}`).toEqual([
        'attempting#1', 'failed#1', 'attempting#2', 'failed#2', 'attempting#3', 'failed#3', 'attempting#4', 'failed#4 final',
      ]);
      expect(pathOf(entries, id(bob, channel)), `${channel}: ${reasons(bob, channel).join(' | ')}`).toEqual(['attempting#1', 'failed#1', 'attempting#2', 'failed#2', 'attempting#3', 'delivered#3']);
      expect(pathOf(entries, id(carol, channel)), channel).toEqual(['attempting#1', 'failed#1 final']);
      for (const p of others) expect(pathOf(entries, id(p, channel)), `${channel} ${p.name}`).toEqual(['attempting#1', 'delivered#1']);
      // Bob's first attempt hung past the time limit: its outcome is unknown, so he may have it twice.
      const bobsHang = entries.find((e) => e.kind === 'failed' && e.id === id(bob, channel) && e.attempt === 1);
      expect(bobsHang, channel).toMatchObject({ outcomeUnknown: true, final: false });
      // Every request the fake saw is an attempt in the journal, and the other way round.
      const attempts = entries.filter((e) => e.kind === 'attempting' && planned.find((d) => d.id === e.id)?.channel === channel).length;
      expect(fakes[channel].sendAttempts(), channel).toBe(attempts);
    }

    // The failures, with their reasons: retries exhausted for Alice, refused at once for Carol.
    const failure = (p: Person, c: ChannelName) => report.failures.find((f) => f.contact === p.name && f.channel === c);
    expect(failure(alice, 'sms')).toMatchObject({ attempts: 4, reason: 'Twilio had a server error (HTTP 503)' });
    expect(failure(alice, 'slack')).toMatchObject({ attempts: 4, reason: expect.stringMatching(/Slack had a server error \(HTTP 503\)/) });
    expect(failure(alice, 'telegram')).toMatchObject({ attempts: 4, reason: expect.stringMatching(/Telegram had a server error \(503/) });
    expect(failure(alice, 'email')).toMatchObject({ attempts: 4, reason: expect.stringMatching(/temporary failure.*451/) });
    expect(failure(carol, 'sms')).toMatchObject({ attempts: 1, reason: expect.stringMatching(/phone number is not valid/) });
    expect(failure(carol, 'email')).toMatchObject({ attempts: 1, reason: expect.stringMatching(/refused this recipient/) });
    expect(failure(carol, 'slack')).toMatchObject({ attempts: 1, reason: expect.stringMatching(/Slack channel not found/) });
    expect(failure(carol, 'telegram')).toMatchObject({ attempts: 1, reason: expect.stringMatching(/blocked the bot/) });
    expect(report.failures).toHaveLength(8);
    // Faults on the way are in the journal with their own reasons (Retry-After, 421, reset…).
    expect(reasons(alice, 'slack')[0]).toMatch(/asked to wait 1 s/);
    expect(reasons(alice, 'sms')[0]).toMatch(/limiting the sending rate/);
    expect(reasons(alice, 'email')[0]).toMatch(/421|connection/);
    expect(reasons(bob, 'sms')[0]).toMatch(/time limit/);

    // Who was not reached, with every reason; Eve had no address to begin with.
    expect(report.people).toEqual({ targeted: 8, reached: 5, notReached: 3 });
    expect(report.notReached.map((p) => p.contact)).toEqual(['Alice', 'Carol', 'Eve']);
    expect(report.notReached.find((p) => p.contact === 'Carol')?.reasons).toEqual([
      expect.stringMatching(/^sms: .*not valid/), expect.stringMatching(/^email: .*refused this recipient/),
      expect.stringMatching(/^slack: .*not found/), expect.stringMatching(/^telegram: .*blocked/),
    ]);
    expect(report.notReached.find((p) => p.contact === 'Eve')?.reasons).toEqual([expect.stringMatching(/no address on sms, email, slack, telegram/)]);
    expect(result.stderr).toMatch(/Not reached on any channel:[\s\S]*Carol[\s\S]*Eve/);
    expect(report.mayBeDuplicated).toEqual(CHANNELS.map((channel) => ({ contact: 'Bob', channel })));

    // The journal alone tells the same story, later.
    const later = await runCli(['report', runIdIn(cwd)!, '--json'], { cwd, env: baseEnv() });
    expect(later.code).toBe(1);
    const replayed = JSON.parse(later.stdout) as RunReport;
    expect({ ...replayed, journal: '' }).toEqual({ ...report, journal: '' });
  });
});
