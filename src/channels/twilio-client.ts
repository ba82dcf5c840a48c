/**
 * The Twilio REST client shared by the SMS and voice channels: one account, one SDK, one
 * way of reaching it and of reading its errors. The SDK is loaded in `connectTwilio()` only.
 *
 * The SDK sends through the HTTP client we give it (`httpClient`, as Twilio documents):
 * node:http with keep-alive (http-connection.ts) instead of its default axios client, which
 * cost several times the CPU per message. The SDK takes no per-request headers and no
 * AbortSignal, so each call hands its signal and idempotency token to that client through a
 * CallContext (the SDK calls its HTTP client synchronously), and the client keeps the
 * response headers, which RestException drops (Retry-After).
 */
import { stringify } from 'node:querystring';
import type { Twilio } from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { ChannelSettings, EnvVar } from '../core/channel.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import { CallContext, HttpConnection } from './http-connection.js';
import { networkCodes as sharedNetworkCodes } from './network-codes.js';

/** A backstop: the dispatcher's AbortSignal is the real time limit of a request. */
const requestTimeoutMs = 30_000;
const idempotencyHeader = 'I-Twilio-Idempotency-Token';
const DEFAULT_API_URL = 'https://api.twilio.com';

/** The Twilio account, shared by SMS and voice calls. */
export const TWILIO_ENV: readonly EnvVar[] = [
  { name: 'TWILIO_ACCOUNT_SID', description: 'Twilio account SID (AC…)' },
  { name: 'TWILIO_AUTH_TOKEN', secret: true, description: 'Twilio auth token' },
  { name: 'TWILIO_API_URL', url: { schemes: ['https', 'http'], example: DEFAULT_API_URL }, description: 'Twilio REST API base URL (proxies)' },
];

export interface Verdict {
  permanent: boolean;
  reason: string;
  /** The request may have been carried out although it failed (a gateway timeout). */
  outcomeUnknown?: boolean;
}

/** Codes about the account itself, whatever is being sent. */
const accountCodes: Record<number, Verdict> = {
  20003: { permanent: true, reason: 'Twilio rejected the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN' },
  20404: { permanent: true, reason: 'Twilio does not know this account: check TWILIO_ACCOUNT_SID and TWILIO_API_URL' },
  20429: { permanent: false, reason: 'Twilio is limiting the sending rate (too many requests)' },
};
const ACCOUNT_WIDE = [20003, 20404];

/** What a channel adds to the shared error mapping. */
export interface TwilioErrors {
  /** The channel's own Twilio error codes → retry or not, and why (they win over the account codes). */
  codes: Record<number, Verdict>;
  /** Codes that mean nothing can go out on this channel (a refused sender), besides the account's. */
  channelWide: readonly number[];
  /** What was being sent, for "the message may or may not have been sent": `message`, `call`. */
  thing: string;
  /** The verb for it: `sent`, `placed`. */
  sent: string;
}

/** Socket errors (their `code`) → [outcome unknown: the request may have left, what happened]. */
const networkCodes: Record<string, [boolean, string]> = {
  ECONNREFUSED: [false, 'refused the connection'],
  EPROXY: sharedNetworkCodes.EPROXY!,
  ENOTFOUND: [false, 'cannot be found (DNS)'],
  EAI_AGAIN: [false, 'cannot be found right now (DNS lookup failed)'],
  ECONNRESET: [true, 'closed the connection before answering'],
  EPIPE: [true, 'closed the connection while the request was being sent'],
  ETIMEDOUT: [true, `did not answer within ${requestTimeoutMs / 1000} s`],
};

/** One request's context, read by the HTTP client. */
export interface TwilioRequest {
  signal: AbortSignal;
  idempotencyToken?: string;
  responseHeaders?: Record<string, unknown>;
}

