/**
 * The port every channel implements. The core owns it; `src/channels/<name>.ts` files
 * implement it and declare, as data, everything specific to their channel, so that
 * planning, contacts, config, tuning, help and reports iterate over one registry list
 * and never branch on a channel's name.
 */
import type { Escaper } from './escape.js';
import type { SmsLength } from './sms-encoding.js';
import type { ChannelName, Contact, Problem, Receipt, Rendered } from './types.js';

export type { ChannelName, Receipt };

export interface CheckLimits {
  maxSmsSegments: number;
}

/** A contact column that can hold an address, with how to validate and normalise it. */
export interface AddressColumn {
  /** Header in the contacts CSV, lower case. */
  readonly name: string;
  /** A valid, normalised value that reaches nobody: for sample contacts and docs. */
  readonly example: string;
  /** The normalised address, or one sentence saying what is wrong with `raw`. */
  parse(raw: string, options: { defaultRegion: string }): { value: string; landline?: boolean } | string;
}

/** An environment variable a channel reads. */
export interface EnvVar {
  readonly name: string;
  /** Credentials: never printed, and scrubbed from provider messages. */
  readonly secret?: boolean;
  /** A URL: validated at config load, with the schemes it may use. */
  readonly url?: { schemes: readonly string[]; example: string };
  readonly description: string;
}

/** Whatever the environment says, after validation: every declared variable, trimmed, empty = unset. */
export interface ChannelSettings {
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Channel {
  readonly name: ChannelName;
  /** One line for help and README: "SMS through Twilio". */
  readonly summary: string;
  /** Columns an address is read from, first non-empty wins; none = a broadcast target only. */
  readonly columns: readonly AddressColumn[];
  /** How variable values are escaped in this channel's templates (none: plain text). */
  readonly escape?: Escaper;
  /** Templates carry a `subject:` (email). */
  readonly subject?: boolean;
  /** Templates may have an HTML alternative, `<channel>[…].html.hbs` (email). */
  readonly html?: boolean;
  /**
   * Provider limits that shape a fan-out (provider-notes.md); `typicalSendMs`, how long one
   * send usually takes (a call rings and speaks), feeds the time estimate of the preview.
   */
  readonly defaults: {
    typicalSendMs?: number;
    perSecond?: number;
    concurrency: number;
    /** Time limit of one attempt when longer than the dispatcher's (a call rings, then speaks); `--attempt-timeout` overrides it. */
    attemptTimeoutMs?: number;
    /**
     * How long `connect()` takes, nearly all of it loading the SDK (provider-notes.md, 2 cores;
     * none: no SDK). Channels connect one at a time, the quickest first, so that the first
     * messages leave while the heavier SDKs load.
     */
    connectMs?: number;
  };
  /**
   * Whether the channel is used when `--channels` is not given: `always`; `when-configured`,
   * once its variables are set (a new channel never breaks an existing plan); or
   * `strategy-first`, only as a fallback with `--strategy first` (voice: calls cost money and
   * wake people, but they reach landlines).
   */
  readonly byDefault: 'always' | 'when-configured' | 'strategy-first';
  readonly env: readonly EnvVar[];
  /** Variables still to set before this channel can send (empty = configured). */
  missingConfig(settings: ChannelSettings): string[];
  /** The group target that receives each broadcast once (SLACK_CHANNEL, TEAMS_WEBHOOK_URL…). */
  broadcastAddress?(settings: ChannelSettings): string | undefined;
  /** Why this contact's address cannot work on this channel (an SMS to a landline), if it cannot. */
  unsuitable?(contact: Contact): string | undefined;
  /**
   * How the provider bills a message, for the cost preview: per SMS segment or per call
   * minute, and how many units this message takes. Prices come from prices.yaml, keyed by
   * channel name and destination country.
   */
  readonly billing?: { unit: 'segment' | 'minute'; units(message: Rendered): number };
  /** The provider's own current prices per unit for these destination countries (`--live-prices`). */
  livePrices?(settings: ChannelSettings, countries: readonly string[]): Promise<{ currency: string; perUnit: Record<string, number> }>;
  /** SMS length, kept with each delivery for previews and the segment budget. */
  measure?(text: string): SmsLength;
  /** Limits: SMS segments, Telegram 4,096 characters, Discord 2,000… */
  check(message: Rendered, limits: CheckLimits): Problem[];
  /** Load the SDK or HTTP client and build a transport. Never sends anything. */
  connect(settings: ChannelSettings): Promise<Transport>;
}

export interface Transport {
  /** Send one message. Throws PermanentError or RetryableError (see delivery-errors.ts). */
  send(message: Rendered, signal: AbortSignal): Promise<Receipt>;
  /** Live credential preflight that sends nothing (Twilio account fetch, auth.test, getMe, SMTP verify). */
  verify(signal: AbortSignal): Promise<void>;
  /** Release pooled connections. */
  close(): Promise<void>;
  /**
   * Inbound, for roll calls: replies to our messages and final delivery statuses since the
   * run started, read by polling the provider (no public server needed). Optional: a
   * channel without it (Teams, Discord webhooks) has no way to hear back.
   */
  poll?(request: PollRequest, signal: AbortSignal): Promise<PollResult>;
}

/** A message of the run the provider accepted: what a poller matches replies and statuses against. */
export interface SentMessage {
  deliveryId: string;
  to: string;
  /** The provider's id from the send receipt (Twilio SID, Slack `channel:ts`, Telegram message_id, Message-ID). */
  providerId: string;
  /** Already known final (a receipt recorded): no need to ask again. */
  settled?: boolean;
}

export interface PollRequest {
  /** When the run started: nothing older is a reply to it. */
  since: Date;
  /** Where the previous poll of this channel stopped (as it returned it), if any. */
  cursor?: string;
  sent: readonly SentMessage[];
  /** Also fetch final delivery statuses (receipts) of `sent`. */
  receipts: boolean;
}

/** A reply as the provider has it: `from` is an address in the channel's own form (E.164, chat id, member id, email). */
export interface InboundReply {
  /** The provider's unique id of the reply: the same reply polled twice is recorded once. */
  providerId: string;
  from: string;
  /** Text, or a reaction's name. */
  text: string;
  reaction?: boolean;
  /** The delivery it answers, when the provider says (a thread, In-Reply-To, reply_to_message). */
  deliveryId?: string;
  at: string;
}

/** A final status for one of our messages. */
export interface DeliveryReceipt {
  deliveryId: string;
  /** `delivered` reached the handset/person; `undelivered`/`failed`: accepted, then lost. */
  status: 'delivered' | 'undelivered' | 'failed';
  /** Provider code (Twilio 30003…) and one line a crisis lead understands. */
  code?: string;
  reason?: string;
}

export interface PollResult {
  replies: InboundReply[];
  receipts: DeliveryReceipt[];
  /** Where to start next time (Telegram update offset, IMAP UID…). */
  cursor?: string;
  /** Something the lead must know about this channel's inbound (a webhook blocking getUpdates…). */
  problem?: string;
}

/** The declared variables that are unset: for channels whose rule is "all of these". */
export function unsetVariables(settings: ChannelSettings, names: readonly string[]): string[] {
  return names.filter((name) => !settings.env[name]);
}

/** Every secret value a channel knows, to scrub from provider messages before they are shown. */
export function secretValues(channel: Pick<Channel, 'env'>, settings: ChannelSettings): string[] {
  return channel.env.filter((v) => v.secret).map((v) => settings.env[v.name]).filter((v): v is string => Boolean(v));
}
