/**
 * Bundles the CLI into one file, dist/notify.mjs, which bin/notify.js runs.
 *
 * Why: run from the files tsc writes, `notify outage` loads about 380 modules (ours, zod,
 * yaml, handlebars, libphonenumber…), and Node's loader spends ~80 ms opening, resolving
 * and linking them before the contact list is even read: a sixth of the time to a first
 * message. From one file that cost is gone; V8 still compiles a function only when it
 * first runs, and the commands a run does not use are parsed but never evaluated.
 * (Splitting into chunks made the light commands ~25 ms faster and a send ~20 ms slower:
 * the send is what must be fast.) tsc still type-checks and writes dist/ for the tests.
 *
 * The providers' SDKs and the queue's libraries stay outside: they are loaded with
 * `import()` by the channel or command that needs them, so a run pays only for its own.
 */
import { build } from 'esbuild';

const LOADED_ON_DEMAND = [
  'twilio', '@slack/web-api', 'node-telegram-bot-api', 'nodemailer', 'imapflow', 'bullmq', 'ioredis',
  'https-proxy-agent', 'http-proxy-agent', // only when HTTPS_PROXY or HTTP_PROXY is set (src/channels/proxy.ts)
];

await build({
  entryPoints: ['src/cli.ts'],
  // At the depth of dist/cli.js: paths found from import.meta.url (package.json, the shipped templates) stay right.
  outfile: 'dist/notify.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: LOADED_ON_DEMAND,
  alias: { 'source-map': './scripts/no-source-map.cjs' },
  // Bundled CommonJS libraries (handlebars) call require() for Node's own modules.
  banner: { js: "import { createRequire as __notifyCreateRequire } from 'node:module';\nconst require = __notifyCreateRequire(import.meta.url);" },
  // Read only with --debug (src/cli.ts), to show stack traces in the TypeScript sources.
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
