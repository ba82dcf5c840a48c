/**
 * Voice calls through Twilio Programmable Voice: `calls.create` with inline TwiML that says
 * the message twice, in the recipient's language. Templates are plain text; the whole text
 * is XML-escaped into `<Say>`, so neither a template nor a value can add TwiML (a `<Dial>`).
 *
 * A call's outcome is known only later, so `send()` places the call and then reads its
 * status until it is final: "delivered" means answered (`completed`); no answer, busy,
 * failed or canceled are permanent failures of this delivery, so `--strategy first` moves
 * on to the person's next channel. The client is shared with SMS (twilio-client.ts).
 */
import type { CallInstance } from 'twilio/lib/rest/api/v2010/account/call.js';
import { unsetVariables, type Channel, type ChannelSettings, type Transport } from '../core/channel.js';
import { PermanentError, RetryableError } from '../core/delivery-errors.js';
import { phoneColumn } from '../core/phone.js';
import type { Problem, Receipt, Rendered } from '../core/types.js';
import { connectTwilio, twilioPrices, TWILIO_ENV, type TwilioConnection, type TwilioErrors, type Verdict } from './twilio-client.js';
import { sleep } from '../core/sleep.js';

/** Twilio refuses inline TwiML longer than this (error 32018); the message is said twice. */
const maxTwimlChars = 4000;
/** How long the phone rings before Twilio gives up (`Timeout`): long enough to reach a phone in another room. */
const ringTimeoutS = 30;
/** Longest call Twilio keeps up (`TimeLimit`): a stuck call cannot run up the bill. */
const callTimeLimitS = 240;
/** One attempt = queueing + ringing + the call itself + reading its status; the dispatcher's default 20 s is far too short. */
const attemptTimeoutMs = (ringTimeoutS + callTimeLimitS + 30) * 1000;
/** Silence before the message, so it does not start while the person says "hello?". */
const leadInPauseS = 1;
/** Silence between the message and its repetition. */
const repeatPauseS = 2;
/** Call status reads: at once (a refused number fails within the second), then backing off to every 2 s. */
const pollDelaysMs = [0, 500, 1000, 2000];
/** Status reads that may fail in a row (a 5xx, a reset) before the outcome is declared unknown. */
const maxPollFailures = 3;

/** Languages a call can be spoken in: Twilio `<Say>` voices (Amazon Polly) per contact locale. */
const VOICES: Record<string, { language: string; voice: string }> = {
  fr: { language: 'fr-FR', voice: 'Polly.Lea' },
  en: { language: 'en-GB', voice: 'Polly.Amy' },
  de: { language: 'de-DE', voice: 'Polly.Vicki' },
  es: { language: 'es-ES', voice: 'Polly.Lucia' },
  it: { language: 'it-IT', voice: 'Polly.Bianca' },
  nl: { language: 'nl-NL', voice: 'Polly.Lotte' },
  pt: { language: 'pt-PT', voice: 'Polly.Ines' },
};
/** A message planned before locales were recorded (an old journal resumed). */
const FALLBACK_LOCALE = 'en';

/** Final call statuses that are not an answer → why, in words a crisis lead can act on. */
const UNANSWERED: Record<string, string> = {
  'no-answer': `no answer: the phone rang for ${ringTimeoutS} s and nobody picked up`,
  busy: 'the line was busy',
  failed: 'the call could not be connected (the number may not exist or the carrier refused it)',
  canceled: 'the call was canceled before it was answered',
};
const STILL_GOING = new Set(['queued', 'initiated', 'ringing', 'in-progress']);

