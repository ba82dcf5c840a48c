/**
 * SMS through Twilio's Messages API. The SDK is loaded in `connect()` only.
 *
 * The Twilio SDK takes no per-request headers and no AbortSignal, so each send runs inside
 * an AsyncLocalStorage context that two interceptors on the SDK's own RequestClient read:
 * one adds `I-Twilio-Idempotency-Token` and the caller's signal to the outgoing request,
 * the other keeps the response headers, because RestException drops them (Retry-After).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent } from 'node:http';
import { unsetVariables, type Channel, type ChannelSettings, type EnvVar, type Transport } from '../core/channel.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import { phoneColumn } from '../core/phone.js';
import { smsLength } from '../core/sms-encoding.js';
import type { Problem } from '../core/types.js';

const maxBodyChars = 1600;
/** A backstop: the dispatcher's AbortSignal is the real time limit of a send. */
const requestTimeoutMs = 30_000;
const idempotencyHeader = 'I-Twilio-Idempotency-Token';

interface Verdict {
  permanent: boolean;
  reason: string;
  /** The request may have been carried out although it failed (a gateway timeout). */
  outcomeUnknown?: boolean;
}

/** Twilio error codes → retry or not, and why, in words a crisis lead can act on. */
const twilioCodes: Record<number, Verdict> = {
  20003: { permanent: true, reason: 'Twilio rejected the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN' },
  20404: { permanent: true, reason: 'Twilio does not know this account: check TWILIO_ACCOUNT_SID and TWILIO_API_URL' },
  20429: { permanent: false, reason: 'Twilio is limiting the sending rate (too many requests)' },
  21211: { permanent: true, reason: 'Twilio says the phone number is not valid: correct it in the contacts file' },
  21614: { permanent: true, reason: 'this number cannot receive SMS (probably a landline): give the contact a mobile number' },
  21610: { permanent: true, reason: 'the recipient opted out of SMS from this sender (replied STOP); they must text START to receive them again' },
  21408: { permanent: true, reason: "the Twilio account may not text this country: enable it in the Twilio console's Messaging geographic permissions" },
  21612: { permanent: true, reason: "Twilio cannot route an SMS from this sender to this number: use a sender or messaging service valid for the recipient's country" },
  21606: { permanent: true, reason: 'TWILIO_FROM is not an SMS-capable number of this Twilio account' },
  21608: { permanent: true, reason: 'a Twilio trial account can only text verified numbers: verify this number or upgrade the account' },
  21617: { permanent: true, reason: `the SMS is longer than Twilio's ${maxBodyChars} characters: shorten the template` },
};

/** Codes that mean no SMS can go out at all (credentials, account, sender). */
const CHANNEL_WIDE = new Set([20003, 20404, 21606]);

/** Socket errors (axios `code`) → [outcome unknown: the request may have left, what happened]. */
const networkCodes: Record<string, [boolean, string]> = {
  ECONNREFUSED: [false, 'refused the connection'],
  ENOTFOUND: [false, 'cannot be found (DNS)'],
  EAI_AGAIN: [false, 'cannot be found right now (DNS lookup failed)'],
  ECONNRESET: [true, 'closed the connection before answering'],
  EPIPE: [true, 'closed the connection while the request was being sent'],
  ETIMEDOUT: [true, 'did not answer in time'],
  ECONNABORTED: [true, `did not answer within ${requestTimeoutMs / 1000} s`],
};

interface Call {
  signal: AbortSignal;
  idempotencyToken?: string;
  responseHeaders?: Record<string, unknown>;
}

/** The Twilio account, shared by SMS and voice calls. */
export const TWILIO_ENV: readonly EnvVar[] = [
  { name: 'TWILIO_ACCOUNT_SID', description: 'Twilio account SID (AC…)' },
  { name: 'TWILIO_AUTH_TOKEN', secret: true, description: 'Twilio auth token' },
  { name: 'TWILIO_API_URL', url: { schemes: ['https', 'http'], example: 'https://api.twilio.com' }, description: 'Twilio REST API base URL (proxies)' },
];
const DEFAULT_API_URL = 'https://api.twilio.com';

