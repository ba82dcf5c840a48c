/**
 * Discord through an incoming webhook (DISCORD_WEBHOOK_URL): a broadcast target only, one
 * message per run to the webhook's channel. Plain fetch, no SDK: the webhook API is one
 * POST, and fetch has no hidden retries and honours the dispatcher's AbortSignal.
 *
 * The webhook URL carries the webhook's token, so it is a secret: it is never the message's
 * `to` (journaled and printed) nor part of any error; `connect()` reads it from the settings.
 */
import { type Channel, type ChannelSettings, type Transport } from '../core/channel.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import type { Problem } from '../core/types.js';
import { HttpConnection } from './http-connection.js';
import { networkCodes } from './network-codes.js';

/** Discord refuses `content` longer than this, counted in characters (code points), after trimming. */
const maxContentChars = 2000;
/** A backstop: the dispatcher's AbortSignal is the real time limit of a send. */
const requestTimeoutMs = 30_000;
/** Message flag SUPPRESS_EMBEDS: the status-page and Telegram links do not unfold into cards. */
const suppressEmbedsFlag = 1 << 2;
/**
 * No mention in the content notifies anyone: not @everyone/@here, not a role, not a user,
 * whatever a template or a value holds. A crisis message is read, it does not page a server.
 */
const noPings = { parse: [] as string[] };

/** `https://discord.com/api[/v10]/webhooks/<id>/<token>`: the path part, whatever the host (proxies, tests). */
const webhookPath = /^\/api(?:\/v\d+)?\/webhooks\/(\d+)\/([\w-]+)\/?$/;
const EXAMPLE_URL = 'https://discord.com/api/webhooks/<id>/<token>';
const LABEL = 'discord (DISCORD_WEBHOOK_URL)';

type Rule = { permanent: boolean; reason: string; channelWide?: boolean };
const WEBHOOK = (what: string): Rule => ({
  permanent: true, channelWide: true,
  reason: `${what}: copy the webhook URL again from the Discord channel's settings (Integrations → Webhooks) into DISCORD_WEBHOOK_URL`,
});

/** Discord's JSON error `code` → retry or not, and why, in words a crisis lead can act on. */
const discordCodes: Record<number, Rule> = {
  10015: WEBHOOK('Discord does not know this webhook (deleted?)'),
  50027: WEBHOOK('Discord rejected the webhook token'),
  50006: { permanent: true, reason: 'the Discord message is empty: check the template' },
  50013: { permanent: true, channelWide: true, reason: "the webhook may no longer post in its Discord channel: check the channel's permissions, or create a new webhook" },
  220001: { permanent: true, channelWide: true, reason: 'the webhook posts to a forum channel, which needs a thread: add ?thread_id=<id> to DISCORD_WEBHOOK_URL' },
};

/** HTTP status, when the body carries no code Discord documents (a proxy, a gateway). */
const discordStatuses: Record<number, Rule> = {
  401: discordCodes[50027]!,
  404: discordCodes[10015]!,
  403: discordCodes[50013]!,
};


const MARKUP = /[\\*_~`|<[\]]/g;
const LINE_START = /(^|\n)([ \t]*)([#>-])/g;
const URL_IN_TEXT = /https?:\/\/[^\s<>]+/g;
/**
 * Values in Discord markdown, shown literally: a backslash before the characters that
 * would format, link or mention (Discord's markdown drops a `\` before any punctuation).
 *
 * | in a value                          | becomes        | because Discord would otherwise…              |
 * |-------------------------------------|----------------|-----------------------------------------------|
 * | `\` `*` `_` `~` `` ` `` `|`         | `\\` `\*` …    | escape, bold/italic, strike, code, spoiler    |
 * | `[` `]`                             | `\[` `\]`      | make a masked link `[text](url)`              |
 * | `<`                                 | `\<`           | show `<@id>` `<#id>` `<t:…>` as a mention/date |
 * | `#` `>` `-` starting a line         | `\#` `\>` `\-` | make a heading, a quote, a list or subtext    |
 * | `https://…` (a URL)                 | unchanged      | keep its link working: a `\` inside a URL would be part of it, and Discord shows URLs literally |
 * | `@everyone`, `@here`, `@name`       | unchanged      | nothing: `allowed_mentions: {parse: []}` on every send stops every ping, from values and templates alike, and the `@` of an e-mail address stays readable in the journal |
 */
export function escapeDiscordMarkdown(value: string): string {
  let out = '';
  let last = 0;
  for (const url of value.matchAll(URL_IN_TEXT)) {
    out += escapeText(value.slice(last, url.index)) + url[0];
    last = url.index + url[0].length;
  }
  return out + escapeText(value.slice(last), last > 0);
}

function escapeText(text: string, afterUrl = false): string {
  const inline = text.replace(MARKUP, '\\$&');
  // After a URL the text is not at the start of a line (unless it starts with a newline).
  return inline.replace(LINE_START, (whole, before: string, space: string, mark: string, at: number) =>
    at === 0 && before === '' && afterUrl ? whole : `${before}${space}\\${mark}`);
}

/** The webhook URL's parts, or one sentence saying what is wrong (never the URL itself). */
function parseWebhook(raw: string | undefined): { url: URL; token: string } | string {
  if (!raw) return `Discord is not configured: set DISCORD_WEBHOOK_URL to the channel's webhook URL (${EXAMPLE_URL}).`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `DISCORD_WEBHOOK_URL is not a valid URL; write it like ${EXAMPLE_URL}.`;
  }
  const match = webhookPath.exec(url.pathname);
  if (!match) return `DISCORD_WEBHOOK_URL does not look like a Discord webhook URL (${EXAMPLE_URL}); copy it from the channel's settings (Integrations → Webhooks → Copy Webhook URL).`;
  return { url, token: match[2]! };
}

