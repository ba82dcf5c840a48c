/**
 * Slack through the Web API (chat.postMessage) with a bot token. @slack/web-api is imported
 * in connect() only, so --help, checks and dry runs never load it.
 */
import type { ChatPostMessageArguments, Logger, WebClient as SlackClient, WebClientOptions } from '@slack/web-api';
import pThrottle from 'p-throttle';
import { unsetVariables, type AddressColumn, type Channel, type InboundReply, type PollRequest, type PollResult } from '../core/channel.js';
import { SLACK } from '../core/contacts.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import type { Problem, Rendered } from '../core/types.js';
import { UserError } from '../errors.js';
import { CallContext, HttpConnection } from './http-connection.js';

/** Slack truncates message text beyond this (it advises staying under 4,000). */
const MAX_TEXT_CHARS = 40_000;

type Rule = { retryable: boolean; reason: string; channelWide?: boolean };
const TOKEN = (what: string): Rule => ({ retryable: false, reason: `${what}: check SLACK_BOT_TOKEN`, channelWide: true });

/** Slack's `error` field (HTTP 200, ok:false) → decision. Unknown codes are permanent. */
const SLACK_ERRORS: Record<string, Rule> = {
  invalid_auth: TOKEN('Slack rejected the bot token'),
  not_authed: TOKEN('Slack received no bot token'),
  account_inactive: TOKEN('the Slack bot or its workspace is deactivated'),
  token_revoked: TOKEN('the Slack bot token was revoked'),
  token_expired: TOKEN('the Slack bot token has expired'),
  missing_scope: TOKEN('the Slack app lacks the chat:write scope: add it and reinstall the app'),
  channel_not_found: { retryable: false, reason: 'Slack channel not found: check the slack column of the contact (or SLACK_CHANNEL); for a private channel, invite the bot to it' },
  not_in_channel: { retryable: false, reason: 'the bot is not a member of this Slack channel: invite the bot to the channel (/invite @bot)' },
  is_archived: { retryable: false, reason: 'the Slack channel is archived: unarchive it or use another channel' },
  user_not_found: { retryable: false, reason: 'Slack user not found: check the member id (U…) in the contacts file' },
  user_disabled: { retryable: false, reason: 'this Slack account is deactivated' },
  cannot_dm_bot: { retryable: false, reason: 'this Slack member id belongs to a bot, which cannot receive messages' },
  restricted_action: { retryable: false, reason: 'the workspace does not let the bot post in this channel' },
  msg_too_long: { retryable: false, reason: 'the message is too long for Slack: shorten the template' },
  no_text: { retryable: false, reason: 'the Slack message is empty: check the template' },
  ratelimited: { retryable: true, reason: 'Slack rate limit reached' },
  internal_error: { retryable: true, reason: 'Slack had an internal error' },
  fatal_error: { retryable: true, reason: 'Slack had an internal error' },
  service_unavailable: { retryable: true, reason: 'Slack is unavailable for now' },
  request_timeout: { retryable: true, reason: 'Slack timed out while reading the request' },
};

const DEFAULT_API_URL = 'https://slack.com/api/';
/**
 * conversations.replies and reactions.get are tier 3: about 50 calls a minute per workspace
 * for an organisation's own app. A poll makes two calls per message, so it keeps to this.
 */
const tier3CallsPerMinute = 50;

const CONTROL: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/**
 * Values in Slack mrkdwn: only the three control characters are escaped (Slack's own rule),
 * so a value cannot open a link, a mention or `<!channel>`:
 *
 * | & → &amp; | < → &lt; | > → &gt; |
 */
export const escapeMrkdwn = (value: string) => value.replace(/[&<>]/g, (c) => CONTROL[c]!);

// A member id (U…/W…) is posted to directly: chat.postMessage opens the DM itself.
const memberColumn: AddressColumn = {
  name: 'slack',
  example: 'U0SAMPLE',
  parse: (raw) => (SLACK.test(raw) ? { value: raw } : `slack "${raw}" is neither a member id (U…), a channel id (C…) nor a #channel-name.`),
};

