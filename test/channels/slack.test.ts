/**
 * The Slack channel drives the real @slack/web-api against a loopback Web API fake.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { closedPort } from '../helpers/channel.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import { slack } from '../../src/channels/slack.js';
import type { Transport } from '../../src/core/channel.js';
import { loadConfig } from '../../src/config.js';
import type { Rendered } from '../../src/core/types.js';
import { startSlackFake } from '../fakes/slack.js';

let fake: Awaited<ReturnType<typeof startSlackFake>>;
let transport: Transport;
let dir: string;

const configFor = (env: Record<string, string>) => loadConfig({ ...env }, dir);
const connect = (env: Record<string, string>) => slack.connect(configFor(env));
const signal = () => new AbortController().signal;
let n = 0;
const post = (over: Partial<Rendered> = {}): Rendered => ({
  deliveryId: `run1-contact${++n}-slack`,
  channel: 'slack',
  to: 'C0CRISIS',
  text: 'Le réseau est coupé.',
  ...over,
});
const rejection = (p: Promise<unknown>) => p.then(() => expect.fail('expected the call to fail'), (e: unknown) => e);
const postsSince = (before: number) => fake.sendAttempts() - before;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crisis-notify-slack-'));
  fake = await startSlackFake();
  transport = await connect(fake.env);
});

afterAll(async () => {
  await transport.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('slack send', () => {
  it('connect() sends nothing', async () => {
    const before = fake.http.requests.length;
    const t = await connect(fake.env);
    expect(fake.http.requests).toHaveLength(before);
    await t.close();
  });

  it('posts exactly the rendered mrkdwn to the channel asked for, without escaping it twice', async () => {
    // As core/escape.ts renders it: values escaped, the template's own markup kept.
    const text = 'Alerte 🔥 réseau: &lt;b&gt;Tom &amp; Jerry&lt;/b&gt; a &gt; b\n<!here> voir <https://status.example.com|la page> et <@U0LEAD>';
    const receipt = await transport.send(post({ to: 'C0CRISIS', text }), signal());

    const request = fake.http.requests.at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${fake.env.SLACK_BOT_TOKEN}`);
    expect(request.body).toMatchObject({ channel: 'C0CRISIS', unfurl_links: 'false', mrkdwn: 'true' });
    expect(fake.messages.at(-1)).toEqual({ to: 'C0CRISIS', text });
    expect(receipt.providerId).toMatch(/^C0CRISIS:1700000000\.\d{6}$/);
  });

  it('posts a direct message to a member id as is, and names a channel by #name', async () => {
    await transport.send(post({ to: 'U0ALICE' }), signal());
    await transport.send(post({ to: '#crisis' }), signal());
    expect(fake.messages.slice(-2).map((m) => m.to)).toEqual(['U0ALICE', '#crisis']);
  });

  it('gives each post its own receipt', async () => {
    const a = await transport.send(post(), signal());
    const b = await transport.send(post(), signal());
    expect(a.providerId).not.toBe(b.providerId);
  });

  it('accepts an API URL without the trailing slash', async () => {
    const t = await connect({ ...fake.env, SLACK_API_URL: fake.env.SLACK_API_URL!.replace(/\/$/, '') });
    await expect(t.send(post(), signal())).resolves.toHaveProperty('providerId');
  });
});

describe('slack failures: one request each, the SDK retries nothing', () => {
  let before: number;
  beforeEach(() => {
    before = fake.sendAttempts();
  });

  it('429 with Retry-After → retryable with retryAfterMs', async () => {
    fake.fail({ kind: 'rate-limit', retryAfterS: 7 });
    const err = await rejection(transport.send(post(), signal()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'ratelimited', retryAfterMs: 7000, outcomeUnknown: false });
    expect(postsSince(before)).toBe(1);
    // the client is not paused: the next call goes straight through
    await expect(transport.send(post(), signal())).resolves.toHaveProperty('providerId');
  });

  it.each([
    ['server-error', 500, true],
    ['server-error', 502, true],
    ['temporary', 503, false],
  ] as const)('%s (HTTP %i) → retryable', async (kind, status, outcomeUnknown) => {
    fake.fail(kind === 'server-error' ? { kind, status } : { kind });
    const err = await rejection(transport.send(post(), signal()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: `http_${status}`, outcomeUnknown });
    expect(postsSince(before)).toBe(1);
  });

  it('a reset → retryable, outcome unknown', async () => {
    fake.fail({ kind: 'reset' });
    const err = await rejection(transport.send(post(), signal()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ outcomeUnknown: true });
    expect((err as Error).message).toMatch(/may or may not have been posted/);
    expect(postsSince(before)).toBe(1);
  });

  it('channel_not_found → permanent with a reason a lead can act on', async () => {
    fake.failFor('C0GONE', { kind: 'permanent' });
    const err = await rejection(transport.send(post({ to: 'C0GONE' }), signal()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: 'channel_not_found' });
    expect((err as Error).message).toMatch(/channel not found.*invite the bot/);
    expect(postsSince(before)).toBe(1);
  });

  it('a hung request ends when the signal aborts, outcome unknown', async () => {
    fake.fail({ kind: 'hang' });
    const controller = new AbortController();
    const sending = rejection(transport.send(post(), controller.signal));
    await fake.until(() => fake.held() === 1); // the fake has the request and is not answering
    expect(postsSince(before)).toBe(1);
    controller.abort();
    const err = await sending;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'timeout', outcomeUnknown: true });
    expect((err as Error).message).toBe('no answer from Slack within the time limit; the message may or may not have been posted');
  });

  it('a wrong token → permanent, names SLACK_BOT_TOKEN, never shows the token', async () => {
    const badToken = 'xoxb-wrong-7f3a9c';
    const t = await connect({ ...fake.env, SLACK_BOT_TOKEN: badToken });
    const err = await rejection(t.send(post(), signal()));
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/rejected the bot token: check SLACK_BOT_TOKEN/);
    expect((err as PermanentError).channelWide).toBe(true);
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain(badToken);
  });

  it('an unreachable API → retryable, names SLACK_API_URL', async () => {
    const port = await closedPort();
    const t = await connect({ ...fake.env, SLACK_API_URL: `http://127.0.0.1:${port}/api/` });
    const err = await rejection(t.send(post(), signal()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', outcomeUnknown: false });
    expect((err as Error).message).toBe(`Slack cannot be reached at 127.0.0.1:${port} (SLACK_API_URL): ECONNREFUSED`);
  });
});

describe('slack verify', () => {
  it('passes with a good token and posts nothing', async () => {
    const before = fake.sendAttempts();
    await expect(transport.verify(signal())).resolves.toBeUndefined();
    expect(fake.http.requests.at(-1)!.path).toBe('/api/auth.test');
    expect(fake.sendAttempts()).toBe(before);
  });

  it('fails permanently with a bad token', async () => {
    const t = await connect({ ...fake.env, SLACK_BOT_TOKEN: 'xoxb-bad' });
    await expect(t.verify(signal())).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('SLACK_BOT_TOKEN') });
  });
});

describe('slack plan side', () => {
  const limits = { maxSmsSegments: 3 };

  it('check() flags text over 40,000 characters and accepts the rest', () => {
    expect(slack.check(post({ text: 'a'.repeat(40_000) }), limits)).toEqual([]);
    expect(slack.check(post({ text: 'a'.repeat(40_001) }), limits)).toEqual([
      expect.objectContaining({ where: 'slack', message: expect.stringMatching(/40,001 characters.*truncates beyond 40,000: shorten/) }),
    ]);
  });

  it('address(), broadcastAddress() and missingConfig()', () => {
    expect(slack.columns.map((c) => c.name)).toEqual(['slack']);
    expect(slack.columns[0]!.parse('U0ALICE', { defaultRegion: 'FR' })).toEqual({ value: 'U0ALICE' });
    expect(slack.columns[0]!.parse('@alice', { defaultRegion: 'FR' })).toMatch(/neither a member id/);
    expect(slack.broadcastAddress!(configFor({ SLACK_CHANNEL: '#crisis' }))).toBe('#crisis');
    expect(slack.missingConfig(configFor({}))).toEqual(['SLACK_BOT_TOKEN']);
    expect(slack.missingConfig(configFor(fake.env))).toEqual([]);
  });
});
