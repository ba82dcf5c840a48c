/**
 * What only the voice channel does (faults common to every channel: test/contract): the
 * TwiML it sends, a call's outcome read from its status, the caller id, its planning checks.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeXml, voice } from '../../src/channels/voice.js';
import { parseTuning } from '../../src/commands/tuning.js';
import { loadConfig } from '../../src/config.js';
import type { Transport } from '../../src/core/channel.js';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Rendered } from '../../src/core/types.js';
import { startTwilioVoiceFake, type CallStatus, type TwilioVoiceFake } from '../fakes/twilio-voice.js';
import { rejection } from '../helpers/channel.js';

const cwd = mkdtempSync(join(tmpdir(), 'notify-voice-'));
const rendered = (to: string, text: string, locale?: string): Rendered => ({ deliveryId: randomUUID(), channel: 'voice', to, text, ...(locale && { locale }) });
const noLimit = () => new AbortController().signal;
let n = 0;
const nextNumber = () => `+3319900${String(++n).padStart(4, '0')}`; // landlines, ARCEP fiction range

let fake: TwilioVoiceFake;
let transport: Transport;
const connect = (env: Record<string, string>) => voice.connect(loadConfig({ ...env }, cwd));

beforeAll(async () => {
  fake = await startTwilioVoiceFake();
  transport = await connect(fake.env);
});
afterAll(async () => {
  await transport?.close();
  await fake?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('voice channel: the call placed', () => {
  it('posts To, From, inline TwiML and the ring and call time limits; answered = delivered', async () => {
    const to = nextNumber();
    const receipt = await transport.send(rendered(to, 'Alerte : évacuez le bâtiment B.', 'fr'), noLimit());
    const call = fake.calls.at(-1)!;
    expect(receipt).toEqual({ providerId: call.sid, detail: 'answered; the call lasted 42 s' });
    const request = fake.http.requests.find((r) => r.method === 'POST' && r.body.To === to)!;
    expect(request.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Calls.json`);
    expect(request.body).toEqual({ To: to, From: '+15005550006', Twiml: call.twiml, Timeout: '30', TimeLimit: '240' });
    expect(request.headers['i-twilio-idempotency-token']).toBeDefined();
  });

  it.each([
    ['fr', 'fr-FR', 'Polly.Lea'],
    ['en', 'en-GB', 'Polly.Amy'],
    [undefined, 'en-GB', 'Polly.Amy'], // a message planned before locales were recorded
  ])('says the message twice after a pause, in the voice of locale %s', async (locale, language, voiceName) => {
    await transport.send(rendered(nextNumber(), 'Bonjour.', locale), noLimit());
    const say = { verb: 'Say', attributes: { voice: voiceName, language }, text: 'Bonjour.' };
    expect(fake.calls.at(-1)!.verbs).toEqual([
      { verb: 'Pause', attributes: { length: '1' }, text: '' }, say,
      { verb: 'Pause', attributes: { length: '2' }, text: '' }, say,
    ]);
  });

  it('XML-escapes the whole text: a value cannot add TwiML', async () => {
    const hostile = `Tom & "Jerry" <b>'s</b></Say><Dial>+15005550009</Dial><Say>\u0007 done`;
    await transport.send(rendered(nextNumber(), hostile, 'en'), noLimit());
    const { verbs, twiml } = fake.calls.at(-1)!;
    expect(verbs.map((v) => v.verb)).toEqual(['Pause', 'Say', 'Pause', 'Say']);
    expect(verbs[1]!.text).toBe(hostile.replace('\u0007', '')); // a control character XML cannot hold is dropped
    expect(twiml).not.toContain('<Dial>');
  });

  it.each([
    ['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['"', '&quot;'], ["'", '&apos;'], ['\u0000', ''], ['\n', '\n'], ['é 👋 שלום', 'é 👋 שלום'],
  ])('escapeXml %j → %j', (raw, escaped) => expect(escapeXml(raw)).toBe(escaped));

  it('TWILIO_VOICE_FROM defaults to TWILIO_FROM', async () => {
    const { TWILIO_VOICE_FROM: from, ...env } = fake.env;
    const viaSmsSender = await connect({ ...env, TWILIO_FROM: from! });
    const to = nextNumber();
    await viaSmsSender.send(rendered(to, 'hi', 'en'), noLimit());
    await viaSmsSender.close();
    expect(fake.calls.at(-1)).toMatchObject({ to, from });
  });
});

describe('voice channel: the outcome of a call', () => {
  it('reads the status until it is final: ringing, in progress, answered', async () => {
    const to = nextNumber();
    fake.script(to, 'ringing', 'in-progress', 'completed');
    const receipt = await transport.send(rendered(to, 'hello', 'en'), noLimit());
    expect(receipt.providerId).toBe(fake.calls.at(-1)!.sid);
    expect(fake.calls.at(-1)!.polls).toBe(3);
  });

  it.each([
    ['no-answer', /^no answer: the phone rang for 30 s and nobody picked up$/],
    ['busy', /^the line was busy$/],
    ['failed', /^the call could not be connected/],
    ['canceled', /^the call was canceled before it was answered$/],
  ] as [CallStatus, RegExp][])('%s → a permanent failure of this delivery only, saying why', async (status, reason) => {
    const to = nextNumber();
    fake.script(to, status);
    const err = await rejection(transport.send(rendered(to, 'hello', 'en'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(reason);
    expect((err as PermanentError).code).toBe(`call-${status}`);
    expect((err as PermanentError).channelWide).toBe(false);
  });

  it('a call still ringing when the time limit runs out: retryable, outcome unknown, naming the call', async () => {
    const to = nextNumber();
    fake.script(to, 'ringing');
    const controller = new AbortController();
    const sending = rejection(transport.send(rendered(to, 'hello', 'en'), controller.signal));
    while (fake.calls.at(-1)?.to !== to || fake.calls.at(-1)!.polls === 0) await new Promise((r) => setImmediate(r));
    controller.abort();
    const err = await sending;
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(true);
    expect(err.message).toBe(`the call ${fake.calls.at(-1)!.sid} was placed but had not ended within the time limit; it may have been answered`);
  });

  it('a refused caller id fails the whole channel at once, naming the variables', async () => {
    const wrong = await connect({ ...fake.env, TWILIO_VOICE_FROM: '+15005550001' });
    const err = await rejection(wrong.send(rendered(nextNumber(), 'hi', 'en'), noLimit()));
    await wrong.close();
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).channelWide).toBe(true);
    expect(err.message).toMatch(/TWILIO_VOICE_FROM \(or TWILIO_FROM\) is not a voice-capable number/);
  });

  it.each([
    [21215, 'Account not authorized to call +2125550100. Perhaps you need to enable some international permissions', /Voice geographic permissions/],
    [13224, 'Dial: Twilio does not support calling this number or the number is invalid', /cannot call this number/],
  ])('Twilio error %i → permanent, for this number only', async (code, message, reason) => {
    fake.http.queue({ status: 400, json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status: 400 } });
    const err = await rejection(transport.send(rendered(nextNumber(), 'hi', 'en'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(reason);
    expect((err as PermanentError).channelWide).toBe(false);
  });
});

describe('voice channel: verify', () => {
  it('fetches the account and places no call', async () => {
    const [requests, attempts] = [fake.http.requests.length, fake.sendAttempts()];
    await transport.verify(noLimit());
    expect(fake.sendAttempts()).toBe(attempts);
    expect(fake.http.requests.slice(requests).map((r) => `${r.method} ${r.path}`)).toEqual([`GET /2010-04-01/Accounts/${fake.accountSid}.json`]);
  });
});

describe('voice channel: planning', () => {
  it('reports TwiML over Twilio\'s 4,000 characters (the text is said twice, escaped)', () => {
    expect(voice.check(rendered('+33199001234', 'x'.repeat(1800), 'en'), { maxSmsSegments: 3 })).toEqual([]);
    const [problem, ...more] = voice.check(rendered('+33199001234', '&'.repeat(400), 'en'), { maxSmsSegments: 3 });
    expect(more).toEqual([]);
    expect(problem?.message).toMatch(/TwiML is 4\d{3} characters long .* at most 4000; shorten the voice template/);
  });

  it('reports a locale it has no voice for', () => {
    const [problem] = voice.check(rendered('+33199001234', 'hei', 'fi'), { maxSmsSegments: 3 });
    expect(problem?.message).toMatch(/no voice for locale "fi" \(voices: fr, en, /);
  });

  it('names the missing variables: the Twilio account and a caller id', () => {
    expect(voice.missingConfig(loadConfig({}, cwd))).toEqual(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_VOICE_FROM or TWILIO_FROM']);
    expect(voice.missingConfig(loadConfig({ ...fake.env }, cwd))).toEqual([]);
  });

  it('a call gets its own attempt time limit, unless --attempt-timeout says otherwise for every channel', () => {
    expect(parseTuning({}).limits.voice).toEqual(voice.defaults);
    const explicit = parseTuning({ attemptTimeout: '90' });
    expect(explicit.retry.attemptTimeoutMs).toBe(90_000);
    expect(explicit.limits.voice!.attemptTimeoutMs).toBeUndefined();
  });

  it('calls any phone, landlines included, and is a default only with --strategy first', () => {
    expect(voice.columns.map((c) => c.name)).toEqual(['phone']);
    expect(voice.unsuitable).toBeUndefined();
    expect(voice.byDefault).toBe('strategy-first');
    expect(voice.defaults).toMatchObject({ perSecond: 1 });
    expect(voice.defaults.attemptTimeoutMs).toBeGreaterThan(30_000 + 240_000); // ringing + the longest call
  });
});
