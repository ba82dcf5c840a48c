import { slack } from '../../src/channels/slack.js';
import { startSlackFake } from '../fakes/slack.js';
import type { ContractHarness } from './harness.js';

const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>' };

export const harness: ContractHarness = {
  channel: slack,
  startFake: startSlackFake,
  address: (n) => `U0PERSON${n}`,
  badCredentials: (fake) => ({ ...fake.env, SLACK_BOT_TOKEN: 'xoxb-wrong-secret-0123456789' }),
  // Slack shows mrkdwn with its three entities decoded.
  shown: (received) => received.text.replace(/&(?:amp|lt|gt);/g, (e) => entities[e]!),
};
