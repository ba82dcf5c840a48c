// Preloaded with `node --import` by tests that check which provider SDKs a run loads:
// loading one that is not in NOTIFY_TEST_SDKS (comma-separated) is reported on stderr and
// the process exits with code 98, which the test sees.
import { register } from 'node:module';

const allowed = (process.env.NOTIFY_TEST_SDKS ?? '').split(',').filter(Boolean);
register(
  'data:text/javascript,' +
    encodeURIComponent(`
const SDKS = ['twilio', '@slack/web-api', 'node-telegram-bot-api', 'nodemailer'];
const allowed = ${JSON.stringify(allowed)};
export async function resolve(specifier, context, next) {
  const sdk = SDKS.find((s) => specifier === s || specifier.startsWith(s + '/'));
  if (sdk && !allowed.includes(sdk)) {
    process.stderr.write('SDK-LOADED: ' + specifier + '\\n');
    process.exit(98);
  }
  return next(specifier, context);
}`),
);
