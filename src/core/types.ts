/** The vocabulary shared by every layer: contacts, rendered messages, receipts. */

/** A channel's name: `sms`, `email`, `voice`… (the registry in src/channels/index.ts holds the list). */
export type ChannelName = string;

export interface Contact {
  /** Line of the contacts file this contact came from (1-based, header is line 1). */
  line: number;
  name: string;
  role: string;
  groups: string[];
  /** Address columns the channels declare, normalised (phone in E.164, email lower-cased…); empty cells absent. */
  columns: Record<string, string>;
  /** Where this contact is reached, per channel: filled from the columns each channel reads. */
  addresses: Record<ChannelName, string>;
  /** The phone is certainly a landline: SMS to it will fail. */
  landline?: boolean;
  locale: string;
  /** Unknown columns, kept as template variables ({{contact.<column>}}). */
  extra: Record<string, string>;
  /** Stable identity used for de-duplication and delivery ids. */
  key: string;
}

/** A message ready to send: one delivery of one scenario to one address on one channel. */
export interface Rendered {
  deliveryId: string;
  channel: ChannelName;
  /** Address on the channel: E.164 phone, email, Slack id/channel, Telegram chat id, webhook… */
  to: string;
  text: string;
  /** Email only. */
  subject?: string;
  /** Email only: the HTML alternative, when the template set has one. */
  html?: string;
  /** The recipient's language (`fr`, `en`): what a voice call speaks it in. */
  locale?: string;
}

export interface Receipt {
  /** Provider's id for the message (Twilio SID, SMTP message id, Slack channel:ts, Telegram message_id). */
  providerId: string;
  /** Extra detail worth keeping (SMTP server response, Twilio segment count…). */
  detail?: string;
}

/** Something wrong with the plan, found before anything is sent. */
export interface Problem {
  /** Where: `contacts.csv:7`, `templates/outage/sms.fr.hbs`, `--channels`, `TWILIO_FROM`… */
  where: string;
  message: string;
  /** Problems of the same group are shown together (contacts, templates, limits, config…). */
  group?: string;
}
