/** Discord in the contract suite: one webhook, so one recipient (the broadcast target). */
import { discord } from '../../src/channels/discord.js';
import type { ContractHarness } from './harness.js';
import { startDiscordFake, type DiscordFake } from '../fakes/discord.js';

export const harness: ContractHarness<DiscordFake> = {
  channel: discord,
  startFake: startDiscordFake,
  // The readable label the plan puts in `to`; the send goes to DISCORD_WEBHOOK_URL whatever it says.
  address: (_n, fake) => discord.broadcastAddress!({ env: fake.env })!,
  broadcastOnly: true,
  // Same webhook id, wrong token: Discord answers 401 Invalid Webhook Token (50027).
  badCredentials: (fake) => ({ ...fake.env, DISCORD_WEBHOOK_URL: fake.webhookUrl.replace(fake.token, `x${fake.token.slice(1).split('').reverse().join('')}`) }),
  // Discord's markdown shows a backslash-escaped punctuation mark as the mark itself.
  shown: (received) => received.text.replace(/\\([!-/:-@[-`{-~])/g, '$1'),
};
