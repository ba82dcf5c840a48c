/**
 * `--strategy first` end to end: each person is tried on their channels in priority order
 * (default sms, telegram, slack, email) until one delivers; a channel refused for good
 * falls back to the next. The fakes show who got what; the journal shows the path taken.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRIORITY } from '../../src/channels/index.js';
import type { RunReport } from '../../src/core/report.js';
import type { ChannelName } from './helpers.js';
import { baseEnv, runCli } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import { copiesPerDelivery, journal, pathOf, phone, plannedIn, runIdIn, workdir, type Person } from './helpers.js';

// The four channels these fakes serve: voice, also a default with --strategy first, has its own test (voice-calls.test.ts).
const FLAGS = ['--yes', '--json', '--rate', 'all=off', '--strategy', 'first', '--channels', 'sms,email,slack,telegram'];

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeEach(async () => {
  fakes = await startAllFakes();
});
afterEach(() => fakes.close());

describe('notify <scenario> --strategy first', () => {
  it('falls back past permanently failing channels, skips the rest, and the journal shows the path', async () => {
    const hana: Person = { name: 'Hana', phone: phone(11), email: 'hana@example.com', slack: 'U0HANA', telegram: '4011' };
    const ivo: Person = { name: 'Ivo', phone: phone(12), email: 'ivo@example.com', slack: 'U0IVO', telegram: '4012' };
    const jon: Person = { name: 'Jon', phone: phone(13), email: 'jon@example.com' };
    const kim: Person = { name: 'Kim', phone: phone(14), email: 'kim@example.com' };
    const lea: Person = { name: 'Lea', email: 'lea@example.com' };
    fakes.sms.failFor(phone(11).replace(/ /g, ''), { kind: 'permanent' }); // Hana: SMS refused → Telegram
    fakes.sms.failFor(phone(12).replace(/ /g, ''), { kind: 'permanent' }); // Ivo: SMS and Telegram refused → Slack
    fakes.telegram.failFor('4012', { kind: 'permanent' });
    fakes.sms.failFor(phone(14).replace(/ /g, ''), { kind: 'permanent' }); // Kim: refused everywhere
    fakes.email.failFor('kim@example.com', { kind: 'permanent' });

    const cwd = workdir([hana, ivo, jon, kim, lea]);
    const result = await runCli(['drill', ...FLAGS], { cwd, env: baseEnv(fakes.env) });
    expect(result.code, result.stderr).toBe(1); // some deliveries failed (and Kim was not reached)
    const report = JSON.parse(result.stdout) as RunReport;
    const entries = journal(cwd);
    const planned = plannedIn(entries);
    const path = (name: string, channel: ChannelName) => pathOf(entries, planned.find((d) => d.contact.name === name && d.channel === channel)!.id);

    expect(entries.find((e) => e.kind === 'run')).toMatchObject({ strategy: 'first', priority: [...DEFAULT_PRIORITY] }); // the registry's default order
    expect(path('Hana', 'sms')).toEqual(['attempting#1', 'failed#1 final']);
    expect(path('Hana', 'telegram')).toEqual(['attempting#1', 'delivered#1']);
    expect(path('Hana', 'slack')).toEqual(['skipped']);
    expect(path('Hana', 'email')).toEqual(['skipped']);
    expect(path('Ivo', 'sms')).toEqual(['attempting#1', 'failed#1 final']);
    expect(path('Ivo', 'telegram')).toEqual(['attempting#1', 'failed#1 final']);
    expect(path('Ivo', 'slack')).toEqual(['attempting#1', 'delivered#1']);
    expect(path('Ivo', 'email')).toEqual(['skipped']);
    expect(path('Jon', 'sms')).toEqual(['attempting#1', 'delivered#1']);
    expect(path('Jon', 'email')).toEqual(['skipped']);
    expect(path('Kim', 'sms')).toEqual(['attempting#1', 'failed#1 final']);
    expect(path('Kim', 'email')).toEqual(['attempting#1', 'failed#1 final']);
    expect(path('Lea', 'email')).toEqual(['attempting#1', 'delivered#1']);
    expect(entries.find((e) => e.kind === 'skipped' && e.id === planned.find((d) => d.contact.name === 'Hana' && d.channel === 'email')!.id))
      .toMatchObject({ reason: 'already reached by telegram' });

    // Each person reached at most once; only the channel that delivered saw a message.
    const copies = copiesPerDelivery(fakes, planned);
    const got = planned.filter((d) => copies.get(d.id)! > 0).map((d) => `${d.contact.name}:${d.channel}`).sort();
    expect(got).toEqual(['Hana:telegram', 'Ivo:slack', 'Jon:sms', 'Lea:email']);
    expect(Math.max(...copies.values())).toBe(1);
    // The refused channels were tried once each and not retried.
    expect(fakes.sms.sendAttempts()).toBe(4);
    expect(fakes.telegram.sendAttempts()).toBe(2);

    expect(report.complete).toBe(true);
    expect(report.channels).toEqual({
      sms: { planned: 4, delivered: 1, failed: 3, pending: 0, skipped: 0 },
      email: { planned: 5, delivered: 1, failed: 1, pending: 0, skipped: 3 },
      slack: { planned: 2, delivered: 1, failed: 0, pending: 0, skipped: 1 },
      telegram: { planned: 2, delivered: 1, failed: 1, pending: 0, skipped: 0 },
    });
    expect(report.people).toEqual({ targeted: 5, reached: 4, notReached: 1 });
    expect(report.notReached).toEqual([
      { contact: 'Kim', line: 5, reasons: [expect.stringMatching(/^sms: .*not valid/), expect.stringMatching(/^email: .*refused this recipient/)] },
    ]);
    expect(result.stderr).toMatch(/Failed on one channel but reached on another:[\s\S]*Hana · sms/);

    // The journal tells the same story later.
    const later = JSON.parse((await runCli(['report', runIdIn(cwd)!, '--json'], { cwd, env: baseEnv() })).stdout) as RunReport;
    expect(later.notReached).toEqual(report.notReached);
    expect(later.channels).toEqual(report.channels);
  });

  it('follows --priority', async () => {
    const mia: Person = { name: 'Mia', phone: phone(21), email: 'mia@example.com', telegram: '4021' };
    const cwd = workdir([mia]);
    const result = await runCli(['drill', ...FLAGS, '--priority', 'email,telegram,sms'], { cwd, env: baseEnv(fakes.env) });
    expect(result.code, result.stderr).toBe(0);
    expect(fakes.email.messages.map((m) => m.to)).toEqual(['mia@example.com']);
    expect(fakes.sms.sendAttempts() + fakes.telegram.sendAttempts()).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.channels.sms).toMatchObject({ skipped: 1 });
    expect(report.channels.telegram).toMatchObject({ skipped: 1 });
  });
});
