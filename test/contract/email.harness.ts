import { email } from '../../src/channels/email.js';
import { startSmtpFake } from '../fakes/smtp.js';
import type { ContractHarness } from './harness.js';

export const harness: ContractHarness = {
  channel: email,
  startFake: startSmtpFake,
  address: (n) => `person${n}@example.com`,
  noRetryAfter: true, // SMTP answers 421/451 with no wait in it
  badCredentials: (fake) => ({ ...fake.env, SMTP_URL: fake.env.SMTP_URL!.replace(/:[^:@/]+@/, ':wrong-secret-0123456789@') }),
  shown: (received) => received.text,
};
