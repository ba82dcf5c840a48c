import type { Config } from '../config.js';
import type { ChannelName, Contact, Problem, Receipt, Rendered } from '../core/types.js';

/**
 * What every channel provides. The spec part (address, check, missingConfig) is pure and
 * used while planning; `connect` is the only place an SDK is imported, lazily, so that
 * `--help`, checks and dry runs never pay for loading four SDKs.
 */
export interface Channel {
  readonly name: ChannelName;
  /** Where this contact is reached on this channel, if at all. */
  address(contact: Contact): string | undefined;
  /** Limits: SMS segments, Telegram 4096 characters, Slack size… */
  check(message: Rendered, limits: CheckLimits): Problem[];
  /** Environment variables that must be set before this channel can send (empty = configured). */
  missingConfig(config: Config): string[];
  /** The optional group target that receives each broadcast once (SLACK_CHANNEL, TELEGRAM_CHAT_ID). */
  broadcastAddress?(config: Config): string | undefined;
  /** Load the SDK and build a client. Never sends anything. */
  connect(config: Config): Promise<Transport>;
}

export interface CheckLimits {
  maxSmsSegments: number;
}

export interface Transport {
  /** Send one message. Throws PermanentError or RetryableError (see errors.ts). */
  send(message: Rendered, signal: AbortSignal): Promise<Receipt>;
  /** Live credential preflight that sends nothing (Twilio account fetch, auth.test, getMe, SMTP verify). */
  verify(signal: AbortSignal): Promise<void>;
  /** Release pooled connections. */
  close(): Promise<void>;
}
