/**
 * A loopback Telegram Bot API: `/bot<token>/<method>`, the `{ ok, result }` envelope, and
 * parse_mode HTML parsed as strictly as Telegram does, so a test proves escaping by
 * having the message accepted.
 */
import { randomBytes } from 'node:crypto';
import { startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';

const botId = 123456;
const bot = { id: botId, is_bot: true, first_name: 'Fake', username: 'fake_bot' };
const maxTextChars = 4096;
const tags = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote']);
const entities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

const telegramError = (status: number, description: string, parameters?: object): Answer => ({
  status,
  json: { ok: false, error_code: status, description, ...(parameters && { parameters }) },
});

export function telegramFault(fault: Fault): Answer {
  switch (fault.kind) {
    case 'rate-limit': {
      const retryAfter = fault.retryAfterS ?? 1;
      return telegramError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    case 'server-error':
      return telegramError(fault.status ?? 500, 'Internal Server Error');
    case 'temporary':
      return telegramError(503, 'Service Unavailable');
    case 'permanent':
      return telegramError(403, 'Forbidden: bot was blocked by the user');
    case 'reset':
      return { reset: true };
    case 'hang':
      return { hang: true };
  }
}

/** Telegram's HTML mode: the visible text, or why it cannot be parsed. */
export function parseTelegramHtml(html: string): { text: string } | { error: string } {
  let text = '';
  const open: string[] = [];
  const fail = (what: string, at: number) => ({ error: `Bad Request: can't parse entities: ${what} at byte offset ${Buffer.byteLength(html.slice(0, at))}` });
  for (let i = 0; i < html.length; ) {
    const ch = html[i]!;
    if (ch === '<') {
      const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>/.exec(html.slice(i));
      if (!tag) return fail('Unsupported start tag', i);
      const [whole, closing, name = ''] = tag;
      const lower = name.toLowerCase();
      if (!tags.has(lower)) return fail(`Unsupported start tag "${lower}"`, i);
      if (!closing) open.push(lower);
      else if (open.pop() !== lower) return fail(`Unmatched end tag "${lower}"`, i);
      i += whole.length;
    } else if (ch === '&') {
      const entity = /^&(?:([a-z]+)|#(\d+)|#x([0-9a-fA-F]+));/.exec(html.slice(i));
      const [whole, name, dec, hexCode] = entity ?? [];
      const codePoint = dec ? Number(dec) : hexCode ? parseInt(hexCode, 16) : undefined;
      const value = name ? entities[name] : codePoint !== undefined && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : undefined;
      if (!whole || value === undefined) return fail('Character entity expected', i);
      text += value;
      i += whole.length;
    } else {
      text += ch;
      i += 1;
    }
  }
  if (open.length > 0) return fail(`Can't find end tag corresponding to start tag "${open.at(-1)}"`, html.length);
  return { text };
}

export async function startTelegramFake(): Promise<ProviderFake & { http: HttpFake; token: string } & TelegramInbound> {
  const token = `${botId}:AA${randomBytes(24).toString('base64url').slice(0, 33)}`;
  const messages: Received[] = [];
  const faultFor = new Map<string, Fault>();
  let nextMessageId = 1;
  const inbound = telegramInbound();
  const method = (req: RecordedRequest) => /^\/bot([^/]+)\/(\w+)$/.exec(req.path);
  const isSend = (req: RecordedRequest) => method(req)?.[2] === 'sendMessage';

  const handle = (req: RecordedRequest): Answer => {
    const [, pathToken, name] = method(req) ?? [];
    if (!pathToken) return telegramError(404, 'Not Found');
    if (pathToken !== token) return telegramError(401, 'Unauthorized');
    if (name === 'getMe') return { status: 200, json: { ok: true, result: bot } };
    if (name === 'sendMessage') return sendMessage(req.body);
    const read = inbound.handle(name ?? '', req.body);
    if (read) return read;
    return telegramError(404, 'Not Found: method not found');
  };

  const sendMessage = (body: Record<string, string>): Answer => {
    const { chat_id: chatId = '', text = '', parse_mode: parseMode } = body;
    const fault = faultFor.get(chatId);
    if (fault) return telegramFault(fault);
    if (!/^-?\d+$/.test(chatId)) return telegramError(400, 'Bad Request: chat not found');
    if (text === '') return telegramError(400, 'Bad Request: message text is empty');
    const parsed = parseMode === 'HTML' ? parseTelegramHtml(text) : { text };
    if ('error' in parsed) return telegramError(400, parsed.error);
    if (parsed.text.length > maxTextChars) return telegramError(400, 'Bad Request: message is too long');
    messages.push({ to: chatId, text });
    inbound.sent(chatId, nextMessageId);
    const id = Number(chatId);
    const chat = id < 0 ? { id, type: 'group', title: 'Fake group' } : { id, type: 'private', first_name: 'Fake' };
    const result = { message_id: nextMessageId++, from: bot, chat, date: Math.floor(Date.now() / 1000), text: parsed.text };
    return { status: 200, json: { ok: true, result } };
  };

  const http = await startHttpFake(handle, isSend);
  return {
    userMessage: inbound.api.userMessage,
    offsets: inbound.api.offsets,
    get webhook() {
      return inbound.api.webhook;
    },
    set webhook(on: boolean) {
      inbound.api.webhook = on;
    },
    http,
    token,
    env: { TELEGRAM_BOT_TOKEN: token, TELEGRAM_API_URL: http.url },
    messages,
    sendAttempts: () => http.requests.filter(isSend).length,
    fail: (...faults) => http.queue(...faults.map(telegramFault)),
    failFor: (address, fault) => void faultFor.set(address, fault),
    hold: http.hold,
    release: http.release,
    held: http.held,
    until: http.until,
    get latencyMs() {
      return http.latencyMs;
    },
    set latencyMs(ms: number) {
      http.latencyMs = ms;
    },
    close: () => http.close(),
  };
}

// ───────────── incoming messages (roll calls), kept apart from sending ─────────────

export interface TelegramInbound {
  /** The person in private chat `chatId` writes `text`; `asReply`: as a reply to our last message to them. */
  userMessage(chatId: string, text: string, options?: { asReply?: boolean }): number;
  /** A webhook is set: getUpdates answers 409, as Telegram does. */
  webhook: boolean;
  /** getUpdates calls seen, with their offsets. */
  offsets: (number | undefined)[];
}

/**
 * getUpdates as the Bot API documents it: updates with update_id ≥ `offset` are returned
 * (at most `limit`), and an offset confirms — forgets — every update before it. 409 while a
 * webhook is set.
 */
function telegramInbound() {
  let updates: { update_id: number; message: Record<string, unknown> }[] = [];
  let nextUpdateId = 500_000;
  const lastSent = new Map<string, number>();
  const state = { webhook: false, offsets: [] as (number | undefined)[] };
  const handle = (name: string, body: Record<string, string>): Answer | undefined => {
    if (name !== 'getUpdates') return undefined;
    if (state.webhook) {
      return { status: 409, json: { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" } };
    }
    const offset = body.offset === undefined ? undefined : Number(body.offset);
    state.offsets.push(offset);
    if (offset !== undefined) updates = updates.filter((u) => u.update_id >= offset);
    return { status: 200, json: { ok: true, result: updates.slice(0, Number(body.limit ?? 100)) } };
  };
  const api: TelegramInbound = {
    userMessage(chatId, text, options = {}) {
      const id = Number(chatId);
      const replyTo = options.asReply ? lastSent.get(chatId) : undefined;
      const update_id = nextUpdateId++;
      updates.push({
        update_id,
        message: {
          message_id: 10_000 + update_id, from: { id, is_bot: false, first_name: 'Person' }, chat: { id, type: 'private', first_name: 'Person' },
          date: Math.floor(Date.now() / 1000), text,
          ...(replyTo !== undefined && { reply_to_message: { message_id: replyTo, chat: { id, type: 'private' }, date: 0, text: '…' } }),
        },
      });
      return update_id;
    },
    get webhook() {
      return state.webhook;
    },
    set webhook(on: boolean) {
      state.webhook = on;
    },
    get offsets() {
      return state.offsets;
    },
  };
  return { handle, sent: (chatId: string, messageId: number) => lastSent.set(chatId, messageId), api };
}
