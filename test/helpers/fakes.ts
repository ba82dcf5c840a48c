/** All four loopback providers at once, and the environment that points the CLI at them. */
import { startSlackFake } from '../fakes/slack.js';
import { startSmtpFake } from '../fakes/smtp.js';
import { startTelegramFake } from '../fakes/telegram.js';
import { startTwilioFake } from '../fakes/twilio.js';

export async function startAllFakes() {
  const [sms, email, slack, telegram] = await Promise.all([startTwilioFake(), startSmtpFake(), startSlackFake(), startTelegramFake()]);
  const fakes = { sms, email, slack, telegram };
  return {
    ...fakes,
    env: { ...sms.env, ...email.env, ...slack.env, ...telegram.env },
    all: Object.entries(fakes),
    close: () => Promise.all(Object.values(fakes).map((f) => f.close())),
  };
}
