/**
 * A loopback Twilio Messages API: basic auth, E.164 validation, 201 with a message SID,
 * `num_segments` counted the way a carrier splits the message, and
 * `I-Twilio-Idempotency-Token` honoured the way a deduplicating provider would
 * (a repeated token returns the first message and sends nothing new).
 */
import { randomBytes } from 'node:crypto';
import { providerControls, startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';
import { pricingAnswer } from './twilio-pricing.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const twilioError = (status: number, code: number, message: string, headers?: Record<string, string>): Answer => ({
  status,
  json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  ...(headers && { headers }),
});

/** Twilio's answer to a scripted fault; `permanent` is the resource's own refusal (an invalid number). */
export function twilioFault(fault: Fault, permanent = twilioError(400, 21211, "The 'To' number is not a valid phone number.")): Answer {
  switch (fault.kind) {
    case 'rate-limit':
      return twilioError(429, 20429, 'Too Many Requests', { 'Retry-After': String(fault.retryAfterS ?? 1) });
    case 'server-error':
      return twilioError(fault.status ?? 500, 20500, 'An internal server error has occurred');
    case 'temporary':
      return twilioError(503, 20503, 'Service unavailable');
    case 'permanent':
      return permanent;
    case 'reset':
      return { reset: true };
    case 'hang':
      return { hang: true };
  }
}

/** `account`: the same credentials as another Twilio fake (voice), when both stand behind one TWILIO_API_URL. */
export async function startTwilioFake(
  account = { accountSid: `AC${hex(16)}`, authToken: hex(16) },
): Promise<ProviderFake & { http: HttpFake; accountSid: string } & TwilioInbound> {
  const { accountSid, authToken } = account;
  const messages: Received[] = [];
  const byToken = new Map<string, object>();
  const faultFor = new Map<string, Fault>();
  const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const isSend = (req: RecordedRequest) => req.method === 'POST' && req.path.endsWith('/Messages.json');
  const inbound = twilioInbound(accountSid);

  const handle = (req: RecordedRequest): Answer => {
    if (req.headers.authorization !== `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`) {
      return twilioError(401, 20003, 'Authenticate');
    }
    if (req.method === 'GET' && req.path === `/2010-04-01/Accounts/${accountSid}.json`) {
      return { status: 200, json: { sid: accountSid, friendly_name: 'Fake account', status: 'active', type: 'Full' } };
    }
    const price = pricingAnswer(req, http.url);
    if (price) return price;
    const listed = inbound.handle(req);
    if (listed) return listed;
    if (!isSend(req) || req.path !== messagesPath) return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
    return createMessage(req);
  };

  const createMessage = (req: RecordedRequest): Answer => {
    const { To: to = '', From: from, MessagingServiceSid: service, Body: body } = req.body;
    const token = req.headers['i-twilio-idempotency-token'] as string | undefined;
    const original = token === undefined ? undefined : byToken.get(token);
    if (original) return { status: 201, json: original };
    const fault = faultFor.get(to);
    if (fault) return twilioFault(fault);
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !service) return twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.");
    if (!body) return twilioError(400, 21602, 'Message body is required.');
    if ([...body].length > 1600) return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    const sid = `SM${hex(16)}`;
    const json = {
      sid, account_sid: accountSid, status: 'queued', direction: 'outbound-api', api_version: '2010-04-01',
      to, from: from ?? null, messaging_service_sid: service ?? null, body,
      num_segments: String(segmentsOf(body)), date_created: new Date().toUTCString(),
      uri: `${messagesPath.slice(0, -'.json'.length)}/${sid}.json`,
    };
    if (token !== undefined) byToken.set(token, json);
    inbound.store(json);
    messages.push({ to, text: body, ...(token !== undefined && { idempotencyKey: token }) });
    return { status: 201, json };
  };

  const http = await startHttpFake(handle, isSend);
  return Object.assign(providerControls(http, isSend, twilioFault, faultFor), {
    ...inbound.api,
    http,
    accountSid,
    env: {
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_URL: http.url,
    },
    messages,
  });
}

/**
 * GSM 03.38 (3GPP TS 23.038 §6.2.1), written out from the spec's table by code position
 * rather than taken from src/core/sms-encoding.ts, so the SMS tests do not compare the code
 * with itself. Row n holds positions 0xn0…0xnF; 0x1B is the escape to the extension table
 * and is not a character of its own.
 */
