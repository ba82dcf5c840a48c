/**
 * `notify resume` on journals left in states a live test cannot produce on demand: an
 * attempt cut off at the end of the Ctrl-C grace period, a crash between a `--strategy
 * first` delivery and the "skipped" records after it. The journals are written by hand;
 * the resume sends through the real SDKs to the fakes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalEntry, NewEntry, RunInfo } from '../../src/core/journal.js';
import type { Delivery } from '../../src/core/plan.js';
import type { RunReport } from '../../src/core/report.js';
import type { ChannelName } from './helpers.js';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import { journal, pathOf } from './helpers.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeEach(async () => {
  fakes = await startAllFakes(); // fresh: the Twilio fake remembers idempotency tokens
});
afterEach(() => fakes.close());

const ADDRESS: Record<ChannelName, (n: number) => string> = {
  sms: (n) => `+3363998${String(7000 + n)}`,
  email: (n) => `p${n}@example.com`,
  slack: (n) => `U0R${n}`,
  telegram: (n) => String(7000 + n),
};

function delivery(runId: string, n: number, channel: ChannelName): Delivery {
  const id = `${runId}-${n}-${channel}`;
  const message = { deliveryId: id, channel, to: ADDRESS[channel](n), text: `Exercise ${n}`, ...(channel === 'email' && { subject: 'Exercise' }) };
  return { id, channel, template: `drill/${channel}.en.hbs`, locale: 'en', contact: { key: `p${n}`, name: `Person ${n}`, line: n + 1 }, message };
}

/** A journal as a crashed or stopped run leaves it, in a fresh working directory. */
function crafted(runId: string, strategy: RunInfo['strategy'], ds: Delivery[], records: NewEntry[]): string {
  const cwd = tempDir('notify-resume-');
  const run: NewEntry = {
    kind: 'run', runId, scenario: 'drill', dryRun: false, contactsFile: 'contacts.csv', templatesDir: 'templates',
    channels: ['sms', 'email', 'slack', 'telegram'], strategy, ...(strategy === 'first' && { priority: ['sms', 'telegram', 'slack', 'email'] }), variables: {},
  };
  const at = new Date().toISOString();
  const lines = [run, ...ds.map((d): NewEntry => ({ kind: 'planned', ...d })), ...records].map((e) => JSON.stringify({ at, ...e } as JournalEntry));
  mkdirSync(join(cwd, '.notify/runs'), { recursive: true });
  writeFileSync(join(cwd, '.notify/runs', `${runId}.jsonl`), lines.join('\n') + '\n', { mode: 0o600 });
  return cwd;
}

const attempting = (d: Delivery, attempt = 1): NewEntry => ({ kind: 'attempting', id: d.id, attempt });
const delivered = (d: Delivery, attempt = 1): NewEntry => ({ kind: 'delivered', id: d.id, attempt, receipt: { providerId: 'earlier' } });
const cutOff = (d: Delivery, attempt = 1): NewEntry => ({
  kind: 'failed', id: d.id, attempt, reason: 'no answer within the time limit; the message may or may not have been sent', retryable: true, final: false, outcomeUnknown: true,
});
const refused = (d: Delivery, attempt = 1): NewEntry => ({ kind: 'failed', id: d.id, attempt, reason: 'HTTP 503', retryable: true, final: false });

async function resume(cwd: string, runId: string, ...flags: string[]) {
  const result = await runCli(['resume', runId, '--yes', '--json', '--rate', 'all=off', ...flags], { cwd, env: baseEnv(fakes.env) });
  return { ...result, report: JSON.parse(result.stdout || '{}') as RunReport };
}

