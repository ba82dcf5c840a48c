/**
 * What a channel gives the contract suite (test/contract/contract.test.ts): its declaration,
 * its loopback fake, and the few facts only it knows. Each channel has one file
 * `test/contract/<channel>.harness.ts` exporting `harness`; the suite finds them all and
 * fails if a registered channel has none.
 */
import type { Channel } from '../../src/core/channel.js';
import type { ProviderFake, Received } from '../fakes/provider.js';

export interface ContractHarness<F extends ProviderFake = ProviderFake> {
  channel: Channel;
  /** Start the channel's fake provider on 127.0.0.1; `fake.env` points the real SDK/client at it. */
  startFake(): Promise<F>;
  /** The n-th valid recipient on this channel (a phone, an email, a chat id…), or the broadcast target. */
  address(n: number, fake: F): string;
  /** One recipient per channel (a webhook): then "one recipient refused" does not apply. */
  broadcastOnly?: boolean;
  /** The protocol cannot say how long to wait when rate-limited (SMTP's 421/451): no Retry-After to honour. */
  noRetryAfter?: boolean;
  /** Environment with a credential the provider refuses (a wrong token), starting from `fake.env`. */
  badCredentials(fake: F): Record<string, string>;
  /** The text a reader sees for a message the fake accepted (entities decoded, markdown escapes removed…). */
  shown(received: Received): string;
}
