/**
 * What only Discord has: the webhook payload (allowed_mentions, wait=true), its error codes,
 * retry_after in the body, markdown escaping, the 2,000-character check, verify by GET.
 * Faults every channel shares (5xx, reset, timeout, bad credential…) are in test/contract.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discord, escapeDiscordMarkdown } from '../../src/channels/discord.js';
import type { Transport } from '../../src/core/channel.js';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Rendered } from '../../src/core/types.js';
import { loadConfig } from '../../src/config.js';
import { closedPort, rejection } from '../helpers/channel.js';
import { pingsOf, startDiscordFake, type DiscordFake } from '../fakes/discord.js';
import { startHttpFake } from '../fakes/http-fake.js';

const cwd = mkdtempSync(join(tmpdir(), 'notify-discord-'));
const label = 'discord (DISCORD_WEBHOOK_URL)';
const rendered = (text: string): Rendered => ({ deliveryId: randomUUID(), channel: 'discord', to: label, text });
const noLimit = () => new AbortController().signal;
const settings = (env: Record<string, string>) => loadConfig({ ...env }, cwd);
const connect = (env: Record<string, string>) => discord.connect(settings(env));

let fake: DiscordFake;
let transport: Transport;

beforeAll(async () => {
  fake = await startDiscordFake();
  transport = await connect(fake.env);
});
afterAll(async () => {
  await transport?.close();
  await fake?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('discord channel: the webhook request', () => {
  it('posts JSON content with every mention switched off and embeds suppressed, waiting for the message', async () => {
    const text = '⚠️ **WhatsApp est en panne** @everyone <@123456> <@&654321>\n• Page de statut : https://status.example.com';
    const receipt = await transport.send(rendered(text), noLimit());
    const request = fake.http.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/api/webhooks/1234567890123456789/${fake.token}?wait=true`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.raw)).toEqual({ content: text, allowed_mentions: { parse: [] }, flags: 4 });
    expect(fake.messages.at(-1)).toEqual({ to: label, text });
    expect(fake.pings.at(-1)).toEqual([]); // the fake applies allowed_mentions as Discord does
    expect(receipt.providerId).toMatch(/^1111111111111111111\/\d+$/);
  });

  it('keeps a thread_id already in the webhook URL (forum channels)', async () => {
    const inThread = await connect({ DISCORD_WEBHOOK_URL: `${fake.webhookUrl}?thread_id=42` });
    await inThread.send(rendered('in a thread'), noLimit());
    expect(new URL(fake.http.requests.at(-1)!.path, 'http://x').searchParams.toString()).toBe('thread_id=42&wait=true');
  });

  it('the fake pings as Discord would without allowed_mentions (so the test above means something)', () => {
    expect(pingsOf('@everyone <@1> <@&2> @here', undefined)).toEqual(['@everyone', '<@1>', '<@&2>', '@here']);
    expect(pingsOf('@everyone <@1>', { parse: ['users'] })).toEqual(['<@1>']);
    expect(pingsOf('@everyone <@1> <@&2>', { parse: [] })).toEqual([]);
  });

  it.each([
    ['a 2,001-character content', 'x'.repeat(2001), /Discord refused the message \(Invalid Form Body: content Must be 2000 or fewer in length\.\)/],
    ['an empty content', '  \n ', /the Discord message is empty: check the template/],
  ])('%s → permanent, in Discord\'s words, for this message only', async (_, text, reason) => {
    const err = await rejection(transport.send(rendered(text), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(reason);
    expect((err as PermanentError).channelWide).toBe(false);
  });
});

describe('discord channel: Discord\'s answers', () => {
  it('429 → waits retry_after from the body (seconds, a float), not the rounded header', async () => {
    const before = fake.sendAttempts();
    fake.fail({ kind: 'rate-limit', retryAfterS: 0.35 });
    const err = await rejection(transport.send(rendered('rate limited'), noLimit()));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).retryAfterMs).toBe(350);
    expect(fake.sendAttempts()).toBe(before + 1);
  });

  it('429 from a proxy without Discord\'s body → the Retry-After header', async () => {
    fake.http.queue({ status: 429, json: 'Too Many Requests', headers: { 'retry-after': '7' } });
    const err = await rejection(transport.send(rendered('rate limited by a proxy'), noLimit()));
    expect((err as RetryableError).retryAfterMs).toBe(7000);
  });

  it.each([
    ['unknown webhook (10015)', 'id', /Discord does not know this webhook.*DISCORD_WEBHOOK_URL/],
    ['invalid token (50027)', 'token', /Discord rejected the webhook token.*DISCORD_WEBHOOK_URL/],
  ])('%s → permanent for the whole channel, naming DISCORD_WEBHOOK_URL but never its value', async (_, part, reason) => {
    const url = part === 'id' ? fake.webhookUrl.replace('1234567890123456789', '999') : fake.webhookUrl.replace(fake.token, 'not-the-token');
    const wrong = await connect({ DISCORD_WEBHOOK_URL: url });
    for (const err of [await rejection(wrong.send(rendered('hello'), noLimit())), await rejection(wrong.verify(noLimit()))]) {
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).channelWide).toBe(true);
      expect(err.message).toMatch(reason);
      expect(err.message).not.toContain(url);
      expect(err.message).not.toMatch(/not-the-token|webhooks\//);
    }
  });

  it('a forum webhook without a thread (220001) → says what to add to the URL', async () => {
    fake.http.queue({ status: 400, json: { message: 'Webhooks posted to forum channels must have a thread_name or thread_id', code: 220001 } });
    const err = await rejection(transport.send(rendered('forum'), noLimit()));
    expect(err.message).toMatch(/add \?thread_id=<id> to DISCORD_WEBHOOK_URL/);
  });

  it('a 200 that is not a Discord message → retryable, outcome unknown', async () => {
    fake.http.queue({ status: 200, json: '<html>captive portal</html>' });
    const err = await rejection(transport.send(rendered('odd answer'), noLimit()));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(true);
  });

  it('unreachable host → retryable, not sent, naming the host and DISCORD_WEBHOOK_URL only', async () => {
    const port = await closedPort();
    const unreachable = await connect({ DISCORD_WEBHOOK_URL: `http://127.0.0.1:${port}/api/webhooks/1/secret-token` });
    const err = await rejection(unreachable.send(rendered('nobody home'), noLimit()));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(false);
    expect(err.message).toBe(`could not reach Discord: 127.0.0.1:${port} refused the connection; check DISCORD_WEBHOOK_URL and the network`);
  });
});

describe('discord channel: verify', () => {
  it('GETs the webhook (its id, name, channel) and posts nothing', async () => {
    const [requests, attempts] = [fake.http.requests.length, fake.sendAttempts()];
    await transport.verify(noLimit());
    expect(fake.sendAttempts()).toBe(attempts);
    expect(fake.http.requests.slice(requests).map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/webhooks/1234567890123456789/${fake.token}`]);
  });

  it('a server that answers 200 but is not Discord → permanent, pointing at DISCORD_WEBHOOK_URL', async () => {
    const other = await startHttpFake(() => ({ status: 200, json: { hello: 'proxy' } }));
    try {
      const wrong = await connect({ DISCORD_WEBHOOK_URL: `${other.url}/api/webhooks/1/secret-token` });
      const err = await rejection(wrong.verify(noLimit()));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toBe(`${new URL(other.url).host} answered but not like a Discord webhook: check DISCORD_WEBHOOK_URL`);
    } finally {
      await other.close();
    }
  });
});

describe('discord channel: configuration', () => {
  it('is a broadcast target only, used by default once its webhook is set, labelled without the URL', () => {
    expect(discord.columns).toEqual([]);
    expect(discord.byDefault).toBe('when-configured');
    expect(discord.missingConfig(settings({}))).toEqual(['DISCORD_WEBHOOK_URL']);
    expect(discord.missingConfig(settings(fake.env))).toEqual([]);
    expect(discord.broadcastAddress?.(settings({}))).toBeUndefined();
    expect(discord.broadcastAddress?.(settings(fake.env))).toBe(label);
    expect(discord.env.find((v) => v.name === 'DISCORD_WEBHOOK_URL')?.secret).toBe(true);
  });

  it.each([
    ['not a URL', 'discord webhook', /DISCORD_WEBHOOK_URL is not a valid URL; write it like https:\/\/discord\.com\/api\/webhooks\/<id>\/<token>\./],
    ['another scheme', 'ftp://discord.com/api/webhooks/1/abc', /DISCORD_WEBHOOK_URL must start with https:\/\/ or http:\/\//],
  ])('%s → refused when the configuration loads, without echoing it', (_, value, message) => {
    expect(() => settings({ DISCORD_WEBHOOK_URL: value })).toThrow(message);
  });

  it('a URL that is not a webhook → a permanent error at connect, before any request', async () => {
    const err = await rejection(connect({ DISCORD_WEBHOOK_URL: 'https://discord.com/channels/123/456' }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/^DISCORD_WEBHOOK_URL does not look like a Discord webhook URL \(https:\/\/discord\.com\/api\/webhooks\/<id>\/<token>\); copy it/);
    expect(err.message).not.toContain('channels/123');
  });
});

describe('discord channel: planning', () => {
  const check = (text: string) => discord.check(rendered(text), { maxSmsSegments: 3 });

  it('accepts 2,000 characters (emoji count as one), and trailing blanks Discord trims', () => {
    expect(check('x'.repeat(2000))).toEqual([]);
    expect(check(`${'🚨'.repeat(2000)}\n\n`)).toEqual([]);
  });

  it('reports 2,001 characters, and an empty message', () => {
    expect(check('x'.repeat(2001)).map((p) => p.message)).toEqual([expect.stringMatching(/2,001 characters long but Discord accepts at most 2,000; shorten the template/)]);
    expect(check(' \n').map((p) => p.message)).toEqual([expect.stringMatching(/empty/)]);
  });
});

describe('discord channel: escaping values', () => {
  it.each([
    ['markup', '*_~`|\\ [x](y)', '\\*\\_\\~\\`\\|\\\\ \\[x\\](y)'],
    ['a tag', '<b>Tom & Jerry</b>', '\\<b>Tom & Jerry\\</b>'],
    ['mentions and dates', '<@123> <#456> <t:1700000000:R>', '\\<@123> \\<#456> \\<t:1700000000:R>'],
    ['@everyone (allowed_mentions stops the ping)', '@everyone @here', '@everyone @here'],
    ['line starts', '# title\n> quote\n  - item\n-# small', '\\# title\n\\> quote\n  \\- item\n\\-# small'],
    ['mid-line #, > and -', 'Jean-Pierre #2 a > b', 'Jean-Pierre #2 a > b'],
    ['a URL, kept clickable', 'https://t.me/example_status', 'https://t.me/example_status'],
    ['a URL among text', '*see* https://x.org/a_b?c=*d -e', '\\*see\\* https://x.org/a_b?c=*d -e'],
    ['an email', 'first_last@example.com', 'first\\_last@example.com'],
    ['emoji and RTL', '🚨 مرحبا', '🚨 مرحبا'],
  ])('%s', (_, value, escaped) => {
    expect(escapeDiscordMarkdown(value)).toBe(escaped);
  });
});
