/**
 * What only the Signal channel has: the request it sends to signal-cli-rest-api, the two
 * answer shapes of the service, signal-cli's refusals, the `signal` column and its limit,
 * and verify(). Faults common to every channel live in test/contract.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signal, signalColumn } from '../../src/channels/signal.js';
import { loadConfig } from '../../src/config.js';
import type { Transport } from '../../src/core/channel.js';
import { addressesOf } from '../../src/core/contacts.js';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Rendered } from '../../src/core/types.js';
import { rejection } from '../helpers/channel.js';
import { startHttpFake } from '../fakes/http-fake.js';
import { startSignalFake, type SignalFake } from '../fakes/signal.js';

const cwd = mkdtempSync(join(tmpdir(), 'notify-signal-'));
const rendered = (to: string, text: string): Rendered => ({ deliveryId: randomUUID(), channel: 'signal', to, text });
const noLimit = () => new AbortController().signal;
const alice = '+33639981001';
const connect = (env: Record<string, string>) => signal.connect(loadConfig({ ...env }, cwd));

let fake: SignalFake;
let transport: Transport;
beforeAll(async () => {
  fake = await startSignalFake();
  transport = await connect(fake.env);
});
afterAll(async () => {
  await transport?.close();
  await fake?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('signal channel: the request', () => {
  it('POSTs /v2/send with the sender, one recipient, the text as plain text, and the bearer token', async () => {
    const text = 'Alerte : *pas* de ~mise en forme~ ||ici|| 🚨';
    const receipt = await transport.send(rendered(alice, text), noLimit());
    expect(receipt.providerId).toMatch(/^\d{13}$/);
    expect(fake.messages.at(-1)).toEqual({ to: alice, text });
    const request = fake.http.requests.at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${fake.env.SIGNAL_API_TOKEN}`);
    expect(request.headers['content-type']).toBe('application/json');
    // text_mode normal: a server whose default is "styled" would otherwise format *…* and ~…~.
    expect(JSON.parse(request.raw)).toEqual({ number: fake.env.SIGNAL_NUMBER, recipients: [alice], message: text, text_mode: 'normal' });
  });

  it('sends to a username', async () => {
    await transport.send(rendered('alice_ops.42', 'hello'), noLimit());
    expect(fake.messages.at(-1)).toEqual({ to: 'alice_ops.42', text: 'hello' });
  });

  it('a trailing slash in SIGNAL_API_URL and spaces in SIGNAL_NUMBER are fine; without a token no Authorization header', async () => {
    const open = await startSignalFake({ token: false, answer: 'list' });
    try {
      const spaced = open.env.SIGNAL_NUMBER!.replace(/^(\+33)(\d)(\d{2})/, '$1 $2 $3 ');
      const t = await connect({ ...open.env, SIGNAL_API_URL: `${open.http.url}/`, SIGNAL_NUMBER: spaced });
      // Newer services answer a list: [{timestamp}].
      const receipt = await t.send(rendered(alice, 'list answer'), noLimit());
      expect(receipt.providerId).toMatch(/^\d{13}$/);
      expect(open.http.requests.at(-1)!.path).toBe('/v2/send');
      expect(open.http.requests.at(-1)!.headers.authorization).toBeUndefined();
      await t.verify(noLimit());
    } finally {
      await open.close();
    }
  });
});

describe("signal channel: signal-cli's refusals", () => {
  it.each([
    ['recipient without Signal', (f: SignalFake) => f.unregistered.add('+33639981002'), '+33639981002', /has no Signal account/, false],
    ['changed safety number', (f: SignalFake) => f.untrusted.add('+33639981003'), '+33639981003', /safety number changed/, false],
  ])('%s → permanent for that recipient only', async (_, setup, to, reason, channelWide) => {
    setup(fake);
    const err = await rejection(transport.send(rendered(to, 'hi'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(reason);
    expect((err as PermanentError).channelWide).toBe(channelWide);
  });

  it('a 201 list naming a failed recipient (newer services) is not a delivery', async () => {
    fake.http.queue({ status: 201, json: [{ timestamp: '1700000000000', errors: { recipients: [{ number: alice, reason: 'UNREGISTERED_FAILURE' }] } }] });
    const err = await rejection(transport.send(rendered(alice, 'hi'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/has no Signal account/);
  });

  it.each([
    ['rate-limit challenge (captcha)', { status: 429, json: { error: 'Failed to send message due to rate limiting.', challenge_tokens: ['tok-1'], account: '+33639980001' } }, PermanentError, /captcha/, true],
    ['signal-cli timed out on the service', { status: 400, json: { error: 'process killed as timeout reached' } }, RetryableError, /may or may not have been sent/, undefined],
    ['network failure towards Signal', { status: 400, json: { error: 'Failed to send (some) messages:\n+33639981001: Network failure for "+33639981001"\n' } }, RetryableError, /network failure/, undefined],
    ['rate limit with a wait', { status: 400, json: { error: 'Rate limit failure for "+33639981001", retry after 30 seconds' } }, RetryableError, /limiting the sending rate/, undefined],
  ] as const)('%s', async (_, answer, kind, reason, channelWide) => {
    fake.http.queue(answer);
    const err = await rejection(transport.send(rendered(alice, 'hi'), noLimit()));
    expect(err).toBeInstanceOf(kind);
    expect(err.message).toMatch(reason);
    if (channelWide !== undefined) expect((err as PermanentError).channelWide).toBe(channelWide);
    if (reason.source.includes('limiting')) expect((err as RetryableError).retryAfterMs).toBe(30_000);
    if (reason.source.includes('may or may not')) expect((err as RetryableError).outcomeUnknown).toBe(true);
  });

  it('an unknown refusal is permanent and quotes signal-cli', async () => {
    fake.http.queue({ status: 400, json: { error: 'Something new went wrong' } });
    const err = await rejection(transport.send(rendered(alice, 'hi'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toContain('Something new went wrong');
  });
});

describe('signal channel: the service and the sender', () => {
  it.each([
    ['sender not registered in the service', { SIGNAL_NUMBER: '+33639989999' }, /SIGNAL_NUMBER is not registered/],
    ['wrong proxy token', { SIGNAL_API_TOKEN: 'sig_wrong-token-value' }, /HTTP 401.*SIGNAL_API_TOKEN/],
    ['no token although the proxy wants one', { SIGNAL_API_TOKEN: '' }, /set SIGNAL_API_TOKEN/],
  ])('%s → channel-wide, on send and on verify, without the token', async (_, change, reason) => {
    const t = await connect({ ...fake.env, ...change });
    for (const attempt of [() => t.send(rendered(alice, 'hi'), noLimit()), () => t.verify(noLimit())]) {
      const err = await rejection(attempt());
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toMatch(reason);
      expect((err as PermanentError).channelWide).toBe(true);
      expect(err.message).not.toContain('sig_');
    }
  });

  it('SIGNAL_API_URL pointing elsewhere → a 404 that names SIGNAL_API_URL', async () => {
    const t = await connect({ ...fake.env, SIGNAL_API_URL: `${fake.http.url}/api` });
    const err = await rejection(t.send(rendered(alice, 'hi'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/SIGNAL_API_URL/);
    expect((err as PermanentError).channelWide).toBe(true);
  });

  it('verify() reads /v1/about and /v1/accounts and sends nothing', async () => {
    const before = fake.sendAttempts();
    const seen = fake.http.requests.length;
    await transport.verify(noLimit());
    expect(fake.sendAttempts()).toBe(before);
    expect(fake.http.requests.slice(seen).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/about', 'GET /v1/accounts']);
  });

  it('verify() against another service answering /v1/about → permanent, naming SIGNAL_API_URL', async () => {
    const other = await startHttpFake(() => ({ status: 200, json: { status: 'ok' } }));
    try {
      const t = await connect({ ...fake.env, SIGNAL_API_URL: other.url });
      const err = await rejection(t.verify(noLimit()));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toMatch(/not as signal-cli-rest-api does: check SIGNAL_API_URL/);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['06 39 98 10 01'],
    ['not a number'],
  ])('connect() refuses SIGNAL_NUMBER %s, which is not in international form', async (value) => {
    const err = await rejection(connect({ ...fake.env, SIGNAL_NUMBER: value }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/SIGNAL_NUMBER must be .* international form/);
  });
});

describe('signal channel: planning', () => {
  const parse = (raw: string) => signalColumn.parse(raw, { defaultRegion: 'FR' });
  it.each([
    ['06 39 98 10 01', { value: '+33639981001' }],
    ['+33 (0)6 39 98 10 01', { value: '+33639981001' }],
    ['0033 6 39 98 10 01', { value: '+33639981001' }],
    ['Alice_Ops.42', { value: 'alice_ops.42' }],
    ['@alice_ops.042', { value: 'alice_ops.042' }],
  ])('the signal column reads %s', (raw, expected) => expect(parse(raw)).toEqual(expected));

  it.each([['alice'], ['al.42'], ['9lives.42'], ['alice.00'], ['12']])('the signal column refuses %s in one sentence naming the column', (raw) => {
    expect(parse(raw)).toMatch(/^signal ".*"/);
  });

  it('reads the signal column first, then the phone', () => {
    expect(addressesOf({ phone: '+33639981001' }, [signal])).toEqual({ signal: '+33639981001' });
    expect(addressesOf({ phone: '+33639981001', signal: 'alice_ops.42' }, [signal])).toEqual({ signal: 'alice_ops.42' });
  });

  it('is used by default once SIGNAL_API_URL and SIGNAL_NUMBER are set, and never breaks a plan without them', () => {
    expect(signal.byDefault).toBe('when-configured');
    expect(signal.missingConfig({ env: {} })).toEqual(['SIGNAL_API_URL', 'SIGNAL_NUMBER']);
    expect(signal.missingConfig({ env: { SIGNAL_API_URL: 'http://127.0.0.1:1', SIGNAL_NUMBER: '+33639980001' } })).toEqual([]);
  });

  it(`refuses more than 2,000 UTF-8 bytes (signal-cli sends the rest as an attachment)`, () => {
    expect(signal.check(rendered(alice, 'é'.repeat(1000)), { maxSmsSegments: 3 })).toEqual([]);
    const [problem] = signal.check(rendered(alice, 'é'.repeat(1001)), { maxSmsSegments: 3 });
    expect(problem?.message).toMatch(/2002 bytes .* at most 2000/);
  });
});

describe('signal channel: roll-call replies', () => {
  it('reads each received message once; a quote names the delivery it answers', async () => {
    const fake = await startSignalFake();
    const transport = await connect(fake.env);
    try {
      const since = new Date(Date.now() - 1000);
      const sent = rendered(alice, 'Exercice : répondez 1 si vous allez bien');
      const { providerId } = await transport.send(sent, noLimit());
      fake.reply(alice, '1 merci', providerId);
      fake.reply('+33639981002', 'Yes');
      const request = { since, sent: [{ deliveryId: sent.deliveryId, to: alice, providerId }], receipts: false };
      const first = await transport.poll!(request, noLimit());
      expect(first.replies).toEqual([
        expect.objectContaining({ from: alice, text: '1 merci', deliveryId: sent.deliveryId }),
        expect.objectContaining({ from: '+33639981002', text: 'Yes' }),
      ]);
      expect(first.replies[1]).not.toHaveProperty('deliveryId');
      expect((await transport.poll!(request, noLimit())).replies).toEqual([]); // signal-cli hands each message over once
    } finally {
      await transport.close();
      await fake.close();
    }
  });

  it('in json-rpc mode, says how to run the service to collect replies, without failing the poll', async () => {
    const fake = await startSignalFake({ mode: 'json-rpc' });
    const transport = await connect(fake.env);
    try {
      const result = await transport.poll!({ since: new Date(), sent: [], receipts: false }, noLimit());
      expect(result.replies).toEqual([]);
      expect(result.problem).toMatch(/json-rpc mode.*normal or native mode/);
    } finally {
      await transport.close();
      await fake.close();
    }
  });
});
