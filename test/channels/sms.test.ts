import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sms } from '../../src/channels/sms.js';
import { closedPort, rejection } from '../helpers/channel.js';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Transport } from '../../src/core/channel.js';
import { loadConfig } from '../../src/config.js';
import type { Rendered } from '../../src/core/types.js';
import { startTwilioFake } from '../fakes/twilio.js';

const cwd = mkdtempSync(join(tmpdir(), 'notify-sms-'));
const rendered = (to: string, text: string, deliveryId = randomUUID()): Rendered => ({ deliveryId, channel: 'sms', to, text });
const noLimit = () => new AbortController().signal;
const to = '+33612345678';

let fake: Awaited<ReturnType<typeof startTwilioFake>>;
let transport: Transport;
const connect = (env: Record<string, string>) => sms.connect(loadConfig({ ...env }, cwd));

function expectNoSecret(err: Error) {
  expect(err.message).not.toContain(fake.env.TWILIO_AUTH_TOKEN);
  expect(err.message).not.toContain(fake.env.TWILIO_ACCOUNT_SID);
}

beforeAll(async () => {
  fake = await startTwilioFake();
  transport = await connect(fake.env);
});
afterAll(async () => {
  await transport?.close();
  await fake?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('sms channel: sending through the real twilio SDK', () => {
  it('delivers exactly the body, number, sender and idempotency token asked for', async () => {
    const message = rendered(to, 'Alerte: évacuez le bâtiment B & rejoignez le point 3 <maintenant>.');
    const receipt = await transport.send(message, noLimit());
    expect(receipt.providerId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(receipt.detail).toBe('segments: 1');
    expect(fake.messages.at(-1)).toEqual({ to, text: message.text, idempotencyKey: message.deliveryId });
    const request = fake.http.requests.at(-1)!;
    expect(request.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(request.body).toEqual({ To: to, From: '+15005550006', Body: message.text });
    expect(request.headers['i-twilio-idempotency-token']).toBe(message.deliveryId);
  });

  it('reports the segment count of a long message', async () => {
    const receipt = await transport.send(rendered(to, 'x'.repeat(200)), noLimit());
    expect(receipt.detail).toBe('segments: 2');
  });

  // Counts worked out by hand from GSM 03.38 and 3GPP TS 23.040 (160/153 septets, 70/67 UCS-2
  // units), which the fake implements on its own: they do not come from src/core/sms-encoding.ts.
  it.each([
    ['160 GSM-7 characters', 'x'.repeat(160), 1],
    ['161 GSM-7 characters', 'x'.repeat(161), 2],
    ['306 GSM-7 characters', 'x'.repeat(306), 2],
    ['307 GSM-7 characters', 'x'.repeat(307), 3],
    ['é is GSM-7: 101 characters', 'x'.repeat(100) + 'é', 1],
    ['ê is not: the same 101 characters in UCS-2', 'x'.repeat(100) + 'ê', 2],
    ['80 euro signs, two septets each', '€'.repeat(80), 1],
    ['81 euro signs', '€'.repeat(81), 2],
    ['70 UCS-2 units', 'ç'.repeat(70), 1],
    ['71 UCS-2 units', 'ç'.repeat(71), 2],
    ['134 UCS-2 units', 'ç'.repeat(134), 2],
    ['135 UCS-2 units', 'ç'.repeat(135), 3],
    ['an escape pair is never cut between two segments', 'x'.repeat(152) + '€' + 'x'.repeat(152), 3],
    ['nor is a surrogate pair', 'ç'.repeat(66) + '👍' + 'ç'.repeat(66), 3],
  ])('%s: Twilio counts %i segment(s), reported on the receipt', async (_, text, segments) => {
    const receipt = await transport.send(rendered(to, text), noLimit());
    expect(receipt.detail).toBe(`segments: ${segments}`);
  });

  it('sends through a messaging service when one is configured instead of a number', async () => {
    const { TWILIO_FROM: _, ...env } = fake.env;
    const viaService = await connect({ ...env, TWILIO_MESSAGING_SERVICE_SID: 'MG00000000000000000000000000000001' });
    await viaService.send(rendered(to, 'via service'), noLimit());
    await viaService.close();
    expect(fake.http.requests.at(-1)!.body).toEqual({ To: to, MessagingServiceSid: 'MG00000000000000000000000000000001', Body: 'via service' });
  });

  it('concurrent sends each carry their own idempotency token', async () => {
    const batch = Array.from({ length: 8 }, (_, i) => rendered(`+3361234560${i}`, `message ${i}`));
    await Promise.all(batch.map((m) => transport.send(m, noLimit())));
    for (const m of batch) {
      expect(fake.messages).toContainEqual({ to: m.to, text: m.text, idempotencyKey: m.deliveryId });
    }
  });

  it('re-sending the same delivery reuses its idempotency token, and the fake does not send twice', async () => {
    const message = rendered(to, 'once only');
    const first = await transport.send(message, noLimit());
    const [accepted, attempts] = [fake.messages.length, fake.sendAttempts()];
    const second = await transport.send(message, noLimit());
    expect(second.providerId).toBe(first.providerId);
    expect(fake.messages.length).toBe(accepted);
    expect(fake.sendAttempts()).toBe(attempts + 1);
  });
});

describe('sms channel: failures', () => {
  it('wrong credentials → permanent, naming the variables but not the secret', async () => {
    const wrong = await connect({ ...fake.env, TWILIO_AUTH_TOKEN: 'wrong-secret-0123456789' });
    const err = await rejection(wrong.send(rendered(to, 'hello'), noLimit()));
    await wrong.close();
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN/);
    expect((err as PermanentError).channelWide).toBe(true);
    expect(err.message).not.toContain('wrong-secret-0123456789');
    expectNoSecret(err);
  });

  it.each([
    ['500', { kind: 'server-error', status: 500 }],
    ['503', { kind: 'temporary' }],
  ] as const)('%s → retryable, one request only', async (_, fault) => {
    const before = fake.sendAttempts();
    fake.fail(fault);
    const err = await rejection(transport.send(rendered(to, 'server error'), noLimit()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toMatch(/Twilio had a server error/);
    expect(fake.sendAttempts()).toBe(before + 1);
  });

  it('no answer and the signal aborts → retryable, outcome unknown', async () => {
    const before = fake.sendAttempts();
    fake.fail({ kind: 'hang' });
    const controller = new AbortController();
    const sending = rejection(transport.send(rendered(to, 'hang'), controller.signal));
    await fake.until(() => fake.held() === 1); // the fake has the request and is not answering
    expect(fake.sendAttempts()).toBe(before + 1);
    controller.abort();
    const err = await sending;
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(true);
    expect(err.message).toMatch(/no answer from Twilio within the time limit; the message may or may not have been sent/);
  });

  it('an already aborted signal sends nothing', async () => {
    const before = fake.sendAttempts();
    const err = await rejection(transport.send(rendered(to, 'late'), AbortSignal.abort()));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(false);
    expect(fake.sendAttempts()).toBe(before);
  });

  it('unreachable API → retryable, not sent, naming TWILIO_API_URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await connect({ ...fake.env, TWILIO_API_URL: url });
    const err = await rejection(unreachable.send(rendered(to, 'nobody home'), noLimit()));
    await unreachable.close();
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(false);
    expect(err.message).toContain(new URL(url).host);
    expect(err.message).toMatch(/refused the connection; check TWILIO_API_URL/);
    expectNoSecret(err);
  });

  it('a host that does not exist → says it cannot be found, naming TWILIO_API_URL', async () => {
    const nowhere = await connect({ ...fake.env, TWILIO_API_URL: 'http://twilio-fake.invalid' });
    const err = await rejection(nowhere.verify(noLimit()));
    await nowhere.close();
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toMatch(/twilio-fake\.invalid cannot be found .*check TWILIO_API_URL/);
  });

  it('an invalid or refused number → permanent', async () => {
    fake.failFor('+33700000000', { kind: 'permanent' });
    const refused = await rejection(transport.send(rendered('+33700000000', 'hi'), noLimit()));
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused.message).toMatch(/phone number is not valid/);
    const invalid = await rejection(transport.send(rendered('0612345678', 'hi'), noLimit()));
    expect(invalid).toBeInstanceOf(PermanentError);
    expect((invalid as PermanentError).code).toBe('twilio-21211');
  });

  it('an unlisted Twilio error keeps its code and words, without the account SID', async () => {
    fake.http.queue({ status: 400, json: { code: 21999, message: `Account ${fake.accountSid} cannot do that`, status: 400 } });
    const err = await rejection(transport.send(rendered(to, 'odd'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/error 21999: Account \*\*\* cannot do that/);
    expectNoSecret(err);
  });
});

describe('sms channel: verify', () => {
  it('fetches the account and sends nothing', async () => {
    const [requests, attempts] = [fake.http.requests.length, fake.sendAttempts()];
    await transport.verify(noLimit());
    expect(fake.sendAttempts()).toBe(attempts);
    expect(fake.http.requests.slice(requests).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /2010-04-01/Accounts/${fake.accountSid}.json`,
    ]);
  });

  it('fails with a permanent error on a bad token', async () => {
    const wrong = await connect({ ...fake.env, TWILIO_AUTH_TOKEN: 'not-the-token' });
    const err = await rejection(wrong.verify(noLimit()));
    await wrong.close();
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/Twilio rejected the credentials/);
    expect(err.message).not.toContain('not-the-token');
  });
});

describe('sms channel: planning', () => {
  const limits = { maxSmsSegments: 3 };
  const check = (text: string) => sms.check(rendered(to, text), limits);

  it('accepts a GSM-7 message within the segment budget', () => {
    expect(check('é'.repeat(459))).toEqual([]);
  });

  it('names the segment count, the encoding and the character that forced UCS-2', () => {
    const [problem, ...more] = check(`Réunion à l'hôtel de ville. ${'x'.repeat(200)}`);
    expect(more).toEqual([]);
    expect(problem?.where).toBe('sms');
    expect(problem?.message).toMatch(/4 segments \(UCS-2.*limit is 3.*"ô" forced UCS-2/);
  });

  it('reports a body over 1600 characters', () => {
    const problems = sms.check(rendered(to, 'x'.repeat(1601)), { maxSmsSegments: 20 });
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/1601 characters.*at most 1600/)]);
  });

  it('names the missing variables', () => {
    expect(sms.missingConfig(loadConfig({}, cwd))).toEqual([
      'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID',
    ]);
    expect(sms.missingConfig(loadConfig({ ...fake.env }, cwd))).toEqual([]);
  });

  it('addresses a contact by phone, and declines landlines', () => {
    expect(sms.columns.map((c) => c.name)).toEqual(['phone']);
    expect(sms.unsuitable?.({ name: 'A', columns: { phone: '+33199001234' }, landline: true } as unknown as Parameters<NonNullable<typeof sms.unsuitable>>[0])).toMatch(/landline/);
    expect(sms.unsuitable?.({ name: 'A', columns: { phone: to } } as unknown as Parameters<NonNullable<typeof sms.unsuitable>>[0])).toBeUndefined();
  });
});
