import { sms } from '../../src/channels/sms.js';
import { startTwilioFake } from '../fakes/twilio.js';
import type { ContractHarness } from './harness.js';

export const harness: ContractHarness = {
  channel: sms,
  startFake: startTwilioFake,
  address: (n) => `+3363998${String(n).padStart(4, '0')}`,
  badCredentials: (fake) => ({ ...fake.env, TWILIO_AUTH_TOKEN: 'wrong-secret-0123456789' }),
  shown: (received) => received.text,
};
