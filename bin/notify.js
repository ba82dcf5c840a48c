#!/usr/bin/env node
// `notify --help` is what a stressed user types first: print the help text rendered at
// build time (dist/help.txt) without loading the CLI and its libraries. Anything else
// goes to the real CLI.
// This file is CommonJS (bin/package.json): an ES module entry point would first start
// Node's ES module loader, ~10 ms that the help text does not need (a quarter of `node -e 0`).
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
if (args.length === 0 || (args.length === 1 && (args[0] === '--help' || args[0] === '-h'))) {
  try {
    process.stdout.write(readFileSync(join(__dirname, '../dist/help.txt'), 'utf8'));
    process.exit(0);
  } catch {
    // not built with the help text: fall through to the CLI, which prints it too
  }
}
// (Memory for large lists and journals: src/heap.ts, set by the commands that read them.)
// The CLI bundled into one file at build time (scripts/bundle.mjs): ~80 ms less start-up than dist/cli.js.
import('../dist/notify.mjs').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/notify.mjs')) {
    console.error('crisis-notify is not built yet; run "npm install" (or "npm run build") in its folder first.');
    process.exit(2);
  }
  throw error;
});
