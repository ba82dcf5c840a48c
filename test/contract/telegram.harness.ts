import { telegram } from '../../src/channels/telegram.js';
import { startTelegramFake } from '../fakes/telegram.js';
import type { ContractHarness } from './harness.js';

const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' };

export const harness: ContractHarness = {
  channel: telegram,
  startFake: startTelegramFake,
  address: (n) => String(100000000 + n),
  badCredentials: (fake) => ({ ...fake.env, TELEGRAM_BOT_TOKEN: '123456:AAwrong-secret-0123456789' }),
  // parse_mode HTML: tags are formatting, the four entities are characters.
  shown: (received) => received.text.replace(/<[^>]+>/g, '').replace(/&(?:amp|lt|gt|quot);/g, (e) => entities[e]!),
};