export const discord: Channel = {
  name: 'discord',
  summary: 'Discord through a channel webhook (one message per run)',
  columns: [], // a broadcast target only: a webhook posts to one channel, not to people
  escape: escapeDiscordMarkdown,
  byDefault: 'when-configured',
  // Webhooks allow about 5 requests per 2 s, 30 messages a minute per channel; a run posts one.
  defaults: { concurrency: 1, perSecond: 1 },
  env: [
    {
      name: 'DISCORD_WEBHOOK_URL', secret: true, url: { schemes: ['https', 'http'], example: EXAMPLE_URL },
      description: "webhook URL of the Discord channel that receives each broadcast once (channel settings → Integrations → Webhooks); it holds the webhook's token",
    },
  ],
  missingConfig: (settings) => (settings.env.DISCORD_WEBHOOK_URL ? [] : ['DISCORD_WEBHOOK_URL']),
  broadcastAddress: (settings) => (settings.env.DISCORD_WEBHOOK_URL ? LABEL : undefined),

  check(message) {
    const problems: Problem[] = [];
    const chars = [...message.text.trim()].length;
    if (chars === 0) {
      problems.push({ where: 'discord', group: 'limits', message: 'This Discord message is empty and Discord refuses empty messages; check the template.' });
    }
    if (chars > maxContentChars) {
      problems.push({ where: 'discord', group: 'limits', message: `This Discord message is ${chars.toLocaleString('en-US')} characters long but Discord accepts at most ${maxContentChars.toLocaleString('en-US')}; shorten the template.` });
    }
    return problems;
  },

  async connect(settings: ChannelSettings): Promise<Transport> {
    const webhook = parseWebhook(settings.env.DISCORD_WEBHOOK_URL);
    if (typeof webhook === 'string') throw new PermanentError(webhook, 'config', true);
    const { url, token } = webhook;
    const secrets = [settings.env.DISCORD_WEBHOOK_URL!, token];
    const host = url.host;
    const postUrl = new URL(url); // keeps a ?thread_id= (forum channels)
    postUrl.searchParams.set('wait', 'true'); // answer with the created message, or the reason it was refused
    const webhookUrl = new URL(url.pathname, url.origin);

    const http = await HttpConnection.open();
    const request = async (init: RequestInit, target: URL, signal: AbortSignal, sending: boolean): Promise<unknown> => {
      if (signal.aborted) throw new RetryableError('not sent: the time limit ran out before the request started', 'aborted');
      let response: Response;
      let body: unknown;
      try {
        response = await http.fetch(target, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]) });
        const text = await response.text();
        body = parseJson(text);
      } catch (err) {
        throw networkError(err, signal, host, sending);
      }
      if (response.ok) return body;
      throw apiError(response, body, host, sending, secrets);
    };

    return {
      async send(message, signal) {
        // message.to is the readable label; the webhook URL is the real address.
        const payload = { content: message.text, allowed_mentions: noPings, flags: suppressEmbedsFlag };
        const sent = await request(
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) },
          postUrl, signal, true,
        );
        const { id, channel_id: channelId } = (sent ?? {}) as { id?: unknown; channel_id?: unknown };
        if (typeof id !== 'string') {
          throw new RetryableError(`${host} accepted the message but did not answer like Discord (no message id); the message may or may not have been posted`, 'not-discord', undefined, true);
        }
        return { providerId: typeof channelId === 'string' ? `${channelId}/${id}` : id };
      },
      // GET on a webhook URL returns the webhook (id, name, channel) and posts nothing.
      async verify(signal) {
        const found = (await request({ method: 'GET' }, webhookUrl, signal, false)) as { id?: unknown; channel_id?: unknown } | undefined;
        if (typeof found?.id !== 'string') {
          throw new PermanentError(`${host} answered but not like a Discord webhook: check DISCORD_WEBHOOK_URL`, 'not-discord', true);
        }
      },
      async close() {
        http.close();
      },
    };
  },
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // a proxy's HTML error page: judged by its status
  }
}

