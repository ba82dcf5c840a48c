/**
 * A loopback signal-cli-rest-api (bbernhard/signal-cli-rest-api, src/api/api.go): `POST
 * /v2/send` → 201 `{timestamp}` (or, after 0.99, a list of them with per-recipient
 * `errors`), refusals as 400 `{error: "<signal-cli's words>"}`, `GET /v1/about` and `GET
 * /v1/accounts`. The service has no authentication of its own; with `token` set, the fake
 * also plays the reverse proxy teams put in front of it (bearer token → 401 otherwise),
 * and that proxy is what sends a `Retry-After` on 429.
 */
import { randomBytes } from 'node:crypto';
import { providerControls, startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';

/** A number in a fictional range (ARCEP), registered in the fake service. */
export const FAKE_SIGNAL_NUMBER = '+33639980001';

const signalError = (status: number, error: string, headers?: Record<string, string>): Answer => ({ status, json: { error }, ...(headers && { headers }) });
const unregistered = (recipient: string) => signalError(400, `The user ${recipient} is not registered.\n`);

export function signalFault(fault: Fault, recipient = '+33639980000'): Answer {
  switch (fault.kind) {
    case 'rate-limit':
      return {
        status: 429,
        json: { error: "Failed to send message due to rate limiting. Use the attached challenge tokens to lift the rate limit restrictions via the '/v1/accounts/{number}/rate-limit-challenge' endpoint.", challenge_tokens: [], account: FAKE_SIGNAL_NUMBER },
        headers: { 'Retry-After': String(fault.retryAfterS ?? 1) },
      };
    case 'server-error':
      return signalError(fault.status ?? 500, 'Internal Server Error');
    case 'temporary':
      return signalError(503, 'Service Unavailable');
    case 'permanent':
      return unregistered(recipient);
    case 'reset':
      return { reset: true };
    case 'hang':
      return { hang: true };
  }
}

export interface SignalFakeOptions {
  /** Require `Authorization: Bearer <token>` (a proxy in front); default true. */
  token?: boolean;
  /** The 201 body: `object` as up to 0.99 (`{timestamp}`), `list` as later versions. */
  answer?: 'object' | 'list';
  /** How signal-cli runs: `json-rpc` receives over a websocket only, so GET /v1/receive is refused. */
  mode?: 'normal' | 'json-rpc';
}

export type SignalFake = ProviderFake & {
  http: HttpFake;
  /** Accounts registered or linked in the service (GET /v1/accounts). */
  accounts: string[];
  /** Recipients without a Signal account. */
  unregistered: Set<string>;
  /** Recipients whose safety number changed (signal-cli refuses until trusted). */
  untrusted: Set<string>;
  /** A person sends us a message (quoting one of ours by its send timestamp, if given): served once by /v1/receive. */
  reply(from: string, text: string, quote?: string): void;
};

export async function startSignalFake(options: SignalFakeOptions = {}): Promise<SignalFake> {
  const token = options.token === false ? undefined : `sig_${randomBytes(18).toString('base64url')}`;
  const accounts = [FAKE_SIGNAL_NUMBER];
  const unregisteredSet = new Set<string>();
  const untrusted = new Set<string>();
  const messages: Received[] = [];
  const faultFor = new Map<string, Fault>();
  let clock = Date.now();
  const inbox: object[] = [];
  const isSend = (req: RecordedRequest) => req.method === 'POST' && req.path === '/v2/send';

  const handle = (req: RecordedRequest): Answer => {
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) return { status: 401, json: { message: 'Unauthorized' } };
    if (req.method === 'GET' && req.path === '/v1/about') {
      return { status: 200, json: { versions: ['v1', 'v2'], build: 2, mode: options.mode ?? 'normal', version: '0.99', capabilities: { 'v2/send': ['quotes', 'mentions'] } } };
    }
    if (req.method === 'GET' && req.path.startsWith('/v1/receive/')) {
      if (options.mode === 'json-rpc') return signalError(400, 'Receive via REST is not possible in json-rpc mode. Please use the websocket endpoint.');
      return { status: 200, json: inbox.splice(0) }; // signal-cli hands each message over once
    }
    if (req.method === 'GET' && req.path === '/v1/accounts') return { status: 200, json: accounts };
    if (isSend(req)) return send(req);
    return { status: 404, json: '404 page not found' }; // gin's default
  };

  const send = (req: RecordedRequest): Answer => {
    let body: { number?: unknown; recipients?: unknown; message?: unknown; text_mode?: unknown };
    try {
      body = JSON.parse(req.raw) as typeof body;
    } catch {
      return signalError(400, "Couldn't process request - invalid request");
    }
    const recipients = Array.isArray(body.recipients) ? body.recipients.map(String) : [];
    if (recipients.length === 0) return signalError(400, "Couldn't process request - please provide at least one recipient");
    if (typeof body.number !== 'string' || body.number === '') return signalError(400, "Couldn't process request - please provide a valid number");
    if (!/^\+\d+$/.test(body.number)) return signalError(400, 'Invalid account (phone number), make sure you include the country code.');
    if (!accounts.includes(body.number)) return signalError(400, `User ${body.number} is not registered.\n`);
    const text = typeof body.message === 'string' ? body.message : '';
    for (const recipient of recipients) {
      const fault = faultFor.get(recipient);
      if (fault) return signalFault(fault, recipient);
      if (unregisteredSet.has(recipient)) return unregistered(recipient);
      if (untrusted.has(recipient)) return signalError(400, 'Failed to send message due to untrusted identities');
      // A number (+…), a username (name.42) or, as the service also accepts, a UUID.
      if (!/^\+\d{7,15}$|^[a-z_][a-z0-9_]{2,31}\.\d{2,9}$|^[0-9a-f-]{36}$/i.test(recipient)) return unregistered(recipient);
    }
    const timestamp = String((clock += 1000));
    for (const to of recipients) messages.push({ to, text });
    return { status: 201, json: options.answer === 'list' ? [{ timestamp }] : { timestamp } };
  };

  const http = await startHttpFake(handle, isSend);
  return Object.assign(providerControls(http, isSend, signalFault, faultFor), {
    http,
    accounts,
    unregistered: unregisteredSet,
    untrusted,
    env: { SIGNAL_API_URL: http.url, SIGNAL_NUMBER: FAKE_SIGNAL_NUMBER, ...(token && { SIGNAL_API_TOKEN: token }) },
    messages,
    reply(from: string, text: string, quote?: string) {
      const timestamp = (clock += 1000);
      inbox.push({
        envelope: {
          source: from, sourceNumber: from, sourceUuid: randomBytes(16).toString('hex'), sourceDevice: 1, timestamp,
          dataMessage: { timestamp, message: text, expiresInSeconds: 0, viewOnce: false, ...(quote && { quote: { id: Number(quote), author: FAKE_SIGNAL_NUMBER, text: '' } }) },
        },
        account: FAKE_SIGNAL_NUMBER,
      });
    },
  });
}
