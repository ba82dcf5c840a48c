/**
 * Bundles the CLI into one file, dist/notify.mjs, which bin/notify.js runs.
 *
 * Why: run from the files tsc writes, `notify outage` loads about 380 modules (ours, zod,
 * yaml, handlebars, libphonenumber…), and Node's loader spends ~80 ms opening, resolving
 * and linking them before the contact list is even read: a sixth of the time to a first
 * message. From one file that cost is gone; V8 still compiles a function only when it
 * first runs, and the commands a run does not use are parsed but never evaluated.
 * (Split into chunks, light commands started ~17 ms sooner and a send no sooner: one file
 * is simpler.) tsc still type-checks and writes dist/ for the tests.
 *
 * What a library brings in is parsed at every start: zod is imported as a namespace
 * (`import * as z`), so that only what we call is kept (`import { z }` kept all 795 KB and
 * evaluated its 40 locales, ~15 ms), and Handlebars does without source-map (below).
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