export const slack: Channel = {
  name: 'slack',
  summary: 'Slack through a bot (Web API)',
  columns: [memberColumn],
  escape: escapeMrkdwn,
  byDefault: 'always',
  defaults: { concurrency: 2, perSecond: 1, connectMs: 90 }, // chat.postMessage ~1/s per channel
  env: [
    { name: 'SLACK_BOT_TOKEN', secret: true, description: 'bot token (chat:write; roll calls also need im:history, channels:history, groups:history, reactions:read); invite the bot to channels it posts in' },
    { name: 'SLACK_CHANNEL', description: 'optional channel that also receives each broadcast once' },
    { name: 'SLACK_API_URL', url: { schemes: ['https', 'http'], example: DEFAULT_API_URL }, description: 'Web API base URL (GovSlack, proxies)' },
  ],
  broadcastAddress: (settings) => settings.env.SLACK_CHANNEL,
  missingConfig: (settings) => unsetVariables(settings, ['SLACK_BOT_TOKEN']),

  check(message: Rendered): Problem[] {
    const length = message.text.length;
    if (length > MAX_TEXT_CHARS) {
      return [{ where: 'slack', group: 'limits', message: `the Slack message is ${length.toLocaleString('en-US')} characters long; Slack truncates beyond ${MAX_TEXT_CHARS.toLocaleString('en-US')}: shorten the template` }];
    }
    return [];
  },

  async connect(settings) {
    const { SLACK_BOT_TOKEN: token, SLACK_API_URL: apiUrl = DEFAULT_API_URL } = settings.env;
    if (!token) throw new UserError('Slack is not configured: set SLACK_BOT_TOKEN.');
    const { WebClient, LogLevel } = await import('@slack/web-api');
    // The SDK logs to stdout by default, which would corrupt --json output.
    const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, setName() {}, getLevel: () => LogLevel.ERROR };
    const options: WebClientOptions = {
      slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
      allowAbsoluteUrls: false,
      logger: quiet,
      // Hidden retries off: by default the SDK sleeps through 429s (pausing every call of the
      // client) and retries failures up to 10 times over ~30 minutes. The dispatcher retries.
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      // No SDK timeout: the dispatcher's per-attempt deadline aborts the request (an SDK
      // timer per call would also outlive every call by 30 s).
    };
    // The SDK takes no per-call signal, only a custom fetch: the call's signal travels to it
    // through a CallContext (the SDK reaches fetch synchronously), so an abort really cancels
    // the HTTP request, and one client serves the whole run (a client per call cost more CPU
    // than the request itself). Requests go out through node:http (http-connection.ts).
    const calls = new CallContext<AbortSignal>();
    const http = await HttpConnection.open();
    const client = new WebClient(token, {
      ...options,
      // The SDK's own queue must never hold a call back: a held call would reach fetch
      // later, outside its caller's context. The dispatcher bounds what is in flight.
      maxRequestConcurrency: Infinity,
      fetch: (url, init) => {
        const signal = calls.current;
        return http.fetch(url, signal ? { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal } : init);
      },
    });
    const clientFor = (signal: AbortSignal) => ({
      chat: { postMessage: (args: ChatPostMessageArguments) => calls.run(signal, () => client.chat.postMessage(args)) },
      auth: { test: () => calls.run(signal, () => client.auth.test()) },
    });
    const host = new URL(options.slackApiUrl!).host;
    return {
      async send(message, signal) {
        try {
          // The text is mrkdwn already: core/escape.ts escaped the values, the template's own
          // markup (<!here>, <https://…|link>) is meant. Escaping again would show `&amp;`.
          const res = await clientFor(signal).chat.postMessage({ channel: message.to, text: message.text, unfurl_links: false, mrkdwn: true });
          return { providerId: `${res.channel}:${res.ts}` };
        } catch (err) {
          throw toDeliveryError(err, signal, host, true);
        }
      },
      async verify(signal) {
        try {
          await clientFor(signal).auth.test();
        } catch (err) {
          throw toDeliveryError(err, signal, host, false);
        }
      },
      poll: (request, signal) => pollThreads(client, calls, request, signal),
      async close() {
        http.close();
      },
    };
  },
};

/** Pace shared by every poll of the process: tier 3 is per workspace, not per call site. */
const tier3 = pThrottle({ limit: tier3CallsPerMinute, interval: 60_000 });
const paced = tier3(async <T>(call: () => Promise<T>) => call());

/**
 * Replies in the thread of each of our messages (conversations.replies) and reactions on it
 * (reactions.get). Needs the scopes im:history (DMs), channels:history/groups:history
 * (channels) and reactions:read. Slack has no "since" for reactions: each poll lists them
 * all, and the roll call records each (person, reaction) once.
 */
