import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import { telegram } from '../../src/channels/telegram.js';
import { closedPort, rejection } from '../helpers/channel.js';
import type { Transport } from '../../src/core/channel.js';
import { loadConfig } from '../../src/config.js';
import type { Rendered } from '../../src/core/types.js';
import { parseTelegramHtml, startTelegramFake } from '../fakes/telegram.js';

const cwd = mkdtempSync(join(tmpdir(), 'notify-telegram-'));
const rendered = (to: string, text: string): Rendered => ({ deliveryId: randomUUID(), channel: 'telegram', to, text });
const noLimit = () => new AbortController().signal;
const chat = '424242';

let fake: Awaited<ReturnType<typeof startTelegramFake>>;
let transport: Transport;
const connect = (env: Record<string, string>) => telegram.connect(loadConfig({ ...env }, cwd));

beforeAll(async () => {
  fake = await startTelegramFake();
  transport = await connect(fake.env);
});
afterAll(async () => {
  await transport?.close();
  await fake?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('telegram channel: sending through the real node-telegram-bot-api', () => {
  it('delivers exactly the text asked for, as HTML, with link previews off', async () => {
    const text = '<b>Alerte</b> : évacuez le bâtiment B &amp; rejoignez le point 3 &lt;maintenant&gt; https://status.example.org';
    const receipt = await transport.send(rendered(chat, text), noLimit());
    expect(receipt.providerId).toMatch(/^\d+$/);
    expect(fake.messages.at(-1)).toEqual({ to: chat, text });
    const request = fake.http.requests.at(-1)!;
    expect(request.path).toBe(`/bot${fake.token}/sendMessage`);
    expect(request.body).toEqual({ chat_id: chat, text, parse_mode: 'HTML', link_preview_options: '{"is_disabled":true}' });
  });

  it('sends to a group (negative chat id)', async () => {
    const receipt = await transport.send(rendered('-1001234567890', 'to the crisis group'), noLimit());
    expect(fake.messages.at(-1)).toEqual({ to: '-1001234567890', text: 'to the crisis group' });
    expect(Number(receipt.providerId)).toBeGreaterThan(0);
  });

  it('unescaped HTML is refused by Telegram → permanent, pointing at the template', async () => {
    const err = await rejection(transport.send(rendered(chat, 'R&D <3'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/could not read the HTML.*&amp;/);
  });
});

describe('telegram channel: failures', () => {
  it('wrong token → permanent, naming TELEGRAM_BOT_TOKEN but not the token', async () => {
    const wrongToken = '999999:wrong-secret-token-0123456789abcdefgh';
    const wrong = await connect({ ...fake.env, TELEGRAM_BOT_TOKEN: wrongToken });
    const err = await rejection(wrong.send(rendered(chat, 'hello'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/TELEGRAM_BOT_TOKEN/);
    expect(err.message).not.toContain(wrongToken);
    expect((err as PermanentError).channelWide).toBe(true);
  });

  it.each([
    ['chat not found', 'not-a-chat', undefined, /does not know this chat/],
    ['bot blocked', '777', { kind: 'permanent' }, /blocked the bot/],
  ] as const)('%s → permanent', async (_, to, fault, reason) => {
    if (fault) fake.failFor(to, fault);
    const err = await rejection(transport.send(rendered(to, 'hi'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(reason);
  });

  it('a 5xx answer that is not Telegram\'s envelope (a proxy in between) → retryable', async () => {
    fake.http.queue({ status: 502, json: 'Bad Gateway' }, { status: 503, json: { message: 'upstream unavailable' } });
    for (const text of ['proxy', 'proxy again']) {
      const err = await rejection(transport.send(rendered(chat, text), noLimit()));
      expect(err).toBeInstanceOf(RetryableError);
      expect(err.message).toMatch(/not from the Telegram Bot API/);
    }
  });

  it('no answer and the signal aborts → retryable, outcome unknown', async () => {
    const before = fake.sendAttempts();
    fake.fail({ kind: 'hang' });
    const controller = new AbortController();
    const sending = rejection(transport.send(rendered(chat, 'hang'), controller.signal));
    await fake.until(() => fake.held() === 1); // the fake has the request and is not answering
    expect(fake.sendAttempts()).toBe(before + 1);
    controller.abort();
    const err = await sending;
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(true);
    expect(err.message).toMatch(/no answer from Telegram within the time limit; the message may or may not have been sent/);
  });

  it('an already aborted signal sends nothing', async () => {
    const before = fake.sendAttempts();
    const err = await rejection(transport.send(rendered(chat, 'late'), AbortSignal.abort()));
    expect((err as RetryableError).outcomeUnknown).toBe(false);
    expect(fake.sendAttempts()).toBe(before);
  });

  it('unreachable API → retryable, not sent, naming TELEGRAM_API_URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await connect({ ...fake.env, TELEGRAM_API_URL: url });
    const err = await rejection(unreachable.send(rendered(chat, 'nobody home'), noLimit()));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).outcomeUnknown).toBe(false);
    expect(err.message).toContain(new URL(url).host);
    expect(err.message).toMatch(/refused the connection; check TELEGRAM_API_URL/);
  });
});

describe('telegram channel: verify', () => {
  it('calls getMe and sends nothing', async () => {
    const [requests, attempts] = [fake.http.requests.length, fake.sendAttempts()];
    await transport.verify(noLimit());
    expect(fake.sendAttempts()).toBe(attempts);
    expect(fake.http.requests.slice(requests).map((r) => r.path)).toEqual([`/bot${fake.token}/getMe`]);
  });

  it('fails with a permanent error on a bad token', async () => {
    const wrong = await connect({ ...fake.env, TELEGRAM_BOT_TOKEN: '1:bad' });
    const err = await rejection(wrong.verify(noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN/);
  });
});

describe('telegram channel: planning', () => {
  const check = (text: string) => telegram.check(rendered(chat, text), { maxSmsSegments: 3 });

  it.each([
    ['4096 characters', 'x'.repeat(4096)],
    ['4096 visible characters inside tags', `<b>${'x'.repeat(4095)}</b>&amp;`],
    ['escaped values and allowed tags', '<i>Tom &amp; Jerry</i> &lt;3 &quot;ok&quot; &#233; <a href="https://x.org/?a=1&amp;b=2">lien</a>'],
  ])('accepts %s', (_, text) => {
    expect(check(text)).toEqual([]);
    expect(parseTelegramHtml(text)).not.toHaveProperty('error'); // the fake agrees
  });

  it('reports 4097 characters', () => {
    expect(check('x'.repeat(4097)).map((p) => p.message)).toEqual([expect.stringMatching(/4097 characters.*at most 4096/)]);
  });

  it.each([
    ['a bare &', 'R&D team', /bare "&".*&amp;/],
    ['a bare <', 'temp < 5', /bare "<".*&lt;/],
    ['an unknown tag', 'see <here>', /<here> is not a tag/],
    ['an unknown entity', 'a&nbsp;b', /&nbsp; is not an entity/],
  ])('reports %s, which Telegram would refuse', (_, text, reason) => {
    const [problem, ...more] = check(text);
    expect(more).toEqual([]);
    expect(problem?.where).toBe('telegram');
    expect(problem?.message).toMatch(reason);
    expect(parseTelegramHtml(text)).toHaveProperty('error'); // the fake agrees
  });

  it('names the missing variable, and the broadcast chat', () => {
    expect(telegram.missingConfig(loadConfig({}, cwd))).toEqual(['TELEGRAM_BOT_TOKEN']);
    expect(telegram.missingConfig(loadConfig({ ...fake.env }, cwd))).toEqual([]);
    expect(telegram.broadcastAddress?.(loadConfig({ TELEGRAM_CHAT_ID: '-10042' }, cwd))).toBe('-10042');
  });

  it('addresses a contact by chat id', () => {
    expect(telegram.columns.map((c) => c.name)).toEqual(['telegram']);
    expect(telegram.columns[0]!.parse('-10042', { defaultRegion: 'FR' })).toEqual({ value: '-10042' });
    expect(telegram.columns[0]!.parse('@someone', { defaultRegion: 'FR' })).toMatch(/not a numeric chat id/);
  });
});