export interface TwilioConnection {
  client: Twilio;
  accountSid: string;
  /** Run one SDK request under `request.signal`; any failure comes out as a PermanentError or RetryableError. */
  run<T>(request: TwilioRequest, call: (client: Twilio) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Load the SDK and build a client for the account in `settings`. Sends nothing. */
export async function connectTwilio(settings: ChannelSettings, errors: TwilioErrors): Promise<TwilioConnection> {
  const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken } = settings.env;
  const apiUrl = settings.env.TWILIO_API_URL ?? DEFAULT_API_URL;
  if (!accountSid?.startsWith('AC') || !authToken) {
    throw new PermanentError('TWILIO_ACCOUNT_SID must start with AC and TWILIO_AUTH_TOKEN must be set; copy both from the Twilio console.');
  }
  const { default: twilio } = await import('twilio');
  const context = new CallContext<TwilioRequest>();
  const http = await HttpConnection.open();
  // No SDK retries: the dispatcher owns retries (the SDK's autoRetry ignores Retry-After).
  const httpClient = { request: (opts: TwilioHttpOptions) => sendRequest(http, context.current, opts) };
  // edge/region '' so TWILIO_EDGE/TWILIO_REGION cannot rewrite the host; logLevel so
  // TWILIO_LOG_LEVEL=debug cannot print requests on stdout, which --json owns.
  const client = twilio(accountSid, authToken, { httpClient: httpClient as unknown as RequestClient, edge: '', region: '', logLevel: 'warn' });
  client.api.baseUrl = apiUrl;
  // Prices live on pricing.twilio.com; a TWILIO_API_URL (proxy, test server) serves them too.
  if (settings.env.TWILIO_API_URL) client.pricing.baseUrl = apiUrl;
  // The SDK rewrites two-label host names (proxy.corp → proxy.corp.proxy.corp) to add a
  // region; an explicit TWILIO_API_URL is meant literally.
  client.getHostname = (hostname) => hostname;

  const host = new URL(apiUrl).host;
  const secrets = [authToken, accountSid];
  return {
    client,
    accountSid,
    async run(request, call) {
      if (request.signal.aborted) throw new RetryableError('not sent: the time limit ran out before the request started', 'aborted');
      try {
        return await context.run(request, () => call(client));
      } catch (err) {
        throw toDeliveryError(err, request, host, secrets, errors);
      }
    },
    async close() {
      http.close();
    },
  };
}

/** What the SDK asks of its HTTP client (twilio/lib/base/RequestClient `request`). */
interface TwilioHttpOptions {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  authStrategy?: { getAuthString(): Promise<string> };
  headers?: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
  timeout?: number;
}

/**
 * One SDK request, as RequestClient makes it (form or JSON body, query parameters, basic
 * auth), answered the way the SDK reads answers: status, body text, headers.
 * `current` is the calling send's context, read before anything is awaited.
 */
async function sendRequest(http: HttpConnection, current: TwilioRequest | undefined, opts: TwilioHttpOptions) {
  const headers: Record<string, string> = { ...opts.headers };
  if (current?.idempotencyToken) headers[idempotencyHeader] = current.idempotencyToken;
  if (opts.username && opts.password) headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
  const url = new URL(opts.uri);
  // Arrays repeat their key (`MediaUrl=a&MediaUrl=b`), as the SDK's own client sends them.
  if (opts.params) url.search = [url.search.slice(1), stringify(opts.params as Record<string, string>)].filter(Boolean).join('&');
  const json = headers['Content-Type'] === 'application/json';
  const body = opts.data && (json ? JSON.stringify(opts.data) : stringify(opts.data as Record<string, string>));
  const answer = await http.request(url, {
    method: opts.method.toUpperCase(), headers, ...(body !== undefined && { body }),
    ...(current ? { signal: current.signal } : { timeoutMs: opts.timeout ?? requestTimeoutMs }),
  });
  if (current) current.responseHeaders = answer.headers;
  return { statusCode: answer.status, body: answer.body, headers: answer.headers };
}

function toDeliveryError(err: unknown, request: TwilioRequest, host: string, secrets: string[], errors: TwilioErrors): DeliveryError {
  const maybe = `the ${errors.thing} may or may not have been ${errors.sent}`;
  if (request.signal.aborted) return new RetryableError(`no answer from Twilio within the time limit; ${maybe}`, 'timeout', undefined, true);
  const { status, code, message } = err as { status?: unknown; code?: unknown; message?: unknown };
  if (typeof status === 'number') {
    // A RestException: Twilio (or a proxy) answered with an error status.
    const { permanent, reason, outcomeUnknown = false } = verdictFor(status, code, scrubSecrets(String(message ?? ''), secrets), errors);
    const tag = `twilio-${String(code ?? status)}`;
    if (permanent) {
      const channelWide = typeof code === 'number' ? ACCOUNT_WIDE.includes(code) || errors.channelWide.includes(code) : status === 401;
      return new PermanentError(reason, tag, channelWide);
    }
    return new RetryableError(reason, tag, retryAfterMs(request.responseHeaders?.['retry-after']), outcomeUnknown);
  }
  const network = typeof code === 'string' ? networkCodes[code] : undefined;
  if (network?.[0] === false) return new RetryableError(`could not reach Twilio: ${host} ${network[1]}; check TWILIO_API_URL and the network`, code as string);
  if (network) return new RetryableError(`Twilio (${host}) ${network[1]}; ${maybe}`, code as string, undefined, true);
  return new RetryableError(`unexpected error while talking to Twilio: ${scrubSecrets(String(message), secrets)}`, 'unexpected', undefined, true);
}

function verdictFor(status: number, code: unknown, message: string, errors: TwilioErrors): Verdict {
  const known = typeof code === 'number' ? errors.codes[code] ?? accountCodes[code] : undefined;
  if (known) return known;
  if (status === 401) return accountCodes[20003]!;
  if (status === 429) return accountCodes[20429]!;
  if (status >= 500) return { permanent: false, reason: `Twilio had a server error (HTTP ${status})`, outcomeUnknown: status === 504 };
  return { permanent: true, reason: `Twilio refused the ${errors.thing} (error ${String(code ?? status)}: ${message})` };
}

/** `Retry-After` is seconds or an HTTP date. */
function retryAfterMs(header: unknown): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}