async function pollThreads(client: SlackClient, calls: CallContext<AbortSignal>, request: PollRequest, signal: AbortSignal): Promise<PollResult> {
  const replies: InboundReply[] = [];
  const pollError = (e: unknown): never => {
    if ((e as SdkError).data?.error === 'missing_scope') {
      throw new PermanentError('the Slack app cannot read replies: add the scopes im:history, channels:history, groups:history and reactions:read, then reinstall the app', 'missing_scope');
    }
    throw toDeliveryError(e, signal, 'Slack', false);
  };
  const oldest = (request.since.getTime() / 1000).toFixed(6);
  for (const sent of request.sent) {
    if (signal.aborted) break;
    const [channel, ts] = sent.providerId.split(':');
    if (!channel || !ts) continue;
    const thread = await paced(() => calls.run(signal, () => client.conversations.replies({ channel, ts, oldest, limit: 200 }))).catch(pollError);
    for (const m of thread.messages ?? []) {
      if (m.ts === ts || m.bot_id || !m.user || !m.ts) continue; // our own message, or a bot
      replies.push({ providerId: `${channel}:${m.ts}`, from: m.user, text: m.text ?? '', deliveryId: sent.deliveryId, at: new Date(Number(m.ts) * 1000).toISOString() });
    }
    const got = await paced(() => calls.run(signal, () => client.reactions.get({ channel, timestamp: ts, full: true }))).catch(pollError);
    for (const reaction of got.message?.reactions ?? []) {
      for (const user of reaction.users ?? []) {
        replies.push({ providerId: `${channel}:${ts}:${reaction.name}:${user}`, from: user, text: reaction.name ?? '', reaction: true, deliveryId: sent.deliveryId, at: new Date().toISOString() });
      }
    }
  }
  return { replies, receipts: [] };
}

interface SdkError {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string; response_metadata?: { retryAfter?: number } };
  original?: { name?: string; cause?: { code?: string; message?: string } };
  message?: string;
}

function toDeliveryError(err: unknown, signal: AbortSignal, host: string, sending: boolean): DeliveryError {
  const e = (err ?? {}) as SdkError;
  const maybePosted = sending ? '; the message may or may not have been posted' : '';
  if (signal.aborted || e.original?.name === 'TimeoutError') {
    return new RetryableError(`no answer from Slack within the time limit${maybePosted}`, 'timeout', undefined, sending);
  }
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': // HTTP 429, thrown at once thanks to rejectRateLimitedCalls
      return new RetryableError(`Slack rate limit reached; it asked to wait ${e.retryAfter} s`, 'ratelimited', (e.retryAfter ?? 1) * 1000);
    case 'slack_webapi_platform_error': {
      const code = e.data?.error ?? 'unknown_error';
      const rule = SLACK_ERRORS[code] ?? { retryable: false, reason: `Slack refused the message (${code})` };
      const wait = e.data?.response_metadata?.retryAfter;
      return rule.retryable ? new RetryableError(rule.reason, code, wait === undefined ? undefined : wait * 1000) : new PermanentError(rule.reason, code, rule.channelWide);
    }
    case 'slack_webapi_http_error': {
      const status = e.statusCode ?? 0;
      if (status >= 500) {
        // A 503 refuses the request; other 5xx may come after the message was stored.
        return new RetryableError(`Slack had a server error (HTTP ${status})${status === 503 ? '' : maybePosted}`, `http_${status}`, undefined, sending && status !== 503);
      }
      return new PermanentError(`Slack answered HTTP ${status} at ${host}: check SLACK_API_URL`, `http_${status}`);
    }
    case 'slack_webapi_request_error': {
      const cause = e.original?.cause?.code;
      if (cause === 'EPROXY') return new RetryableError(`Slack cannot be reached: ${e.original?.cause?.message}`, cause);
      if (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND' || cause === 'EAI_AGAIN' || cause === 'EHOSTUNREACH') {
        return new RetryableError(`Slack cannot be reached at ${host} (SLACK_API_URL): ${cause}`, cause);
      }
      return new RetryableError(`the connection to Slack was lost before it answered${maybePosted}`, cause ?? 'network', undefined, sending);
    }
  }
  if (e.message?.startsWith('Retry header did not contain a valid timeout')) {
    return new RetryableError('Slack rate limit reached', 'ratelimited'); // a 429 without Retry-After
  }
  return new RetryableError(`unexpected failure talking to Slack${maybePosted}`, e.code, undefined, sending);
}
