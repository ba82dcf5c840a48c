/**
 * SMS through Twilio's Messages API. The SDK is loaded in `connect()` only, through the
 * client shared with voice calls (twilio-client.ts: HTTP client, base URL, error mapping).
 */
import { unsetVariables, type Channel, type ChannelSettings, type PollRequest, type PollResult, type Transport } from '../core/channel.js';
import { lastAnswer } from '../core/last-answer.js';
import { phoneColumn } from '../core/phone.js';
import { smsLength } from '../core/sms-encoding.js';
import type { Problem } from '../core/types.js';
import { connectTwilio, twilioPrices, TWILIO_ENV, type TwilioConnection, type TwilioErrors, type Verdict } from './twilio-client.js';

const maxBodyChars = 1600;

/** Twilio error codes for messages → retry or not, and why, in words a crisis lead can act on (account codes: twilio-client.ts). */
const twilioCodes: Record<number, Verdict> = {
  21211: { permanent: true, reason: 'Twilio says the phone number is not valid: correct it in the contacts file' },
  21614: { permanent: true, reason: 'this number cannot receive SMS (probably a landline): give the contact a mobile number' },
  21610: { permanent: true, reason: 'the recipient opted out of SMS from this sender (replied STOP); they must text START to receive them again' },
  21408: { permanent: true, reason: "the Twilio account may not text this country: enable it in the Twilio console's Messaging geographic permissions" },
  21612: { permanent: true, reason: "Twilio cannot route an SMS from this sender to this number: use a sender or messaging service valid for the recipient's country" },
  21606: { permanent: true, reason: 'TWILIO_FROM is not an SMS-capable number of this Twilio account' },
  21608: { permanent: true, reason: 'a Twilio trial account can only text verified numbers: verify this number or upgrade the account' },
  21617: { permanent: true, reason: `the SMS is longer than Twilio's ${maxBodyChars} characters: shorten the template` },
};

/** Messages per page when listing (Twilio's maximum): one request covers a whole roll call of most companies. */
const listPageSize = 1000;

/** Carrier error codes of an accepted message that was then not delivered (Twilio's `error_code`), in plain words. */
const carrierCodes: Record<number, string> = {
  30003: 'the handset is unreachable (switched off or out of coverage)',
  30004: 'the message was blocked (the recipient blocked the sender, or the carrier did)',
  30005: 'the number is unknown to the carrier (it may no longer exist)',
  30006: 'the number is a landline or its carrier cannot be reached',
  30007: 'the carrier filtered the message as spam',
  30008: 'the carrier reported an unknown error',
  21610: 'the recipient opted out of SMS from this sender (replied STOP)',
};

/** No SMS can go out at all (besides the account codes): the sender is refused. */
const SMS_ERRORS: TwilioErrors = { codes: twilioCodes, channelWide: [21606], thing: 'message', sent: 'sent' };

export const sms: Channel = {
  name: 'sms',
  summary: 'SMS through Twilio',
  columns: [phoneColumn],
  byDefault: 'always',
  defaults: { concurrency: 4, perSecond: 1, connectMs: 200 }, // ~1 segment/s per long-code sender; twilio loads slowly
  env: [
    ...TWILIO_ENV,
    { name: 'TWILIO_FROM', description: 'SMS sender: a Twilio number (E.164) or an alphanumeric sender id' },
    { name: 'TWILIO_MESSAGING_SERVICE_SID', description: 'SMS sender: a Twilio messaging service (MG…), instead of TWILIO_FROM' },
  ],
  measure: smsLength,
  billing: { unit: 'segment', units: (message) => smsLength(message.text).segments },
  livePrices: (settings, countries) => twilioPrices(settings, 'messaging', countries),
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
    const chars = codePoints(message.text);
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
    const { TWILIO_FROM: from, TWILIO_MESSAGING_SERVICE_SID: messagingServiceSid } = settings.env;
    const twilio = await connectTwilio(settings, SMS_ERRORS);
    return {
      async send(message, signal) {
        const sender = { ...(from && { from }), ...(messagingServiceSid && { messagingServiceSid }) };
        const sent = await twilio.run({ signal, idempotencyToken: message.deliveryId }, (client) =>
          client.messages.create({ to: message.to, body: message.text, ...sender }),
        );
        return { providerId: sent.sid, ...(sent.numSegments != null && { detail: `segments: ${sent.numSegments}` }) };
      },
      async verify(signal) {
        await twilio.run({ signal }, (client) => client.api.accounts(twilio.accountSid).fetch());
      },
      poll: (request, signal) => pollMessages(twilio, from, request, signal),
      close: () => twilio.close(),
    };
  },
};

/**
 * Replies and receipts in one paged listing: Twilio's Messages list holds inbound and
 * outbound messages alike. `DateSent>` filters by date only, so the time is checked here;
 * the SDK follows `next_page_uri`. Inbound messages to our sender (any, with a messaging
 * service) are replies; outbound ones we sent give their final status.
 */
async function pollMessages(twilio: TwilioConnection, from: string | undefined, request: PollRequest, signal: AbortSignal): Promise<PollResult> {
  // Page by page, each request under the poll's signal (the SDK's list() would fetch the
  // pages after the first outside it).
  let page = await twilio.run({ signal }, (client) =>
    // Receipts need our outbound messages too; replies alone only those sent to our number.
    client.messages.page({ dateSentAfter: request.since, pageSize: listPageSize, ...(!request.receipts && from && !from.startsWith('MG') && { to: from }) }),
  );
  const list = [...page.instances];
  while (page.nextPageUrl) {
    const current = page;
    page = (await twilio.run({ signal }, () => current.nextPage()!)) as typeof page; // a page of the same kind
    list.push(...page.instances);
  }
  const sentBySid = new Map(request.sent.map((m) => [m.providerId, m]));
  const result: PollResult = { replies: [], receipts: [] };
  for (const m of list) {
    const at = m.dateSent ?? m.dateCreated;
    if (m.direction === 'inbound') {
      if (at && at.getTime() < request.since.getTime() - 1000) continue; // Twilio's dates have whole seconds
      if (from && !from.startsWith('MG') && m.to !== from) continue; // another number of the account
      result.replies.push({ providerId: m.sid, from: m.from, text: m.body ?? '', at: (at ?? new Date()).toISOString() });
      continue;
    }
    const ours = sentBySid.get(m.sid);
    if (!request.receipts || !ours || ours.settled) continue;
    if (m.status === 'delivered') result.receipts.push({ deliveryId: ours.deliveryId, status: 'delivered' });
    else if (m.status === 'undelivered' || m.status === 'failed') {
      const code = m.errorCode ?? undefined;
      const why = (code !== undefined && carrierCodes[code]) || (code !== undefined ? `Twilio error ${code}` : 'no reason given');
      result.receipts.push({ deliveryId: ours.deliveryId, status: m.status, ...(code !== undefined && { code: String(code) }), reason: `${m.status} after it was accepted: ${why}` });
    }
  }
  return result;
}

/** Characters as Twilio counts them (code points). */
const codePoints = lastAnswer((text) => [...text].length);
