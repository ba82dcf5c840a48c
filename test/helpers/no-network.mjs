// Preloaded with `node --import` by tests that must prove a command opens no network
// connection and loads no provider SDK: any attempt is reported on stderr and the
// process exits with code 97, which the test sees.
import net from 'node:net';
import { register } from 'node:module';

const refuse = (what) => {
  process.stderr.write(`NETWORK-ATTEMPT: ${what}\n`);
  process.exit(97);
};
net.Socket.prototype.connect = function () {
  refuse('net.Socket.connect');
};
globalThis.fetch = () => refuse('fetch');

// Refuse to load any provider SDK: dry runs and checks must not pay for them.
register(
  'data:text/javascript,' +
    encodeURIComponent(`
const SDKS = ['twilio', '@slack/web-api', 'node-telegram-bot-api', 'nodemailer'];
export async function resolve(specifier, context, next) {
  if (SDKS.some((s) => specifier === s || specifier.startsWith(s + '/'))) {
    process.stderr.write('SDK-LOADED: ' + specifier + '\\n');
    process.exit(98);
  }
  return next(specifier, context);
}`),
);