const GSM_BASIC_ROWS = [
  ['@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å'],
  ['Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', null, 'Æ', 'æ', 'ß', 'É'],
  [' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/'],
  ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?'],
  ['¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O'],
  ['P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§'],
  ['¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o'],
  ['p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à'],
];
/** The extension table: each is sent as ESC + its position, two septets. */
const GSM_EXTENSION: Record<number, string> = { 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' };
const septetsOf = new Map<string, number>([
  ...GSM_BASIC_ROWS.flat().filter((c): c is string => c !== null).map((c) => [c, 1] as const),
  ...Object.values(GSM_EXTENSION).map((c) => [c, 2] as const),
]);

/**
 * Segments as the carrier splits the message: one segment holds 160 septets (GSM-7) or 70
 * UTF-16 units (UCS-2); split, each holds 153 or 67 (the rest is the concatenation header).
 * A character is never cut in two: an escape pair or a surrogate pair that would straddle a
 * boundary starts the next segment.
 */
export function segmentsOf(body: string): number {
  const chars = [...body];
  const gsm = chars.every((c) => septetsOf.has(c));
  const sizes = chars.map((c) => (gsm ? septetsOf.get(c)! : c.length));
  const [single, perSegment] = gsm ? [160, 153] : [70, 67];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= single) return total === 0 ? 0 : 1;
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > perSegment) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}

// ───────────── inbound messages and status changes (roll calls), kept apart from sending ─────────────

/** What a test does to the fake's inbound side. */
export interface TwilioInbound {
  /** A person texts our number: `from` E.164, `to` our sender (TWILIO_FROM by default). */
  reply(from: string, body: string, options?: { to?: string; at?: Date }): string;
  /** The carrier reports a final status for the message sent to `to` (the last one). */
  setStatus(to: string, status: 'delivered' | 'undelivered' | 'failed', errorCode?: number): void;
  /** GET …/Messages.json requests seen (pages included). */
  listRequests(): number;
}

/**
 * GET /2010-04-01/Accounts/{Sid}/Messages.json as Twilio documents it: filters `To`, `From`,
 * `DateSent>` (a date: the time is ignored, as Twilio does), `PageSize`, and paging through
 * `next_page_uri` with `Page`/`PageToken`; newest first; dates in RFC 2822.
 */
function twilioInbound(accountSid: string) {
  const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const all: Record<string, unknown>[] = [];
  let lists = 0;
  const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');
  const store = (json: Record<string, unknown>) => all.push({ ...json, date_sent: json.date_created, error_code: null, error_message: null });
  const handle = (req: { method: string; path: string }): Answer | undefined => {
    const url = new URL(req.path, 'http://fake');
    if (req.method !== 'GET' || url.pathname !== messagesPath) return undefined;
    lists += 1;
    const q = url.searchParams;
    const after = q.get('DateSent>');
    const day = after ? after.slice(0, 10) : undefined;
    const rows = all
      .filter((m) => !q.get('To') || m.to === q.get('To'))
      .filter((m) => !q.get('From') || m.from === q.get('From'))
      .filter((m) => !day || new Date(String(m.date_sent)).toISOString().slice(0, 10) >= day)
      .slice().reverse();
    const size = Number(q.get('PageSize') ?? 50);
    const page = Number(q.get('Page') ?? 0);
    const slice = rows.slice(page * size, (page + 1) * size);
    const next = new URLSearchParams(q);
    next.set('Page', String(page + 1));
    next.set('PageToken', `PA${page + 1}`);
    return {
      status: 200,
      json: {
        messages: slice, page, page_size: size, uri: req.path, first_page_uri: req.path,
        next_page_uri: (page + 1) * size < rows.length ? `${messagesPath}?${next}` : null, previous_page_uri: null, start: page * size, end: page * size + slice.length - 1,
      },
    };
  };
  const api: TwilioInbound = {
    reply(from, body, options = {}) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const date = rfc2822(options.at ?? new Date());
      all.push({
        sid, account_sid: accountSid, status: 'received', direction: 'inbound', api_version: '2010-04-01', to: options.to ?? '+15005550006', from, body,
        num_segments: '1', date_created: date, date_sent: date, date_updated: date, error_code: null, error_message: null,
        messaging_service_sid: null, uri: `${messagesPath.slice(0, -5)}/${sid}.json`,
      });
      return sid;
    },
    setStatus(to, status, errorCode) {
      const m = all.filter((x) => x.to === to && x.direction !== 'inbound').at(-1);
      if (!m) throw new Error(`the fake sent nothing to ${to}`);
      Object.assign(m, { status, error_code: errorCode ?? null, date_updated: rfc2822(new Date()) });
    },
    listRequests: () => lists,
  };
  return { handle, store, api };
}