/** Twilio error codes for calls → retry or not, and why (account codes: twilio-client.ts). */
const twilioCodes: Record<number, Verdict> = {
  21210: { permanent: true, reason: 'TWILIO_VOICE_FROM (or TWILIO_FROM) is not a voice-capable number of this Twilio account, nor a verified caller id' },
  21212: { permanent: true, reason: 'TWILIO_VOICE_FROM (or TWILIO_FROM) is not a valid phone number: write it in E.164, like +33612345678' },
  21211: { permanent: true, reason: 'Twilio says the phone number is not valid: correct it in the contacts file' },
  21217: { permanent: true, reason: 'Twilio says the phone number is not valid: correct it in the contacts file' },
  13224: { permanent: true, reason: 'Twilio cannot call this number (invalid or unsupported): correct it in the contacts file' },
  21215: { permanent: true, reason: "the Twilio account may not call this country: enable it in the Twilio console's Voice geographic permissions" },
  21219: { permanent: true, reason: 'a Twilio trial account can only call verified numbers: verify this number or upgrade the account' },
  32018: { permanent: true, reason: `the call's TwiML is longer than Twilio's ${maxTwimlChars} characters: shorten the voice template` },
};

/** Nobody can be called (besides the account codes): the caller id is refused. */
const VOICE_ERRORS: TwilioErrors = { codes: twilioCodes, channelWide: [21210, 21212], thing: 'call', sent: 'placed' };

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/**
 * Text in TwiML (XML 1.0). Control characters other than tab and newlines are not allowed in
 * XML at all, so they are dropped rather than escaped:
 *
 * | & → &amp; | < → &lt; | > → &gt; | " → &quot; | ' → &apos; | U+0000–U+001F (not \t \n \r) → removed |
 */
// eslint-disable-next-line no-control-regex
/** About 150 words a minute of speech; the message is said twice, after the pauses. Twilio bills whole minutes. */
const wordsPerMinute = 150;
export function callMinutes(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  const seconds = leadInPauseS + repeatPauseS + (2 * words * 60) / wordsPerMinute;
  return Math.max(1, Math.ceil(seconds / 60));
}

