/**
 * Signal through a self-hosted signal-cli-rest-api (bbernhard/signal-cli-rest-api, see
 * docs/signal.md): `POST /v2/send` with plain fetch, one recipient per request. Signal has
 * no bot API; the service drives signal-cli with a number the team registered or linked.
 *
 * Messages are plain text: no escaping, and `text_mode: normal` is sent explicitly so that
 * a server started with DEFAULT_SIGNAL_TEXT_MODE=styled cannot read `*`, `~` or `||` in a
 * value as formatting.
 */
import { unsetVariables, type AddressColumn, type Channel, type ChannelSettings, type Transport } from '../core/channel.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import { parsePhone, phoneColumn } from '../core/phone.js';
import type { Problem } from '../core/types.js';
import { HttpConnection } from './http-connection.js';
import { networkCodes } from './network-codes.js';

/**
 * signal-cli sends at most this many UTF-8 bytes as the message body (ServiceConfig
 * MAX_MESSAGE_SIZE_BYTES, as Signal's apps do); a longer text arrives cut there, with the
 * whole text as a "long text" attachment the reader must open. No hard limit is documented
 * above that, so the check keeps crisis messages whole in the notification.
 */
const maxBodyBytes = 2000;
/**
 * A backstop only: the dispatcher's AbortSignal is the real time limit of a send. The
 * service itself gives signal-cli 120 s (SIGNAL_CLI_CMD_TIMEOUT) before answering 400.
 */
const requestTimeoutMs = 130_000;

/** E.164, which is how signal-cli names its accounts. */
const E164 = /^\+[1-9]\d{6,14}$/;
/** A Signal username: a nickname of 3–32 letters, digits or `_` (not starting with a digit), a dot, 2–9 digits. */
const USERNAME = /^@?([a-z_][a-z0-9_]{2,31}\.(?!0+$)\d{2,9})$/i;

interface Rule {
  permanent: boolean;
  reason: string;
  /** Nobody can be reached with this sender: stop the channel. */
  channelWide?: boolean;
  /** The request may have been carried out although it failed. */
  outcomeUnknown?: boolean;
}

/**
 * The service's `{"error": "…"}` text (signal-cli's own words, or its JSON results) →
 * decision. First match wins; order matters: "The user X is not registered" is a
 * recipient, "User X is not registered" is our sender.
 */
const signalErrors: [pattern: RegExp, rule: Rule][] = [
  [/The user \S+ is not registered|Unregistered user|UNREGISTERED_FAILURE/, { permanent: true, reason: 'this number or username has no Signal account (or hides it from discovery): reach the contact another way or correct the signal column' }],
  [/Invalid account \(phone number\)/, { permanent: true, channelWide: true, reason: 'signal-cli-rest-api says SIGNAL_NUMBER is not a valid number: write it in international form, e.g. +33612345678' }],
  [/User \S+ is not registered|Specified account does not exist/, { permanent: true, channelWide: true, reason: 'SIGNAL_NUMBER is not registered or linked in signal-cli-rest-api: register or link it first (docs/signal.md)' }],
  [/CAPTCHA proof required|PROOF_REQUIRED|challenge token/i, { permanent: true, channelWide: true, reason: 'Signal requires a captcha from SIGNAL_NUMBER before it sends more (rate-limit challenge): solve it as docs/signal.md explains, then resume the run' }],
  [/[Uu]ntrusted (?:[Ii]dentit|recipient key)|IDENTITY_FAILURE/, { permanent: true, reason: "this contact's Signal safety number changed and signal-cli does not trust the new one yet: trust it on the service (docs/signal.md), then resume the run" }],
  [/rate limit|RATE_LIMIT_FAILURE/i, { permanent: false, reason: 'Signal is limiting the sending rate of SIGNAL_NUMBER' }],
  [/Network failure|NETWORK_FAILURE|network error/i, { permanent: false, reason: 'signal-cli could not reach the Signal servers (network failure)' }],
  [/process killed as timeout reached/, { permanent: false, outcomeUnknown: true, reason: 'signal-cli did not finish within its time limit on the service; the message may or may not have been sent' }],
  [/^Failed to send message\W*$/, { permanent: true, reason: 'signal-cli could not send this message, most often because the recipient has no Signal account; the service log says why' }],
  [/INVALID_PRE_KEY_FAILURE|No prekeys available/, { permanent: false, reason: "Signal could not set up an encrypted session with this contact's device for now" }],
];


