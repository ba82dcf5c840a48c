/**
 * Voice calls end to end through the CLI, with `--strategy first` and no `--channels`: a
 * landline is called instead of texted, and an unanswered call falls through to the next
 * channel. The Twilio voice fake and the SMTP sink are the providers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { startSmtpFake } from '../fakes/smtp.js';
import { startTwilioVoiceFake, type TwilioVoiceFake } from '../fakes/twilio-voice.js';
import type { ProviderFake } from '../fakes/provider.js';
import { baseEnv, runCli } from '../helpers/cli.js';
import { journal, pathOf, plannedIn, workdir, type Person } from './helpers.js';

const FLAGS = ['--yes', '--json', '--rate', 'all=off', '--strategy', 'first'];
/** Landlines in the ARCEP fiction range: an SMS to them would fail. */
const landline = (i: number) => ({ written: `01 99 00 12 0${i}`, e164: `+3319900120${i}` });

let calls: TwilioVoiceFake;
let email: ProviderFake;
beforeEach(async () => {
  [calls, email] = await Promise.all([startTwilioVoiceFake(), startSmtpFake()]);
});
afterEach(() => Promise.all([calls.close(), email.close()]));

describe('notify <scenario> --strategy first: voice calls', () => {
  it('calls a landline instead of texting it, and an unanswered call falls through to email', async () => {
    const lou = landline(1);
    const max = landline(2);
    const people: Person[] = [
      { name: 'Lou', phone: lou.written }, // a landline and nothing else
      { name: 'Max', phone: max.written, email: 'max@example.com', locale: 'fr' },
    ];
    calls.script(max.e164, 'ringing', 'no-answer');
    const cwd = workdir(people);
    const result = await runCli(['drill', ...FLAGS], { cwd, env: baseEnv({ ...calls.env, ...email.env }) });

    expect(result.code, result.stderr).toBe(0); // everyone was reached
    const entries = journal(cwd);
    const planned = plannedIn(entries);
    const path = (name: string, channel: string) => pathOf(entries, planned.find((d) => d.contact.name === name && d.channel === channel)!.id);
    // No SMS is even planned: the plan said so instead of warning.
    expect(planned.map((d) => `${d.contact.name}:${d.channel}`).sort()).toEqual(['Lou:voice', 'Max:email', 'Max:voice']);
    expect(result.stderr).toMatch(/Lou's phone \+33199001201 is a landline, so no sms: tried on voice instead/);
    expect(result.stderr).not.toMatch(/will fail there/);

    expect(path('Lou', 'voice')).toEqual(['attempting#1', 'delivered#1']);
    expect(path('Max', 'voice')).toEqual(['attempting#1', 'failed#1 final']);
    expect(path('Max', 'email')).toEqual(['attempting#1', 'delivered#1']);
    expect(entries.find((e) => e.kind === 'failed')).toMatchObject({ reason: 'no answer: the phone rang for 30 s and nobody picked up', retryable: false });

    // Called once each, in their language; nothing went to the SMS endpoint; Max read the email.
    expect(calls.calls.map((c) => [c.to, c.verbs[1]!.attributes.language, c.status]).sort()).toEqual([
      [lou.e164, 'en-GB', 'completed'],
      [max.e164, 'fr-FR', 'no-answer'],
    ]);
    expect(calls.calls.find((c) => c.to === lou.e164)!.verbs[1]!.text).toBe(planned.find((d) => d.contact.name === 'Lou')!.message.text);
    expect(calls.http.requests.filter((r) => r.path.includes('/Messages'))).toEqual([]);
    expect(email.messages.map((m) => m.to)).toEqual(['max@example.com']);

    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.people).toEqual({ targeted: 2, reached: 2, notReached: 0 });
    expect(report.channels.voice).toEqual({ planned: 2, delivered: 1, failed: 1, pending: 0, skipped: 0 });
    expect(result.stderr).toMatch(/Failed on one channel but reached on another:[\s\S]*Max · voice/);
  });
});