export const escapeXml = (text: string) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replace(/[&<>"']/g, (c) => XML[c]!);

/** The call's TwiML: a pause, the message, a pause, the message again — in the recipient's language. */
export function toTwiml(text: string, locale = FALLBACK_LOCALE): string {
  const { language, voice } = VOICES[locale] ?? VOICES[FALLBACK_LOCALE]!;
  const say = `<Say voice="${voice}" language="${language}">${escapeXml(text)}</Say>`;
  return `<Response><Pause length="${leadInPauseS}"/>${say}<Pause length="${repeatPauseS}"/>${say}</Response>`;
}

export const voice: Channel = {
  name: 'voice',
  summary: 'voice calls through Twilio (the message is spoken, twice)',
  columns: [phoneColumn], // any line type: calls are how landlines are reached
  byDefault: 'strategy-first',
  // 1 call/s is Twilio's default per account. A call lasts about a minute, so it is the
  // number of calls in progress, not the rate, that bounds how many people a minute hear it.
  defaults: { perSecond: 1, concurrency: 30, attemptTimeoutMs, typicalSendMs: 60_000, connectMs: 200 }, // a call rings, then speaks twice
  billing: { unit: 'minute', units: (message) => callMinutes(message.text) },
  livePrices: (settings, countries) => twilioPrices(settings, 'voice', countries),
  env: [
    ...TWILIO_ENV,
    { name: 'TWILIO_VOICE_FROM', description: 'caller id for voice calls: a voice-capable Twilio number (E.164); defaults to TWILIO_FROM' },
    { name: 'TWILIO_FROM', description: 'SMS sender, also the caller id of voice calls when TWILIO_VOICE_FROM is not set' },
  ],

  check(message: Rendered): Problem[] {
    const problems: Problem[] = [];
    const locale = message.locale ?? FALLBACK_LOCALE;
    if (!VOICES[locale]) {
      problems.push({ where: 'voice', group: 'limits', message: `There is no voice for locale "${locale}" (voices: ${Object.keys(VOICES).join(', ')}); give the contact one of those locales or leave voice out with --channels.` });
    }
    const chars = toTwiml(message.text, locale).length;
    if (chars > maxTwimlChars) {
      problems.push({ where: 'voice', group: 'limits', message: `This call's TwiML is ${chars} characters long (the message is said twice, escaped) but Twilio accepts at most ${maxTwimlChars}; shorten the voice template.` });
    }
    return problems;
  },

  missingConfig: (settings) => [
    ...unsetVariables(settings, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']),
    ...(settings.env.TWILIO_VOICE_FROM || settings.env.TWILIO_FROM ? [] : ['TWILIO_VOICE_FROM or TWILIO_FROM']),
  ],

  async connect(settings: ChannelSettings): Promise<Transport> {
    const from = settings.env.TWILIO_VOICE_FROM ?? settings.env.TWILIO_FROM;
    if (!from) throw new PermanentError('TWILIO_VOICE_FROM (or TWILIO_FROM) is not set; set it to a voice-capable Twilio number, like +33612345678.', undefined, true);
    const twilio = await connectTwilio(settings, VOICE_ERRORS);
    return {
      async send(message, signal) {
        const call = await twilio.run({ signal, idempotencyToken: message.deliveryId }, (client) =>
          client.calls.create({ to: message.to, from, twiml: toTwiml(message.text, message.locale), timeout: ringTimeoutS, timeLimit: callTimeLimitS }),
        );
        return outcome(await finalStatus(twilio, call, signal));
      },
      async verify(signal) {
        await twilio.run({ signal }, (client) => client.api.accounts(twilio.accountSid).fetch());
      },
      /**
       * Calls have no replies: their outcome is the answer/no-answer a send already waited
       * for. Only calls whose outcome was not read (the time limit ran out) are asked again.
       */
      async poll(request, signal) {
        const receipts = [];
        for (const sent of request.sent.filter((m) => !m.settled && m.providerId.startsWith('CA'))) {
          const call = await twilio.run({ signal }, (client) => client.calls(sent.providerId).fetch());
          if (call.status === 'completed') receipts.push({ deliveryId: sent.deliveryId, status: 'delivered' as const, reason: 'answered' });
          else if (!STILL_GOING.has(call.status)) receipts.push({ deliveryId: sent.deliveryId, status: 'failed' as const, code: `call-${call.status}`, reason: UNANSWERED[call.status] ?? call.status });
        }
        return { replies: [], receipts };
      },
      close: () => twilio.close(),
    };
  },
};

/** Read the call's status until it is final. Past this point the call exists: a failure here leaves its outcome unknown. */
async function finalStatus(twilio: TwilioConnection, call: CallInstance, signal: AbortSignal): Promise<CallInstance> {
  let failures = 0;
  for (let poll = 0; ; poll += 1) {
    await sleep(pollDelaysMs[Math.min(poll, pollDelaysMs.length - 1)]!, signal);
    if (signal.aborted) {
      throw new RetryableError(`the call ${call.sid} was placed but had not ended within the time limit; it may have been answered`, 'call-timeout', undefined, true);
    }
    try {
      call = await twilio.run({ signal }, (client) => client.calls(call.sid).fetch());
      failures = 0;
    } catch (err) {
      failures += 1;
      if (signal.aborted) continue; // said above, on the next turn
      if (failures >= maxPollFailures) {
        throw new RetryableError(`the call ${call.sid} was placed but its outcome could not be read (${(err as Error).message})`, 'call-status', undefined, true);
      }
      continue;
    }
    if (!STILL_GOING.has(call.status)) return call;
  }
}

function outcome(call: CallInstance): Receipt {
  if (call.status === 'completed') return { providerId: call.sid, detail: `answered; the call lasted ${call.duration ?? '?'} s` };
  throw new PermanentError(UNANSWERED[call.status] ?? `the call ended with status "${call.status}"`, `call-${call.status}`);
}
