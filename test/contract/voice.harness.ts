/** The voice channel in the contract suite: calls answered at once by default, the text read back from the `<Say>` of the TwiML. */
import { voice } from '../../src/channels/voice.js';
import { startTwilioVoiceFake, type TwilioVoiceFake } from '../fakes/twilio-voice.js';
import type { ContractHarness } from './harness.js';

export const harness: ContractHarness<TwilioVoiceFake> = {
  channel: voice,
  startFake: startTwilioVoiceFake,
  address: (n) => `+3363998${String(n).padStart(4, '0')}`, // ARCEP fiction range
  badCredentials: (fake) => ({ ...fake.env, TWILIO_AUTH_TOKEN: 'wrong-secret-0123456789' }),
  // The fake decodes the first <Say>'s text; the same text is said again after a pause.
  shown: (received) => received.text,
};