/** Provider text can quote the request URL, and the URL holds the account SID. */
type PriceRow = { current_price?: string; currentPrice?: string; prices?: PriceRow[] };

/**
 * The highest current price per unit among a country's rows (carriers, number types or
 * prefixes): a preview should not promise less than the bill. The SDK passes the nested
 * rows through as the API spells them (snake_case).
 */
function highestPrice(rows: PriceRow[] | undefined): number | undefined {
  const prices = (rows ?? []).flatMap((row) => (row.prices ? row.prices : [row])).map((p) => Number(p.current_price ?? p.currentPrice));
  const valid = prices.filter((p) => Number.isFinite(p));
  return valid.length > 0 ? Math.max(...valid) : undefined;
}

/** Twilio's Pricing API, per destination country: SMS per segment (messaging) or calls per minute (voice). */
export async function twilioPrices(
  settings: ChannelSettings, kind: 'messaging' | 'voice', countries: readonly string[],
): Promise<{ currency: string; perUnit: Record<string, number> }> {
  const twilio = await connectTwilio(settings, { codes: {}, channelWide: [], thing: 'price list', sent: 'read' });
  const perUnit: Record<string, number> = {};
  let currency = 'USD';
  try {
    for (const country of countries) {
      const signal = AbortSignal.timeout(requestTimeoutMs);
      type Answer = { priceUnit?: string; outboundSmsPrices?: unknown; outboundPrefixPrices?: unknown };
      const answer = await twilio.run<Answer>({ signal }, (client) =>
        kind === 'messaging' ? client.pricing.v1.messaging.countries(country).fetch() : client.pricing.v1.voice.countries(country).fetch(),
      );
      const price = highestPrice((kind === 'messaging' ? answer.outboundSmsPrices : answer.outboundPrefixPrices) as PriceRow[] | undefined);
      if (price !== undefined) perUnit[country] = price;
      if (answer.priceUnit) currency = answer.priceUnit.toUpperCase();
    }
  } finally {
    await twilio.close();
  }
  return { currency, perUnit };
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}
