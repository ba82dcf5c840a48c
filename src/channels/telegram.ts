/**
 * Telegram through the Bot API (node-telegram-bot-api 2.x, fetch-based). The SDK is
 * loaded in `connect()` only. Messages are sent with parse_mode HTML: templates hold
 * Telegram HTML literally and core/escape.ts escapes the values put into them, so
 * `check()` reads the text the way Telegram will and reports what it would refuse.
 */
import { unsetVariables, type AddressColumn, type Channel, type ChannelSettings, type PollResult, type Transport } from '../core/channel.js';
import { TELEGRAM } from '../core/contacts.js';
import { lastAnswer } from '../core/last-answer.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import type { Problem } from '../core/types.js';
import { HttpConnection } from './http-connection.js';
import { networkCodes } from './network-codes.js';

/** Visible text after HTML parsing, in UTF-16 units as Telegram counts them. */
const maxTextChars = 4096;
const allowedTags = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote']);
const allowedEntities = new Set(['lt', 'gt', 'amp', 'quot']);

/** Telegram errors → retry or not, and why, in words a crisis lead can act on. First match wins. */
const telegramErrors: [code: number, description: RegExp, permanent: boolean, reason: string][] = [
  [401, /./, true, 'Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN'],
  [404, /./, true, 'Telegram does not know this bot: check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL'],
  [400, /chat not found/i, true, 'Telegram does not know this chat: check the telegram chat id in the contacts file, and that the contact has started a conversation with the bot'],
  [400, /can't parse entities/i, true, 'Telegram could not read the HTML of this message: in the template, write a literal & < > as &amp; &lt; &gt;'],
  [400, /message is too long/i, true, `the message is longer than Telegram's ${maxTextChars} characters: shorten the template`],
  [403, /blocked by the user/i, true, 'the recipient blocked the bot on Telegram; they must unblock it to receive messages'],
  [403, /can't initiate conversation/i, true, 'the recipient never started a conversation with the bot: they must open it in Telegram and press Start'],
  [403, /kicked|not a member/i, true, 'the bot is no longer a member of this group: add it back'],
  [403, /user is deactivated/i, true, 'this Telegram account has been deleted'],
  [429, /./, false, 'Telegram is limiting the sending rate (too many requests)'],
];


const DEFAULT_API_URL = 'https://api.telegram.org';
/** Updates fetched per getUpdates call (Telegram's maximum). */
const updatesPerCall = 100;
/** A roll-call poll reads what is waiting and returns: no long-poll wait (the watch loop paces polls). */
const pollTimeoutS = 0;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
/**
 * Values in Telegram HTML (parse_mode HTML accepts only these four entities):
 *
 * | & → &amp; | < → &lt; | > → &gt; | " → &quot; |
 */
export const escapeTelegramHtml = (value: string) => value.replace(/[&<>"]/g, (c) => ENTITIES[c]!);

const chatColumn: AddressColumn = {
  name: 'telegram',
  example: '100000000',
  parse: (raw) => (TELEGRAM.test(raw) ? { value: raw } : `telegram "${raw}" is not a numeric chat id.`),
};

export const telegram: Channel = {
  name: 'telegram',
  summary: 'Telegram through a bot',
  columns: [chatColumn],
  escape: escapeTelegramHtml,
  byDefault: 'always',
  defaults: { concurrency: 8, perSecond: 30, connectMs: 40 }, // 30 messages/s per bot
  env: [
    { name: 'TELEGRAM_BOT_TOKEN', secret: true, description: 'bot token from @BotFather' },
    { name: 'TELEGRAM_CHAT_ID', description: 'optional group chat that also receives each broadcast once' },
    { name: 'TELEGRAM_API_URL', url: { schemes: ['https', 'http'], example: DEFAULT_API_URL }, description: 'Bot API base URL (a local Bot API server)' },
  ],
  broadcastAddress: (settings) => settings.env.TELEGRAM_CHAT_ID,

  check(message) {
    const { visibleChars, problem } = readHtml(message.text);
    const problems: Problem[] = [];
    if (problem) problems.push({ where: 'telegram', group: 'limits', message: `Telegram would refuse this message's HTML: ${problem}.` });
    if (visibleChars > maxTextChars) {
      problems.push({ where: 'telegram', group: 'limits', message: `This Telegram message is ${visibleChars} characters long but Telegram accepts at most ${maxTextChars}; shorten the template.` });
    }
    return problems;
  },

  missingConfig: (settings) => unsetVariables(settings, ['TELEGRAM_BOT_TOKEN']),

  async connect(settings: ChannelSettings): Promise<Transport> {
    const { TELEGRAM_BOT_TOKEN: token, TELEGRAM_API_URL: apiUrl = DEFAULT_API_URL } = settings.env;
    if (!token) throw new PermanentError('TELEGRAM_BOT_TOKEN is not set; create a bot with @BotFather and copy its token.');
    const { Api, TelegramApiError } = await import('node-telegram-bot-api');
    // maxRetries 0: the SDK would otherwise retry 429, 5xx and resets twice by itself, and a
    // re-sent message after a reset can arrive twice. The dispatcher owns retries.
    // timeoutMs 0: every call here carries the caller's signal, which is the time limit; the
    // SDK's own would add a timer and a combined signal per request (the connection still
    // has a backstop for a request without a signal). Requests go out through node:http.
    const http = await HttpConnection.open();
    const api = new Api(token, { apiRoot: apiUrl, maxRetries: 0, timeoutMs: 0, fetch: http.fetch });
    const host = new URL(apiUrl).host;

    const run = async <T>(signal: AbortSignal, request: () => Promise<T>): Promise<T> => {
      if (signal.aborted) throw new RetryableError('not sent: the time limit ran out before the request started', 'aborted');
      try {
        return await request();
      } catch (err) {
        if (signal.aborted) {
          throw new RetryableError('no answer from Telegram within the time limit; the message may or may not have been sent', 'timeout', undefined, true);
        }
        if (err instanceof TelegramApiError) {
          // A JSON answer that is not the Bot API's envelope (a proxy's error page) has no code.
          if (typeof err.errorCode !== 'number') throw new RetryableError(`${host} gave an answer that is not from the Telegram Bot API (a proxy in between?)`, 'not-telegram', undefined, true);
          throw apiError(err.errorCode, scrub(String(err.description), token), err.retryAfter);
        }
        throw networkError(err, host, token);
      }
    };

    return {
      async send(message, signal) {
        const sent = await run(signal, () =>
          api.sendMessage({ chat_id: message.to, text: message.text, parse_mode: 'HTML', link_preview_options: { is_disabled: true } }, signal),
        );
        return { providerId: String(sent.message_id) };
      },
      async verify(signal) {
        await run(signal, () => api.getMe(signal));
      },
      /**
       * getUpdates from the cursor (last update_id + 1). Confirming an offset deletes the
       * updates before it at Telegram, so the offset only moves on once the roll call has
       * recorded the replies (the cursor comes back from the journal next time).
       */
      async poll(request, signal) {
        const byMessageId = new Map(request.sent.map((m) => [m.providerId, m.deliveryId]));
        const result: PollResult = { replies: [], receipts: [] };
        let offset = request.cursor ? Number(request.cursor) : undefined;
        for (;;) {
          let updates;
          try {
            updates = await run(signal, () => api.getUpdates({ ...(offset !== undefined && { offset }), limit: updatesPerCall, timeout: pollTimeoutS, allowed_updates: ['message'] }, signal));
          } catch (error) {
            if ((error as { code?: string }).code === 'telegram-409') {
              return { ...result, problem: 'Telegram refuses to hand out replies while the bot has a webhook set (or another program is polling it); delete the webhook (deleteWebhook) or give crisis-notify a bot of its own' };
            }
            throw error;
          }
          for (const update of updates) {
            offset = update.update_id + 1;
            const message = 'message' in update ? update.message : undefined;
            if (!message || message.date * 1000 < request.since.getTime() - 1000) continue;
            const repliedTo = message.reply_to_message ? byMessageId.get(String(message.reply_to_message.message_id)) : undefined;
            result.replies.push({
              providerId: String(update.update_id), from: String(message.chat.id), text: message.text ?? message.caption ?? '',
              at: new Date(message.date * 1000).toISOString(), ...(repliedTo && { deliveryId: repliedTo }),
            });
          }
          if (updates.length < updatesPerCall) break;
        }
        return { ...result, ...(offset !== undefined && { cursor: String(offset) }) };
      },
      async close() {
        http.close();
      },
    };
  },
};

function apiError(code: number, description: string, retryAfterS: number | undefined): DeliveryError {
  const known = telegramErrors.find(([c, pattern]) => c === code && pattern.test(description));
  const tag = `telegram-${code}`;
  if (known) {
    const [, , permanent, reason] = known;
    // Telegram's own words help with a bad request (which tag, which offset).
    // 401/404: the bot token itself is refused, so no chat can be reached.
    if (permanent) return new PermanentError(code === 400 ? `${reason} (Telegram: "${description}")` : reason, tag, code === 401 || code === 404);
    return new RetryableError(reason, tag, retryAfterS === undefined ? undefined : retryAfterS * 1000);
  }
  if (code >= 500) return new RetryableError(`Telegram had a server error (${code}: ${description})`, tag, undefined, code === 504);
  return new PermanentError(`Telegram refused the message (${code}: ${description})`, tag);
}

function networkError(err: unknown, host: string, token: string): RetryableError {
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError') {
    return new RetryableError(`Telegram (${host}) did not answer in time; the message may or may not have been sent`, 'timeout', undefined, true);
  }
  // NetworkError → TypeError('fetch failed') → the socket error with its code.
  const code = (err as { cause?: { cause?: { code?: string } } }).cause?.cause?.code ?? '';
  const known = networkCodes[code];
  if (known?.[0] === false) return new RetryableError(`could not reach Telegram: ${host} ${known[1]}; check TELEGRAM_API_URL and the network`, code);
  if (known) return new RetryableError(`Telegram (${host}) ${known[1]}; the message may or may not have been sent`, code, undefined, true);
  // A non-JSON 5xx (a proxy's error page) lands here too: "Server error 502 on sendMessage".
  const message = scrub(String((err as { message?: unknown }).message), token);
  return new RetryableError(`unexpected answer or error from Telegram (${host}): ${message}`, code || 'unexpected', undefined, true);
}

/**
 * Reads text the way Telegram's HTML mode does: tags and entities are markup, the rest is
 * visible text. Returns the visible length and the first thing Telegram would refuse:
 *
 * | in the text              | Telegram            |
 * |--------------------------|---------------------|
 * | `<b>`, `</a>`, …         | allowed tag         |
 * | `<x>`, `<3`, `a < b`     | refused             |
 * | `&lt; &gt; &amp; &quot;`, `&#38;` | one character |
 * | `&`, `R&D`, `&nbsp;`     | refused             |
 */
const readHtml = lastAnswer(readHtmlNow);

function readHtmlNow(text: string): { visibleChars: number; problem?: string } {
  let visibleChars = 0;
  let problem: string | undefined;
  const tokens = /<\/?([a-zA-Z][\w-]*)[^<>]*>|&([a-zA-Z]+|#\d+|#x[\da-fA-F]+);|[<&]|[^<&]+/g;
  for (const { 0: token, 1: tag, 2: entity, index } of text.matchAll(tokens)) {
    if (tag !== undefined) {
      if (!allowedTags.has(tag.toLowerCase())) problem ??= `<${tag}> is not a tag Telegram allows (write &lt; for a literal <)`;
    } else if (entity !== undefined) {
      if (!entity.startsWith('#') && !allowedEntities.has(entity)) problem ??= `&${entity}; is not an entity Telegram knows (write &amp; for a literal &)`;
      visibleChars += 1;
    } else if (token === '<' || token === '&') {
      const near = text.slice(Math.max(0, index - 15), index + 15).replace(/\s+/g, ' ');
      problem ??= `a bare "${token}" in "${near}" (write ${token === '<' ? '&lt;' : '&amp;'})`;
      visibleChars += 1;
    } else {
      visibleChars += token.length;
    }
  }
  return problem === undefined ? { visibleChars } : { visibleChars, problem };
}

/** Telegram puts the token in the request URL; never let it reach a message. */
function scrub(text: string, token: string): string {
  return text.split(token).join('***');
}
