import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { CHANNEL_NAMES, type ChannelName } from '../core/types.js';
import { email } from './email.js';
import { slack } from './slack.js';
import { sms } from './sms.js';
import { telegram } from './telegram.js';
import type { Channel } from './types.js';

/** Every channel, in the default order of `--channels`. Adding one is one line here. */
export const CHANNELS: Record<ChannelName, Channel> = { sms, email, slack, telegram };

/** The channels among these whose credentials are missing, with the variables to set. */
export function unconfigured(channels: Iterable<ChannelName>, config: Config): { channel: ChannelName; missing: string[] }[] {
  return [...channels]
    .map((channel) => ({ channel, missing: CHANNELS[channel].missingConfig(config) }))
    .filter((c) => c.missing.length > 0);
}

/** "sms needs TWILIO_FROM; slack needs SLACK_BOT_TOKEN" */
export function describeMissing(list: { channel: ChannelName; missing: string[] }[]): string {
  return list.map((m) => `${m.channel} needs ${m.missing.join(', ')}`).join('; ');
}

/** `--channels sms,email` → the channel modules, in the order given. */
export function parseChannels(flag: string | undefined): Channel[] {
  if (flag === undefined) return CHANNEL_NAMES.map((n) => CHANNELS[n]);
  const names = flag.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((n) => !(CHANNEL_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UserError(`--channels ${flag}: "${unknown[0] ?? flag}" is not a channel; choose from ${CHANNEL_NAMES.join(', ')} (comma-separated).`);
  }
  return [...new Set(names)].map((n) => CHANNELS[n as ChannelName]);
}
