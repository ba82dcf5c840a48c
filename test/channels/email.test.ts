/**
 * The email channel drives the real nodemailer against a loopback smtp-server sink.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTo, createServer, type AddressInfo, type Socket } from 'node:net';
import { closedPort } from '../helpers/channel.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { email, messageIdFor, serverOptions } from '../../src/channels/email.js';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Transport } from '../../src/core/channel.js';
import { loadConfig } from '../../src/config.js';
import type { Rendered } from '../../src/core/types.js';
import { startSmtpFake } from '../fakes/smtp.js';
import type { ProviderFake } from '../fakes/provider.js';

let fake: ProviderFake;
let transport: Transport;
let dir: string;
const opened: Transport[] = [];

const configFor = (env: Record<string, string>) => loadConfig({ ...env }, dir);
const connect = async (env: Record<string, string>) => {
  const t = await email.connect(configFor(env));
  opened.push(t);
  return t;
};
const signal = () => new AbortController().signal;
let n = 0;
const mail = (over: Partial<Rendered> = {}): Rendered => ({
  deliveryId: `run1-contact${++n}-email`,
  channel: 'email',
  to: `person${n}@example.com`,
  subject: 'Coupure réseau',
  text: 'Le réseau est coupé.',
  ...over,
});
/** Settles the promise and hands back what it was rejected with. */
const rejection = (p: Promise<unknown>) => p.then(() => expect.fail('expected the send to fail'), (e: unknown) => e);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crisis-notify-email-'));
  fake = await startSmtpFake();
  transport = await connect(fake.env);
});

