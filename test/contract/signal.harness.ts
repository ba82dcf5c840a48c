import { signal } from '../../src/channels/signal.js';
import { startSignalFake, type SignalFake } from '../fakes/signal.js';
import type { ContractHarness } from './harness.js';

export const harness: ContractHarness<SignalFake> = {
  channel: signal,
  startFake: () => startSignalFake(),
  // Fictional range +33 6 39 98 xx xx (ARCEP): E.164, as the signal and phone columns give it.
  address: (n) => `+3363998${String(1000 + n).padStart(4, '0')}`,
  // The credential the service itself checks is the sender: a number it has not registered.
  badCredentials: (fake) => ({ ...fake.env, SIGNAL_NUMBER: '+33639989999' }),
  // Plain text: what was sent is what is shown.
  shown: (received) => received.text,
};
