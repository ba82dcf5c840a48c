/**
 * The channel registry: every channel, in the default order of `--channels`. Adding a
 * channel is its file in this folder, its fake in test/fakes/, its templates, and one
 * line here; everything else reads the channels' declarations.
 */
import type { Channel, ChannelName, ChannelSettings } from '../core/channel.js';
import { UserError } from '../errors.js';
import { discord } from './discord.js';
import { email } from './email.js';
import { signal } from './signal.js';
import { slack } from './slack.js';
import { sms } from './sms.js';
import { teams } from './teams.js';
import { telegram } from './telegram.js';
import { voice } from './voice.js';

export const CHANNEL_LIST: readonly Channel[] = [sms, email, slack, telegram, voice, teams, signal, discord];

/** `--strategy first`: the order channels are tried in, fastest to be read first (the rest follow in registry order). */
export const DEFAULT_PRIORITY: readonly ChannelName[] = ['sms', 'voice', 'telegram', 'signal', 'slack', 'teams', 'discord', 'email']
  .filter((name) => CHANNEL_LIST.some((c) => c.name === name));

export const CHANNELS: ReadonlyMap<ChannelName, Channel> = new Map(CHANNEL_LIST.map((c) => [c.name, c]));
export const CHANNEL_NAMES: readonly ChannelName[] = CHANNEL_LIST.map((c) => c.name);

export function channelNamed(name: ChannelName): Channel {
  const channel = CHANNELS.get(name);
  if (!channel) throw new Error(`no channel named ${name}`); // names come from the registry or were validated
  return channel;
}

/** The channels among these whose credentials are missing, with the variables to set. */
export function unconfigured(channels: Iterable<ChannelName>, settings: ChannelSettings): { channel: ChannelName; missing: string[] }[] {
  return [...channels]
    .map((channel) => ({ channel, missing: channelNamed(channel).missingConfig(settings) }))
    .filter((c) => c.missing.length > 0);
}

/** "sms needs TWILIO_FROM; slack needs SLACK_BOT_TOKEN" */
export function describeMissing(list: { channel: ChannelName; missing: string[] }[]): string {
  return list.map((m) => `${m.channel} needs ${m.missing.join(', ')}`).join('; ');
}

/** `sms,email` (a flag's value) → registered channel names, in the order given; `flag` names the flag in errors. */
export function parseChannelList(value: string, flag: string): ChannelName[] {
  const names = value.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  const unknown = names.find((n) => !CHANNELS.has(n));
  if (unknown !== undefined || names.length === 0) {
    throw new UserError(`${flag} ${value}: "${unknown ?? value}" is not a channel; choose from ${CHANNEL_NAMES.join(', ')} (comma-separated).`);
  }
  return [...new Set(names)];
}

/** `--channels sms,email` → the channel modules, in the order given; without it, what each channel's `byDefault` says. */
export function parseChannels(flag: string | undefined, settings: ChannelSettings, strategy: 'all' | 'first' = 'all'): Channel[] {
  if (flag !== undefined) return parseChannelList(flag, '--channels').map(channelNamed);
  return CHANNEL_LIST.filter((c) =>
    c.byDefault === 'always'
    || (c.byDefault === 'when-configured' && c.missingConfig(settings).length === 0)
    || (c.byDefault === 'strategy-first' && strategy === 'first'));
}