afterAll(async () => {
  for (const t of opened) await t.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('email send', () => {
  it('delivers exactly the subject, text, html, recipient and Message-ID asked for', async () => {
    const message = mail({
      deliveryId: 'run-42/alice@example.com',
      to: 'alice@example.com',
      subject: 'Coupure réseau — intervention en cours ✔',
      text: 'Bonjour Émilie,\n<b>Tom & Jerry</b> à 14h, “déjà vu”.\n' + 'é'.repeat(120),
      html: '<p><b>Tom &amp; Jerry</b> à 14h — ✔</p>',
    });
    const receipt = await transport.send(message, signal());

    expect(receipt.providerId).toBe(messageIdFor('run-42/alice@example.com'));
    expect(receipt.detail).toMatch(/^250 /);
    expect(fake.messages.at(-1)).toEqual({
      to: 'alice@example.com',
      subject: message.subject,
      text: message.text,
      html: message.html,
      idempotencyKey: receipt.providerId,
    });
  });

  it('sends text only when the template has no html, and a long accented subject survives folding', async () => {
    const subject = 'Évacuation immédiate du bâtiment A — rendez-vous au point de rassemblement nord, près du parking';
    const receipt = await transport.send(mail({ subject, text: 'Sortez.' }), signal());
    expect(fake.messages.at(-1)).toMatchObject({ subject, text: 'Sortez.', html: undefined, idempotencyKey: receipt.providerId });
  });

  it('gives a re-sent delivery the same Message-ID', async () => {
    const message = mail();
    const first = await transport.send(message, signal());
    const second = await transport.send(message, signal());
    expect(second.providerId).toBe(first.providerId);
    expect(fake.messages.slice(-2).map((m) => m.idempotencyKey)).toEqual([first.providerId, first.providerId]);
  });
});

describe('email failures', () => {
  it('550 on a recipient is permanent for that recipient only', async () => {
    fake.failFor('gone@example.com', { kind: 'permanent' });
    const before = fake.sendAttempts();
    const err = await rejection(transport.send(mail({ to: 'gone@example.com' }), signal()));
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/refused this recipient.*550 5\.1\.1 unknown recipient/);
    expect(fake.sendAttempts()).toBe(before + 1);
    await expect(transport.send(mail(), signal())).resolves.toHaveProperty('providerId');
  });

  // A 421 on a pooled connection reaches us either as the reply (code 421) or, when the pool
  // notices the close first, as a lost connection (ECONNECTION, outcome unknown): both retry.
  it.each([
    ['temporary', { code: '451', outcomeUnknown: false }],
    ['server-error', { code: expect.stringMatching(/^(421|ECONNECTION)$/) }],
    ['rate-limit', { code: expect.stringMatching(/^(421|ECONNECTION)$/) }],
    ['reset', { code: 'ECONNECTION', outcomeUnknown: true }],
  ] as const)('%s is retryable, tried once', async (kind, expected) => {
    fake.fail({ kind });
    const before = { attempts: fake.sendAttempts(), delivered: fake.messages.length };
    const err = await rejection(transport.send(mail(), signal()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject(expected);
    expect(fake.sendAttempts()).toBe(before.attempts + 1);
    expect(fake.messages.length).toBe(before.delivered);
    // the pool recovers: the next send goes through
    await expect(transport.send(mail(), signal())).resolves.toHaveProperty('providerId');
  });

  it('a 421 reply on a fresh connection says the server is unavailable for now', async () => {
    const fresh = await connect(fake.env);
    fake.fail({ kind: 'server-error' });
    const err = await rejection(fresh.send(mail(), signal()));
    expect(err).toMatchObject({ retryable: true, code: '421', outcomeUnknown: false });
    expect((err as Error).message).toMatch(/unavailable for now.*421 4\.3\.2/);
  });

  it('a server that never answers DATA: the abort ends the wait with an unknown outcome', async () => {
    fake.fail({ kind: 'hang' });
    const before = fake.sendAttempts();
    const controller = new AbortController();
    const sending = rejection(transport.send(mail(), controller.signal));
    await fake.until(() => fake.held() === 1); // the server has the message data and is not answering
    expect(fake.sendAttempts()).toBe(before + 1);
    controller.abort();
    const err = await sending;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ outcomeUnknown: true, code: 'EABORT' });
    expect((err as Error).message).toMatch(/may or may not have been delivered/);
    await expect(transport.send(mail(), signal())).resolves.toHaveProperty('providerId');
  });

  it('wrong credentials: permanent, names SMTP_URL, never shows the password', async () => {
    const url = new URL(fake.env.SMTP_URL!);
    url.password = 'wrong-secret-Zq9';
    const bad = await connect({ ...fake.env, SMTP_URL: url.href });
    const err = await rejection(bad.send(mail(), signal()));
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/refused the login.*SMTP_URL/);
    expect((err as PermanentError).channelWide).toBe(true); // nobody else can be reached either
    expect((err as Error).message).not.toContain('wrong-secret-Zq9');
    expect(JSON.stringify(err)).not.toContain('wrong-secret-Zq9');
  });

  it('a sender the account may not use: permanent, names MAIL_FROM', async () => {
    const t = await connect({ ...fake.env, MAIL_FROM: 'someone-else@example.com' });
    const err = await rejection(t.send(mail(), signal()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: 'SENDER_REFUSED' });
    expect((err as Error).message).toMatch(/refused the sender: set MAIL_FROM.*553 5\.7\.1/);
  });

  it('an unreachable server: retryable, names the host and SMTP_URL, not the password', async () => {
    const port = await closedPort();
    const down = await connect({ ...fake.env, SMTP_URL: `smtp://crisis-bot:hunter2-secret@127.0.0.1:${port}` });
    const err = await rejection(down.send(mail(), signal()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', outcomeUnknown: false });
    expect((err as Error).message).toContain(`127.0.0.1:${port} from SMTP_URL cannot be reached`);
    expect((err as Error).message).not.toContain('hunter2-secret');
  });

  it('hidden retries are off: a server that drops every connection is dialled once', async () => {
    let connections = 0;
    const sockets: Socket[] = [];
    const dropper = createServer((s) => {
      connections++;
      sockets.push(s);
      s.destroy();
    });
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    const { port } = dropper.address() as AddressInfo;
    try {
      const t = await connect({ ...fake.env, SMTP_URL: `smtp://u:p@127.0.0.1:${port}` });
      const err = await rejection(t.send(mail(), signal()));
      expect(err).toBeInstanceOf(RetryableError);
      expect(connections).toBe(1); // nodemailer's pool would otherwise dial 6 times (maxRequeues 5)
    } finally {
      await new Promise((r) => dropper.close(r));
    }
  });
});

describe('email connections', () => {
  it('keeps a pooled connection open past nodemailer\'s default of 100 messages', async () => {
    // A counting relay in front of the fake: every connection the pool dials passes through it.
    let connections = 0;
    const fakePort = Number(new URL(fake.env.SMTP_URL!).port);
    const relay = createServer((client) => {
      connections++;
      const server = connectTo(fakePort, '127.0.0.1');
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const url = new URL(fake.env.SMTP_URL!);
    url.port = String((relay.address() as AddressInfo).port);
    try {
      const t = await connect({ ...fake.env, SMTP_URL: url.href });
      for (let i = 0; i < 150; i++) await t.send(mail(), signal()); // one at a time: one connection suffices
      await t.close();
      expect(connections).toBe(1);
    } finally {
      await new Promise((r) => relay.close(r));
    }
  });
});

describe('email verify', () => {
  it('passes with good credentials and sends nothing', async () => {
    const before = { attempts: fake.sendAttempts(), delivered: fake.messages.length };
    await expect(transport.verify(signal())).resolves.toBeUndefined();
    expect(fake.sendAttempts()).toBe(before.attempts);
    expect(fake.messages.length).toBe(before.delivered);
  });

  it('fails permanently with bad credentials', async () => {
    const url = new URL(fake.env.SMTP_URL!);
    url.password = 'nope';
    const bad = await connect({ ...fake.env, SMTP_URL: url.href });
    await expect(bad.verify(signal())).rejects.toBeInstanceOf(PermanentError);
  });

  it('fails retryably when the server cannot be reached', async () => {
    const down = await connect({ ...fake.env, SMTP_URL: `smtp://u:p@127.0.0.1:${await closedPort()}` });
    await expect(down.verify(signal())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('SMTP_URL') });
  });
});

describe('email plan side', () => {
  const limits = { maxSmsSegments: 3 };

  it.each([
    ['no subject', undefined, /has no subject: add `subject:`/],
    ['an empty subject', '  ', /has no subject/],
    ['a multi-line subject', 'Coupure\nréseau', /spans several lines/],
  ])('check() flags %s', (_, subject, problem) => {
    const problems = email.check(mail({ subject }), limits);
    expect(problems).toEqual([expect.objectContaining({ where: 'email', message: expect.stringMatching(problem) })]);
  });

  it('check() accepts a normal message', () => {
    expect(email.check(mail(), limits)).toEqual([]);
  });

  it('reads the email column, lower-cased and checked; missingConfig() names the unset variables', () => {
    expect(email.columns.map((c) => c.name)).toEqual(['email']);
    expect(email.columns[0]!.parse('A@Example.com', { defaultRegion: 'FR' })).toEqual({ value: 'a@example.com' });
    expect(email.columns[0]!.parse('not-an-address', { defaultRegion: 'FR' })).toMatch(/not a valid address/);
    expect(email.missingConfig(configFor({}))).toEqual(['SMTP_URL', 'MAIL_FROM']);
    expect(email.missingConfig(configFor({ SMTP_URL: 'smtp://h:25' }))).toEqual(['MAIL_FROM']);
    expect(email.missingConfig(configFor(fake.env))).toEqual([]);
  });

  it.each([
    ['smtp://u:p%40ss@mail.example.com:2525', { host: 'mail.example.com', port: 2525, secure: false, auth: { user: 'u', pass: 'p@ss' } }],
    ['smtps://u:p@mail.example.com', { port: 465, secure: true }],
    ['smtp://relay.local', { port: 587, secure: false, auth: undefined }],
    ['smtp://u:p@h?requireTLS=true', { requireTLS: true, ignoreTLS: false }],
  ])('serverOptions(%s)', (url, expected) => {
    expect(serverOptions(url)).toMatchObject(expected);
  });

  it('refuses a non-SMTP URL or a stray % with a sentence naming SMTP_URL', () => {
    expect(() => serverOptions('https://mail.example.com')).toThrow(/SMTP_URL must start with smtp:\/\//);
    expect(() => serverOptions('smtp://u:50%off@mail.example.com')).toThrow(/SMTP_URL has a stray %.*%25/);
  });

  it('messageIdFor() keeps ids readable and encodes what a Message-ID cannot hold', () => {
    expect(messageIdFor('run1-alice-email')).toBe('<run1-alice-email@crisis-notify>');
    expect(messageIdFor('a b<c>@d')).toBe('<a%20b%3Cc%3E%40d@crisis-notify>');
  });
});
