import { signal } from '../../src/channels/signal.js';
import { startSignalFake, type SignalFake } from '../fakes/signal.js';
import type { ContractHarness } from './harness.js';

export const harness: ContractHarness<SignalFake> = {
  channel: signal,
  startFake: () => startSignalFake(),
  // Fictional range +33 6 39 98 xx xx (ARCEP): E.164, as the signal and phone columns give it.
  address: (n) => `+3363998${String(1000 + n).padStart(4, '0')}`,
  // The secret is the token of the proxy in front of the service (the service has none of its
  // own); an unregistered SIGNAL_NUMBER, also channel-wide, is in test/channels/signal.test.ts.
  badCredentials: (fake) => ({ ...fake.env, SIGNAL_API_TOKEN: 'sig_not-the-right-token-0123456789' }),
  // Plain text: what was sent is what is shown.
  shown: (received) => received.text,
};