/** The `signal` column: a phone number written any common way (→ E.164) or a Signal username (alice.42). */
export const signalColumn: AddressColumn = {
  name: 'signal',
  example: 'sample_contact.01',
  parse(raw, { defaultRegion }) {
    if (/[a-z_]/i.test(raw)) {
      const username = USERNAME.exec(raw.trim())?.[1];
      return username ? { value: username.toLowerCase() } : `signal "${raw}" is neither a phone number nor a Signal username like alice.42; correct it or leave the cell empty to use the phone column.`;
    }
    const phone = parsePhone(raw, defaultRegion);
    // Signal accounts can live on landlines (voice verification): no landline flag here.
    return phone ? { value: phone.e164 } : `signal "${raw}" is not a valid number for region ${defaultRegion}; write it in international form like +33 6 12 34 56 78.`;
  },
};

export const signal: Channel = {
  name: 'signal',
  summary: 'Signal through a self-hosted signal-cli-rest-api',
  columns: [signalColumn, phoneColumn],
  byDefault: 'when-configured',
  // signal-cli serialises the work of one account anyway (normal mode starts one process per
  // request and locks the account's files), and Signal answers a burst to many new
  // conversations with a captcha challenge that stops the whole channel: go gently.
  defaults: { concurrency: 1, perSecond: 1 },
  env: [
    { name: 'SIGNAL_API_URL', url: { schemes: ['https', 'http'], example: 'http://signal-api.internal:8080' }, description: 'signal-cli-rest-api base URL (keep the service on a private network)' },
    { name: 'SIGNAL_NUMBER', description: 'Signal sender: the number registered or linked in the service, in E.164 (+33…)' },
    { name: 'SIGNAL_API_TOKEN', secret: true, description: 'optional bearer token, when a reverse proxy guards the service' },
  ],
  missingConfig: (settings) => unsetVariables(settings, ['SIGNAL_API_URL', 'SIGNAL_NUMBER']),

  check(message) {
    const bytes = Buffer.byteLength(message.text, 'utf8');
    const problems: Problem[] = [];
    if (bytes > maxBodyBytes) {
      problems.push({ where: 'signal', group: 'limits', message: `This Signal message is ${bytes} bytes long (UTF-8) but Signal shows at most ${maxBodyBytes} in the message itself (the rest becomes an attachment to open); shorten the template.` });
    }
    return problems;
  },

  async connect(settings: ChannelSettings): Promise<Transport> {
    const { SIGNAL_API_URL: apiUrl, SIGNAL_API_TOKEN: token } = settings.env;
    const number = settings.env.SIGNAL_NUMBER?.replace(/[\s().-]/g, '');
    if (!apiUrl || !number) throw new PermanentError('Signal is not configured: set SIGNAL_API_URL and SIGNAL_NUMBER (docs/signal.md).', 'config', true);
    if (!E164.test(number)) {
      throw new PermanentError('SIGNAL_NUMBER must be the registered sender number in international form, e.g. +33612345678.', 'config', true);
    }
    const base = apiUrl.replace(/\/+$/, '');
    const host = new URL(base).host;
    const headers: Record<string, string> = { accept: 'application/json', ...(token && { authorization: `Bearer ${token}` }) };
    const secrets = token ? [token] : [];

    const http = await HttpConnection.open();
    /** One request; the answer's status and JSON (or text), or a DeliveryError for what went wrong on the way. */
    const request = async (path: string, signal: AbortSignal, sending: boolean, body?: object) => {
      if (signal.aborted) throw new RetryableError('not sent: the time limit ran out before the request started', 'aborted');
      const maybeSent = sending ? '; the message may or may not have been sent' : '';
      try {
        const res = await http.fetch(`${base}${path}`, {
          method: body ? 'POST' : 'GET',
          headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
          ...(body && { body: JSON.stringify(body) }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]),
        });
        const text = await res.text();
        return { status: res.status, retryAfter: res.headers.get('retry-after'), json: parseJson(text) };
      } catch (err) {
        if (signal.aborted) throw new RetryableError(`no answer from signal-cli-rest-api within the time limit${maybeSent}`, 'timeout', undefined, sending);
        if ((err as { name?: string }).name === 'TimeoutError') {
          throw new RetryableError(`signal-cli-rest-api (${host}) did not answer within ${requestTimeoutMs / 1000} s${maybeSent}`, 'timeout', undefined, sending);
        }
        const code = (err as { cause?: { code?: string } }).cause?.code ?? '';
        const known = networkCodes[code];
        if (known?.[0] === false || !sending) {
          throw new RetryableError(`could not reach signal-cli-rest-api: ${host} ${known?.[1] ?? `failed (${code || 'network error'})`}; check SIGNAL_API_URL and the network`, code || 'network');
        }
        throw new RetryableError(`signal-cli-rest-api (${host}) ${known?.[1] ?? 'failed before answering'}${maybeSent}`, code || 'network', undefined, true);
      }
    };

    return {
      async send(message, signal) {
        const answer = await request('/v2/send', signal, true, { number, recipients: [message.to], message: message.text, text_mode: 'normal' });
        if (answer.status !== 200 && answer.status !== 201) throw httpError(answer, host, Boolean(token), secrets, true);
        // Up to 0.99 the answer is {"timestamp": "…"}; later versions answer a list, one entry
        // per kind of recipient, with the recipients it could not reach under `errors`.
        const results = (Array.isArray(answer.json) ? answer.json : [answer.json]) as SendResult[];
        const failed = results.flatMap((r) => r?.errors?.recipients ?? [])[0];
        // Its reason is one of signal-cli's result types (UNREGISTERED_FAILURE…), which the table reads.
        if (failed) throw byText(failed.reason ?? 'Failed to send message', secrets, undefined);
        const timestamp = results.find((r) => r?.timestamp !== undefined)?.timestamp;
        if (timestamp === undefined) {
          throw new RetryableError(`${host} accepted the request but its answer is not signal-cli-rest-api's (a proxy in between?); the message may or may not have been sent`, 'not-signal', undefined, true);
        }
        return { providerId: String(timestamp) };
      },

      async verify(signal) {
        const about = await request('/v1/about', signal, false);
        if (about.status !== 200) throw httpError(about, host, Boolean(token), secrets, false);
        if (!Array.isArray((about.json as { versions?: unknown } | undefined)?.versions)) {
          throw new PermanentError(`${host} answered /v1/about but not as signal-cli-rest-api does: check SIGNAL_API_URL.`, 'not-signal', true);
        }
        const accounts = await request('/v1/accounts', signal, false);
        if (accounts.status !== 200) throw httpError(accounts, host, Boolean(token), secrets, false);
        if (!Array.isArray(accounts.json) || !accounts.json.includes(number)) {
          throw new PermanentError(`SIGNAL_NUMBER is not registered or linked in the signal-cli-rest-api at ${host}: register or link it (docs/signal.md), or correct SIGNAL_NUMBER.`, 'not-registered', true);
        }
      },

      /**
       * Roll-call replies: `GET /v1/receive/{number}` (normal and native modes) hands over what
       * signal-cli received since the last call and then forgets it, so the caller records the
       * replies before polling again. A reply quoting one of our messages names it by the
       * send's timestamp, our provider id. No receipts: the API gives none for sends.
       */
      async poll(pollRequest, signal) {
        const answer = await request(`/v1/receive/${encodeURIComponent(number)}`, signal, false);
        if (answer.status !== 200) {
          const problem = answer.status === 400 && /websocket|json-rpc/i.test(JSON.stringify(answer.json))
            ? 'signal-cli-rest-api runs in json-rpc mode, where replies come over a websocket that notify does not read; run it in normal or native mode to collect roll-call replies on Signal'
            : undefined;
          if (problem) return { replies: [], receipts: [], problem };
          throw httpError(answer, host, Boolean(token), secrets, false);
        }
        const bySendTime = new Map(pollRequest.sent.map((m) => [m.providerId, m.deliveryId]));
        const replies = ((Array.isArray(answer.json) ? answer.json : []) as Received[]).flatMap(({ envelope }) => {
          const text = envelope?.dataMessage?.message;
          const from = envelope?.sourceNumber ?? envelope?.source;
          if (!text || !from || !envelope.timestamp || envelope.timestamp < pollRequest.since.getTime()) return [];
          const quoted = envelope.dataMessage?.quote?.id;
          const deliveryId = quoted === undefined ? undefined : bySendTime.get(String(quoted));
          return [{ providerId: `${from}:${envelope.timestamp}`, from, text, at: new Date(envelope.timestamp).toISOString(), ...(deliveryId && { deliveryId }) }];
        });
        return { replies, receipts: [] };
      },

      async close() {
        http.close();
      },
    };
  },
};