interface DiscordErrorBody {
  code?: unknown;
  message?: unknown;
  retry_after?: unknown;
  errors?: unknown;
}

function apiError(response: Response, body: unknown, host: string, sending: boolean, secrets: string[]): DeliveryError {
  const status = response.status;
  const { code, message, retry_after: retryAfterS, errors } = (body ?? {}) as DiscordErrorBody;
  const tag = `discord-${typeof code === 'number' && code !== 0 ? code : status}`;
  if (status === 429) {
    const waitMs = typeof retryAfterS === 'number' ? Math.ceil(retryAfterS * 1000) : retryAfterHeaderMs(response.headers.get('retry-after'));
    const wait = waitMs === undefined ? '' : `; it asked to wait ${waitMs / 1000} s`;
    return new RetryableError(`Discord is limiting the sending rate (too many requests)${wait}`, 'discord-429', waitMs);
  }
  const rule = (typeof code === 'number' ? discordCodes[code] : undefined) ?? discordStatuses[status];
  if (rule) {
    return rule.permanent ? new PermanentError(rule.reason, tag, rule.channelWide) : new RetryableError(rule.reason, tag);
  }
  if (status >= 500) {
    // A 503 refuses the request; after other 5xx the message may have been stored.
    const maybe = sending && status !== 503;
    return new RetryableError(`Discord had a server error (HTTP ${status})${maybe ? '; the message may or may not have been posted' : ''}`, tag, undefined, maybe);
  }
  if (code === undefined && message === undefined) {
    return new PermanentError(`${host} answered HTTP ${status}, not like Discord: check DISCORD_WEBHOOK_URL`, tag, true);
  }
  // 50035 Invalid Form Body and the rest: Discord's own words say which field and why.
  const details = scrub([String(message ?? ''), ...fieldErrors(errors)].filter(Boolean).join(': '), secrets);
  return new PermanentError(`Discord refused the message (${details})`, tag);
}

/** `{content: {_errors: [{message}]}}` → ["content: Must be 2000 or fewer in length."] */
function fieldErrors(errors: unknown, path = ''): string[] {
  if (!errors || typeof errors !== 'object') return [];
  return Object.entries(errors).flatMap(([key, value]) => {
    if (key === '_errors' && Array.isArray(value)) {
      return value.map((e: { message?: unknown }) => `${path || 'body'} ${String(e?.message ?? '')}`.trim());
    }
    return fieldErrors(value, path ? `${path}.${key}` : key);
  });
}

function networkError(err: unknown, signal: AbortSignal, host: string, sending: boolean): RetryableError {
  const maybe = sending ? '; the message may or may not have been posted' : '';
  if (signal.aborted) return new RetryableError(`no answer from Discord within the time limit${maybe}`, 'timeout', undefined, sending);
  if ((err as { name?: string }).name === 'TimeoutError') {
    return new RetryableError(`Discord (${host}) did not answer within ${requestTimeoutMs / 1000} s${maybe}`, 'timeout', undefined, sending);
  }
  const code = (err as { cause?: { code?: string } }).cause?.code ?? '';
  const known = networkCodes[code];
  if (known?.[0] === false) return new RetryableError(`could not reach Discord: ${host} ${known[1]}; check DISCORD_WEBHOOK_URL and the network`, code);
  if (known) return new RetryableError(`Discord (${host}) ${known[1]}${maybe}`, code, undefined, sending);
  return new RetryableError(`the connection to Discord (${host}) failed before it answered${maybe}`, code || 'network', undefined, sending);
}

/** `Retry-After` is seconds (Discord) or an HTTP date (a proxy). */
function retryAfterHeaderMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}

/** Discord's words could quote the request; the webhook URL and its token never reach a message. */
function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}
