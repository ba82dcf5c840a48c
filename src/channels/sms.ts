/**
 * SMS through Twilio's Messages API. The SDK is loaded in `connect()` only, through the
 * client shared with voice calls (twilio-client.ts: interceptors, base URL, error mapping).
 */
import { unsetVariables, type Channel, type ChannelSettings, type Transport } from '../core/channel.js';
import { phoneColumn } from '../core/phone.js';
import { smsLength } from '../core/sms-encoding.js';
import type { Problem } from '../core/types.js';
import { connectTwilio, twilioPrices, TWILIO_ENV, type TwilioErrors, type Verdict } from './twilio-client.js';

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

/** No SMS can go out at all (besides the account codes): the sender is refused. */
const SMS_ERRORS: TwilioErrors = { codes: twilioCodes, channelWide: [21606], thing: 'message', sent: 'sent' };

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
      close: () => twilio.close(),
    };
  },
};