export const sms: Channel = {
  name: 'sms',
  summary: 'SMS through Twilio',
  columns: [phoneColumn],
  byDefault: 'always',
  defaults: { concurrency: 4, perSecond: 1 }, // ~1 segment/s per long-code sender
  env: [
    ...TWILIO_ENV,
    { name: 'TWILIO_FROM', description: 'SMS sender: a Twilio number (E.164) or an alphanumeric sender id' },
    { name: 'TWILIO_MESSAGING_SERVICE_SID', description: 'SMS sender: a Twilio messaging service (MG…), instead of TWILIO_FROM' },
  ],
  measure: smsLength,
  unsuitable: (contact) =>
    contact.landline ? `${contact.name}'s phone ${contact.columns.phone} is a landline` : undefined,

  check(message, limits) {
    const problems: Problem[] = [];
    const { encoding, units, segments, nonGsmChar } = smsLength(message.text);
    if (segments > limits.maxSmsSegments) {
      const why = nonGsmChar === undefined
        ? 'shorten the text or raise --max-sms-segments'
        : `the character "${nonGsmChar}" forced UCS-2 (70 characters a segment instead of 160): replace it or shorten the text`;
      problems.push({ where: 'sms', group: 'limits', message: `This SMS takes ${segments} segments (${encoding}, ${units} ${encoding === 'GSM-7' ? 'characters' : 'UTF-16 units'}) but the limit is ${limits.maxSmsSegments}; ${why}.` });
    }
    const chars = [...message.text].length;
    if (chars > maxBodyChars) {
      problems.push({ where: 'sms', group: 'limits', message: `This SMS is ${chars} characters long but Twilio accepts at most ${maxBodyChars}; shorten the template.` });
    }
    return problems;
  },

  missingConfig: (settings) => [
    ...unsetVariables(settings, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']),
    ...(settings.env.TWILIO_FROM || settings.env.TWILIO_MESSAGING_SERVICE_SID ? [] : ['TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID']),
  ],

  async connect(settings: ChannelSettings): Promise<Transport> {
    const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_FROM: from, TWILIO_MESSAGING_SERVICE_SID: messagingServiceSid } = settings.env;
    const apiUrl = settings.env.TWILIO_API_URL ?? DEFAULT_API_URL;
    if (!accountSid?.startsWith('AC') || !authToken) {
      throw new PermanentError('TWILIO_ACCOUNT_SID must start with AC and TWILIO_AUTH_TOKEN must be set; copy both from the Twilio console.');
    }
    const { default: twilio } = await import('twilio');
    const calls = new AsyncLocalStorage<Call>();
    // autoRetry stays off: the dispatcher owns retries (the SDK's ignores Retry-After).
    const requestClient = new twilio.RequestClient({ timeout: requestTimeoutMs, autoRetry: false, keepAlive: true });
    const httpAgent = new HttpAgent({ keepAlive: true }); // ours, so close() can release it
    requestClient.axios.defaults.httpAgent = httpAgent;
    requestClient.axios.interceptors.request.use((request) => {
      const call = calls.getStore();
      if (call) request.signal = call.signal;
      if (call?.idempotencyToken) request.headers.set(idempotencyHeader, call.idempotencyToken);
      return request;
    });
    requestClient.axios.interceptors.response.use((response) => {
      const call = calls.getStore();
      if (call) call.responseHeaders = { ...response.headers };
      return response;
    });
    // edge/region '' so TWILIO_EDGE/TWILIO_REGION cannot rewrite the host; logLevel so
    // TWILIO_LOG_LEVEL=debug cannot print requests on stdout, which --json owns.
    const client = twilio(accountSid, authToken, { httpClient: requestClient, edge: '', region: '', logLevel: 'warn' });
    client.api.baseUrl = apiUrl;
    // The SDK rewrites two-label host names (proxy.corp → proxy.corp.proxy.corp) to add a
    // region; an explicit TWILIO_API_URL is meant literally.
    client.getHostname = (hostname) => hostname;

    const host = new URL(apiUrl).host;
    const fail = (err: unknown, call: Call) => toDeliveryError(err, call, host, [authToken, accountSid]);
    const run = async <T>(call: Call, request: () => Promise<T>): Promise<T> => {
      if (call.signal.aborted) throw new RetryableError('not sent: the time limit ran out before the request started', 'aborted');
      try {
        return await calls.run(call, request);
      } catch (err) {
        throw fail(err, call);
      }
    };

    return {
      async send(message, signal) {
        const sender = { ...(from && { from }), ...(messagingServiceSid && { messagingServiceSid }) };
        const sent = await run({ signal, idempotencyToken: message.deliveryId }, () =>
          client.messages.create({ to: message.to, body: message.text, ...sender }),
        );
        return { providerId: sent.sid, ...(sent.numSegments != null && { detail: `segments: ${sent.numSegments}` }) };
      },
      async verify(signal) {
        await run({ signal }, () => client.api.accounts(accountSid).fetch());
      },
      async close() {
        httpAgent.destroy();
        (requestClient.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
      },
    };
  },
};

function toDeliveryError(err: unknown, call: Call, host: string, secrets: string[]): DeliveryError {
  if (call.signal.aborted) {
    return new RetryableError('no answer from Twilio within the time limit; the message may or may not have been sent', 'timeout', undefined, true);
  }
  const { status, code, message } = err as { status?: unknown; code?: unknown; message?: unknown };
  if (typeof status === 'number') {
    // A RestException: Twilio (or a proxy) answered with an error status.
    const { permanent, reason, outcomeUnknown = false } = verdictFor(status, code, scrub(String(message ?? ''), secrets));
    const tag = `twilio-${String(code ?? status)}`;
    if (permanent) return new PermanentError(reason, tag, typeof code === 'number' ? CHANNEL_WIDE.has(code) : status === 401);
    return new RetryableError(reason, tag, retryAfterMs(call.responseHeaders?.['retry-after']), outcomeUnknown);
  }
  const network = typeof code === 'string' ? networkCodes[code] : undefined;
  if (network?.[0] === false) return new RetryableError(`could not reach Twilio: ${host} ${network[1]}; check TWILIO_API_URL and the network`, code as string);
  if (network) return new RetryableError(`Twilio (${host}) ${network[1]}; the message may or may not have been sent`, code as string, undefined, true);
  return new RetryableError(`unexpected error while talking to Twilio: ${scrub(String(message), secrets)}`, 'unexpected', undefined, true);
}

function verdictFor(status: number, code: unknown, message: string): Verdict {
  const known = typeof code === 'number' ? twilioCodes[code] : undefined;
  if (known) return known;
  if (status === 401) return twilioCodes[20003]!;
  if (status === 429) return twilioCodes[20429]!;
  if (status >= 500) return { permanent: false, reason: `Twilio had a server error (HTTP ${status})`, outcomeUnknown: status === 504 };
  return { permanent: true, reason: `Twilio refused the message (error ${String(code ?? status)}: ${message})` };
}

/** `Retry-After` is seconds or an HTTP date. */
function retryAfterMs(header: unknown): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}

/** Provider text can quote the request URL, and the URL holds the account SID. */
function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}