/** One message signal-cli received, as /v1/receive lists it. */
interface Received {
  envelope?: {
    source?: string;
    sourceNumber?: string;
    timestamp?: number;
    dataMessage?: { message?: string | null; quote?: { id?: number } };
  };
}

interface SendResult {
  timestamp?: string | number;
  errors?: { recipients?: { number?: string; username?: string; reason?: string }[] };
}

interface Answer {
  status: number;
  retryAfter: string | null;
  json: unknown;
}

function httpError(answer: Answer, host: string, hasToken: boolean, secrets: string[], sending: boolean): DeliveryError {
  const { status } = answer;
  const said = (answer.json as { error?: unknown } | undefined)?.error;
  const text = typeof said === 'string' ? said : '';
  const tag = `signal-${status}`;
  if (status === 401 || status === 403) {
    const fix = hasToken ? 'check SIGNAL_API_TOKEN' : 'set SIGNAL_API_TOKEN to the token the proxy in front of the service expects';
    return new PermanentError(`${host} refused the request (HTTP ${status}): ${fix}.`, tag, true);
  }
  if (status === 404 && !text) {
    return new PermanentError(`${host} has no signal-cli-rest-api endpoint here (HTTP 404): check SIGNAL_API_URL (the service's base URL, without /v2/send).`, tag, true);
  }
  if (status === 429) {
    const challenge = ((answer.json as { challenge_tokens?: unknown } | undefined)?.challenge_tokens as unknown[] | undefined)?.some(Boolean);
    if (challenge) return byText('CAPTCHA proof required', secrets, undefined);
    return new RetryableError('Signal is limiting the sending rate of SIGNAL_NUMBER (too many requests)', tag, retryAfterMs(answer.retryAfter) ?? retryAfterInText(text));
  }
  if (status >= 500) {
    return new RetryableError(`signal-cli-rest-api (${host}) had a server error (HTTP ${status})${sending && status === 504 ? '; the message may or may not have been sent' : ''}`, tag, retryAfterMs(answer.retryAfter), sending && status === 504);
  }
  if (!text) return new PermanentError(`${host} answered HTTP ${status}, not as signal-cli-rest-api does: check SIGNAL_API_URL.`, tag, status === 404);
  return byText(text, secrets, retryAfterMs(answer.retryAfter));
}

/** signal-cli's words → decision; unknown refusals are permanent and quoted. */
function byText(text: string, secrets: string[], retryAfter: number | undefined): DeliveryError {
  const words = scrub(text.replace(/\s+/g, ' ').trim(), secrets);
  const match = signalErrors.find(([pattern]) => pattern.test(text));
  if (!match) return new PermanentError(`signal-cli-rest-api refused the message (signal-cli: "${words.slice(0, 300)}")`, 'signal-refused');
  const [, rule] = match;
  const tag = `signal-${rule.permanent ? 'refused' : 'failed'}`;
  if (rule.permanent) return new PermanentError(rule.reason, tag, rule.channelWide);
  return new RetryableError(rule.reason, tag, retryAfter ?? retryAfterInText(text), rule.outcomeUnknown);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `Retry-After` (from a proxy in front: the service itself sends none) is seconds or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}

/** signal-cli: `Rate limit failure for "+33…", retry after 30 seconds`. */
function retryAfterInText(text: string): number | undefined {
  const seconds = /retry after (\d+) seconds/i.exec(text)?.[1];
  return seconds === undefined ? undefined : Number(seconds) * 1000;
}

/** A proxy's error text could quote the Authorization header. */
function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}