describe('notify resume: unknown outcomes', () => {
  const runId = '2025-01-01-0900-drill-aa01';
  const inFlight = delivery(runId, 1, 'slack'); // the process died mid-send
  const graceCut = delivery(runId, 2, 'telegram'); // cut off at the end of the Ctrl-C grace period
  const retrying = delivery(runId, 3, 'sms'); // refused (503), waiting to retry when stopped
  const untouched = delivery(runId, 4, 'email'); // never tried
  const done = delivery(runId, 5, 'sms');
  const ds = [inFlight, graceCut, retrying, untouched, done];
  const records = [attempting(done), delivered(done), attempting(inFlight), attempting(graceCut), cutOff(graceCut), attempting(retrying), refused(retrying)];

  it('re-sends them by default, continuing the attempt count, and flags them as maybe duplicated', async () => {
    const cwd = crafted(runId, 'all', ds, records);
    const { code, stderr, report } = await resume(cwd, runId);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('4 message(s) left, 2 of them with an unknown outcome');
    expect(fakes.slack.messages.map((m) => m.to)).toEqual([inFlight.message.to]);
    expect(fakes.telegram.messages.map((m) => m.to)).toEqual([graceCut.message.to]);
    expect(fakes.sms.messages.map((m) => m.to)).toEqual([retrying.message.to]); // not `done`: it was delivered
    expect(fakes.email.messages.map((m) => m.to)).toEqual([untouched.message.to]);
    const entries = journal(cwd);
    expect(pathOf(entries, inFlight.id)).toEqual(['attempting#1', 'attempting#2', 'delivered#2']);
    expect(pathOf(entries, retrying.id)).toEqual(['attempting#1', 'failed#1', 'attempting#2', 'delivered#2']);
    expect(report.mayBeDuplicated.map((m) => m.contact).sort()).toEqual(['Person 1', 'Person 2']);
    expect(report.complete).toBe(true);
  });

  it('--skip-unknown sends neither the one cut off mid-send nor the one cut off by the grace period, and says who may be missed', async () => {
    const cwd = crafted(runId, 'all', ds, records);
    const { code, stderr, report } = await resume(cwd, runId, '--skip-unknown');
    expect(code, stderr).toBe(0);
    expect(fakes.slack.messages).toEqual([]);
    expect(fakes.telegram.messages).toEqual([]);
    expect(fakes.sms.messages.map((m) => m.to)).toEqual([retrying.message.to]); // its outcome was known: refused
    expect(fakes.email.messages.map((m) => m.to)).toEqual([untouched.message.to]);
    const entries = journal(cwd);
    expect(pathOf(entries, inFlight.id)).toEqual(['attempting#1', 'skipped']);
    expect(pathOf(entries, graceCut.id)).toEqual(['attempting#1', 'failed#1', 'skipped']);
    expect(report.mayBeDuplicated).toEqual([]);
    // Skipped is not reached: the lead must check with these two by other means.
    expect(report.notReached.map((p) => p.contact)).toEqual(['Person 1', 'Person 2']);
    expect(report.notReached[0]?.reasons).toEqual([expect.stringMatching(/^slack: outcome of the last attempt unknown; skipped by --skip-unknown/)]);
  });
});

describe('notify resume: --strategy first', () => {
  it('closes the chain of a person already reached when the crash came before the "skipped" records', async () => {
    const runId = '2025-01-01-0900-drill-bb02';
    const sms = delivery(runId, 1, 'sms');
    const telegram = delivery(runId, 1, 'telegram');
    const email = delivery(runId, 1, 'email');
    const other = [delivery(runId, 2, 'sms'), delivery(runId, 2, 'email')];
    const cwd = crafted(runId, 'first', [sms, email, telegram, ...other], [attempting(sms), refused(sms), attempting(sms, 2), delivered(sms, 2)]);
    const { code, stderr, report } = await resume(cwd, runId);
    expect(code, stderr).toBe(0);
    // Person 1 was reached by SMS: nothing more for them. Person 2's chain runs from the start.
    expect(fakes.email.messages).toEqual([]);
    expect(fakes.telegram.messages).toEqual([]);
    expect(fakes.sms.messages.map((m) => m.to)).toEqual([other[0]!.message.to]);
    const entries = journal(cwd);
    expect(pathOf(entries, telegram.id)).toEqual(['skipped']);
    expect(pathOf(entries, email.id)).toEqual(['skipped']);
    expect(entries.find((e) => e.kind === 'skipped' && e.id === email.id)).toMatchObject({ reason: 'already reached by sms' });
    expect(pathOf(entries, other[1]!.id)).toEqual(['skipped']);
    expect(report.complete).toBe(true);
    expect(report.people).toEqual({ targeted: 2, reached: 2, notReached: 0 });
  });
});

describe('notify resume: a deliberate send', () => {
  it('without a terminal and without --yes, sends nothing and says so', async () => {
    const runId = '2025-01-01-0900-drill-cc03';
    const ds = [delivery(runId, 1, 'sms'), delivery(runId, 2, 'sms')];
    const cwd = crafted(runId, 'all', ds, [attempting(ds[0]!), delivered(ds[0]!)]);
    const result = await runCli(['resume', runId], { cwd, env: baseEnv(fakes.env) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Resuming .*: 1 message\(s\) left/);
    expect(result.stderr).toMatch(/This would send 1 message; without a terminal to confirm, add --yes to send them; nothing was sent\./);
    expect(fakes.sms.messages).toHaveLength(0);
  });
});
