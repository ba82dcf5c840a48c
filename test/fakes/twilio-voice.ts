/**
 * A loopback Twilio Programmable Voice API: `POST …/Calls.json` (form `To`, `From`, `Twiml` or
 * `Url`; 201 with a `CA…` sid and `status: queued`), `GET …/Calls/{CallSid}.json` whose status
 * moves on at each read along a progression scripted per number (answered, no-answer, busy…),
 * the account fetch that `verify()` uses, and Twilio's error bodies `{code, message, more_info,
 * status}`. The inline TwiML is parsed as strictly as XML is, so a test proves escaping by
 * reading back the verbs the call would run.
 */
import { randomBytes } from 'node:crypto';
import { twilioError, twilioFault } from './twilio.js';
import { providerControls, startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';

const maxTwimlChars = 4000;
const CALLER_ID = '+15005550006';

export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
const FINAL = new Set<CallStatus>(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

/** One verb of the TwiML a call would run: `Say` with its text, `Pause`, or anything else (a `Dial` that got in). */
export interface Verb {
  verb: string;
  attributes: Record<string, string>;
  text: string;
}

export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  twiml: string;
  verbs: Verb[];
  status: CallStatus;
  /** Statuses still to come, one per status read; the last one stays. */
  script: CallStatus[];
  /** Status reads so far. */
  polls: number;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** A refused call is Twilio's 13224; every other fault as the Messages API answers it. */
export const voiceFault = (fault: Fault): Answer =>
  twilioFault(fault, twilioError(400, 13224, 'Dial: Twilio does not support calling this number or the number is invalid'));

export type TwilioVoiceFake = ProviderFake & {
  http: HttpFake;
  accountSid: string;
  /** Every call placed, in order (idempotent repeats excluded). */
  calls: FakeCall[];
  /** How calls to `number` go: the statuses its status reads return, one per read (default: answered at once). */
  script(number: string, ...statuses: CallStatus[]): void;
};

/** `account`: the same credentials as the SMS fake, when both stand behind one TWILIO_API_URL. */
export async function startTwilioVoiceFake(account = { accountSid: `AC${hex(16)}`, authToken: hex(16) }): Promise<TwilioVoiceFake> {
  const { accountSid, authToken } = account;
  const messages: Received[] = [];
  const calls: FakeCall[] = [];
  const bySid = new Map<string, FakeCall>();
  const byToken = new Map<string, FakeCall>();
  const faultFor = new Map<string, Fault>();
  const scripts = new Map<string, CallStatus[]>();
  const callsPath = `/2010-04-01/Accounts/${accountSid}/Calls`;
  const isSend = (req: RecordedRequest) => req.method === 'POST' && req.path.endsWith('/Calls.json');

  const handle = (req: RecordedRequest): Answer => {
    if (req.headers.authorization !== `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`) {
      return twilioError(401, 20003, 'Authenticate');
    }
    if (req.method === 'GET' && req.path === `/2010-04-01/Accounts/${accountSid}.json`) {
      return { status: 200, json: { sid: accountSid, friendly_name: 'Fake account', status: 'active', type: 'Full' } };
    }
    if (req.method === 'POST' && req.path === `${callsPath}.json`) return createCall(req);
    const fetch = req.method === 'GET' ? new RegExp(`^${callsPath}/(CA[0-9a-f]{32})\\.json$`).exec(req.path) : null;
    const call = fetch ? bySid.get(fetch[1]!) : undefined;
    if (call) return { status: 200, json: readStatus(call) };
    return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
  };

  const createCall = (req: RecordedRequest): Answer => {
    const { To: to = '', From: from = '', Twiml: twiml, Url: url } = req.body;
    const token = req.headers['i-twilio-idempotency-token'] as string | undefined;
    const original = token === undefined ? undefined : byToken.get(token);
    if (original) return { status: 201, json: resource(original) };
    const fault = faultFor.get(to);
    if (fault) return voiceFault(fault);
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from) return twilioError(400, 21213, "A 'From' phone number is required.");
    if (from !== CALLER_ID) return twilioError(400, 21210, `The source phone number provided, ${from}, is not yet verified for your account.`);
    if (twiml === undefined && url === undefined) return twilioError(400, 21205, 'Url parameter is required.');
    if (twiml === undefined) return twilioError(400, 21205, 'This fake only runs inline Twiml.');
    if (twiml.length > maxTwimlChars) return twilioError(400, 32018, `Twiml size exceeded maximum allowed value of ${maxTwimlChars} characters`);
    const verbs = parseTwiml(twiml);
    if ('error' in verbs) return twilioError(400, 12100, `Document parse failure: ${verbs.error}`);
    const sid = `CA${hex(16)}`;
    const call: FakeCall = { sid, to, from, twiml, verbs, status: 'queued', script: [...(scripts.get(to) ?? ['completed'])], polls: 0 };
    calls.push(call);
    bySid.set(sid, call);
    if (token !== undefined) byToken.set(token, call);
    const said = verbs.find((v) => v.verb === 'Say')?.text ?? '';
    messages.push({ to, text: said, ...(token !== undefined && { idempotencyKey: token }) });
    return { status: 201, json: resource(call) };
  };

  const readStatus = (call: FakeCall) => {
    call.polls += 1;
    if (!FINAL.has(call.status)) call.status = call.script.length > 1 ? call.script.shift()! : call.script[0]!;
    return resource(call);
  };

  const resource = (call: FakeCall) => ({
    sid: call.sid, account_sid: accountSid, to: call.to, from: call.from, status: call.status,
    direction: 'outbound-api', api_version: '2010-04-01', answered_by: null,
    duration: call.status === 'completed' ? '42' : call.status === 'in-progress' || !FINAL.has(call.status) ? null : '0',
    date_created: new Date().toUTCString(), uri: `${callsPath}/${call.sid}.json`,
  });

  const http = await startHttpFake(handle, isSend);
  return Object.assign(providerControls(http, isSend, voiceFault, faultFor), {
    http,
    accountSid,
    calls,
    env: {
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_VOICE_FROM: CALLER_ID,
      TWILIO_API_URL: http.url,
    },
    messages,
    script: (number: string, ...statuses: CallStatus[]) => void scripts.set(number, statuses),
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * TwiML as an XML parser reads it: a `<Response>` root and its verbs, each with its attributes
 * and decoded text. A bare `<` or `&`, an unknown entity or unbalanced tags are parse failures,
 * as Twilio's are (12100).
 */
export function parseTwiml(xml: string): Verb[] | { error: string } {
  const body = xml.replace(/^<\?xml[^?]*\?>/, '');
  const root = /^<Response>([\s\S]*)<\/Response>$/.exec(body.trim());
  if (!root) return { error: 'the document is not one <Response> element' };
  const verbs: Verb[] = [];
  const tokens = /<([A-Za-z]+)((?:\s+[A-Za-z]+="[^"<]*")*)\s*(\/?)>|<\/([A-Za-z]+)>|([^<]+)|(<)/g;
  let open: Verb | undefined;
  for (const [, name, attrs = '', selfClosing, closing, text, bare] of root[1]!.matchAll(tokens)) {
    if (bare) return { error: 'a bare "<"' };
    if (text !== undefined) {
      const decoded = decode(text);
      if (decoded === undefined) return { error: `a bare "&" or unknown entity in "${text.slice(0, 30)}"` };
      if (open) open.text += decoded;
      else if (decoded.trim()) return { error: 'text outside a verb' };
    } else if (closing) {
      if (open?.verb !== closing) return { error: `unmatched </${closing}>` };
      open = undefined;
    } else {
      if (open) return { error: `<${name}> inside <${open.verb}>` };
      const attributes = Object.fromEntries([...attrs.matchAll(/([A-Za-z]+)="([^"]*)"/g)].map(([, k, v]) => [k!, decode(v!) ?? v!]));
      const verb: Verb = { verb: name!, attributes, text: '' };
      verbs.push(verb);
      if (!selfClosing) open = verb;
    }
  }
  if (open) return { error: `<${open.verb}> is not closed` };
  return verbs;
}

function decode(text: string): string | undefined {
  let ok = true;
  const decoded = text.replace(/&(?:([a-z]+)|#(\d+)|#x([0-9a-fA-F]+));|&/g, (whole, name?: string, dec?: string, hexCode?: string) => {
    if (name && ENTITIES[name]) return ENTITIES[name];
    if (dec) return String.fromCodePoint(Number(dec));
    if (hexCode) return String.fromCodePoint(parseInt(hexCode, 16));
    ok = false;
    return whole;
  });
  return ok ? decoded : undefined;
}
