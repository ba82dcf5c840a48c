/**
 * One contract, every channel: the same cases run over each registered channel against
 * its loopback fake, through the channel's real SDK or HTTP client. A channel is listed
 * in the registry only once it passes. What is truly specific to one provider (payload
 * shapes, its own error codes, planning limits) stays in test/channels/<channel>.test.ts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_LIST } from '../../src/channels/index.js';
import { secretValues, type Transport } from '../../src/core/channel.js';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Rendered } from '../../src/core/types.js';
import { loadConfig } from '../../src/config.js';
import type { ProviderFake } from '../fakes/provider.js';
import type { ContractHarness } from './harness.js';

const here = import.meta.dirname;
const harnesses: ContractHarness[] = [];
for (const file of readdirSync(here).filter((f) => f.endsWith('.harness.ts')).sort()) {
  harnesses.push(((await import(pathToFileURL(join(here, file)).href)) as { harness: ContractHarness }).harness);
}

/** Values a template cannot trust: markup, markdown, mentions, emoji, right-to-left text. */
const HOSTILE = '<b>Tom & Jerry</b> *bold* _it_ ~del~ `code` @channel @everyone <!here> 🚨👩‍🚒 مرحبا بالعالم "quoted" \\ end';

it('every registered channel has a contract harness', () => {
  expect(harnesses.map((h) => h.channel.name).sort()).toEqual(CHANNEL_LIST.map((c) => c.name).sort());
});

describe.each(harnesses.map((h) => [h.channel.name, h] as const))('%s honours the channel contract', (name, harness) => {
  const { channel } = harness;
  let fake: ProviderFake;
  let transport: Transport;
  const cwd = join(here, '__no_dotenv__'); // a folder without .env: only the fake's variables count
  const settingsFor = (env: Record<string, string>) => loadConfig(env, cwd);
  const errors: Error[] = [];
  let n = 0;
  const message = (text: string, to = harness.address(++n, fake)): Rendered => ({
    deliveryId: `contract-${name}-${n}`, channel: name, to, text, ...(channel.subject && { subject: `Contract ${n}` }),
  });
  const rejection = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => new Error('expected a rejection'), (e: Error) => e);
    errors.push(error);
    return error;
  };
  const noLimit = () => new AbortController().signal;

  beforeAll(async () => {
    fake = await harness.startFake();
    transport = await channel.connect(settingsFor(fake.env));
  });
  afterAll(async () => {
    await transport?.close();
    await fake?.close();
  });

  it('declares itself completely: columns or a broadcast target, env, defaults', () => {
    expect(channel.summary).not.toBe('');
    expect(channel.env.length).toBeGreaterThan(0);
    expect(channel.defaults.concurrency).toBeGreaterThan(0);
    expect(channel.missingConfig(settingsFor(fake.env))).toEqual([]);
    expect(channel.missingConfig(settingsFor({})).length).toBeGreaterThan(0);
    if (channel.columns.length === 0) expect(channel.broadcastAddress?.(settingsFor(fake.env))).toBeTruthy();
  });

  it('delivers once, with exactly the rendered text, to the address asked for', async () => {
    const before = fake.messages.length;
    const sent = message('Exercice : tout va bien.\nLigne 2 — fin.');
    const receipt = await transport.send(sent, noLimit());
    expect(receipt.providerId).not.toBe('');
    expect(fake.messages.slice(before)).toHaveLength(1);
    expect(harness.shown(fake.messages.at(-1)!)).toBe(sent.text);
    if (!harness.broadcastOnly) expect(fake.messages.at(-1)!.to).toBe(sent.to);
  });

  it('shows hostile values literally once escaped for the channel', async () => {
    const before = fake.messages.length;
    await transport.send(message(channel.escape ? channel.escape(HOSTILE) : HOSTILE), noLimit());
    expect(fake.messages.slice(before)).toHaveLength(1);
    expect(harness.shown(fake.messages.at(-1)!)).toBe(HOSTILE);
  });

  it('429 → retryable with the provider\'s wait, and one request only (no hidden SDK retry)', async () => {
    const before = fake.sendAttempts();
    fake.fail({ kind: 'rate-limit', retryAfterS: 7 });
    const error = await rejection(transport.send(message('rate limited'), noLimit()));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterMs).toBe(harness.noRetryAfter ? undefined : 7000);
    expect(fake.sendAttempts()).toBe(before + 1);
  });

  it('5xx → retryable, one request only', async () => {
    const before = fake.sendAttempts();
    fake.fail({ kind: 'server-error', status: 500 });
    const error = await rejection(transport.send(message('server error'), noLimit()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(fake.sendAttempts()).toBe(before + 1);
  });

  it('connection reset after the request left → retryable, outcome unknown, one request only', async () => {
    const before = fake.sendAttempts();
    fake.fail({ kind: 'reset' });
    const error = await rejection(transport.send(message('reset'), noLimit()));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).outcomeUnknown).toBe(true);
    expect(fake.sendAttempts()).toBe(before + 1);
  });

  it('no answer until the deadline → retryable, outcome unknown', async () => {
    const before = fake.sendAttempts();
    fake.fail({ kind: 'hang' });
    const deadline = new AbortController();
    const sending = rejection(transport.send(message('hang'), deadline.signal));
    while (fake.sendAttempts() === before) await new Promise((r) => setImmediate(r)); // the request reached the fake
    deadline.abort();
    const error = await sending;
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).outcomeUnknown).toBe(true);
  });

  it('one recipient refused → permanent for that message only; the next one goes out', async () => {
    if (harness.broadcastOnly) return; // one webhook, one recipient: nothing per person to refuse
    const refused = message('refused');
    fake.failFor(refused.to, { kind: 'permanent' });
    const error = await rejection(transport.send(refused, noLimit()));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).channelWide).toBe(false);
    const before = fake.messages.length;
    await transport.send(message('after the refusal'), noLimit());
    expect(fake.messages.length).toBe(before + 1);
  });

  it('a refused credential → permanent and channel-wide, naming the variable', async () => {
    const badEnv = harness.badCredentials(fake);
    const wrong = await channel.connect(settingsFor(badEnv)).catch((e: Error) => e);
    const error = wrong instanceof Error ? wrong : await rejection(wrong.send(message('bad credential'), noLimit()));
    if (wrong instanceof Error) errors.push(wrong);
    else await wrong.close();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).channelWide).toBe(true);
    expect(error.message).toMatch(new RegExp(channel.env.filter((v) => v.secret).map((v) => v.name).join('|')));
    for (const secret of secretValues(channel, settingsFor(badEnv))) expect(error.message).not.toContain(secret);
  });

  it('verify() succeeds on good credentials and sends nothing; fails permanently on bad ones', async () => {
    const before = fake.messages.length;
    await transport.verify(AbortSignal.timeout(10_000));
    expect(fake.messages.length).toBe(before);
    const wrong = await channel.connect(settingsFor(harness.badCredentials(fake))).catch((e: Error) => e);
    if (wrong instanceof Error) return void expect(wrong).toBeInstanceOf(PermanentError);
    const error = await rejection(wrong.verify(AbortSignal.timeout(10_000)));
    await wrong.close();
    expect(error).toBeInstanceOf(PermanentError);
    expect(fake.messages.length).toBe(before);
  });

  it('never puts a secret in an error message', () => {
    const secrets = secretValues(channel, settingsFor(fake.env));
    expect(secrets.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThanOrEqual(5);
    for (const error of errors) for (const secret of secrets) expect(error.message).not.toContain(secret);
  });
});
