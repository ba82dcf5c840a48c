/**
 * The CLI runs from one bundled file (scripts/bundle.mjs). A provider's SDK must still be
 * loaded only by the channel that needs it: imported statically anywhere, the bundle would
 * hoist it to its top and every run, a dry run included, would pay for all of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const ON_DEMAND = ['twilio', '@slack/web-api', 'node-telegram-bot-api', 'nodemailer', 'imapflow', 'bullmq', 'ioredis'];
const bundle = () => readFileSync(join(ROOT, 'dist/notify.mjs'), 'utf8');

describe('dist/notify.mjs, the bundle bin/notify.js runs', () => {
  it('imports no SDK statically, and each with import() where it is used', () => {
    const source = bundle();
    const staticImports = [...source.matchAll(/^import\s[^;]*?from\s*["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(staticImports.filter((s) => ON_DEMAND.some((sdk) => s === sdk || s!.startsWith(`${sdk}/`)))).toEqual([]);
    // The check sees static imports (node: built-ins are imported at the top)…
    expect(staticImports).toContain('node:crypto');
    // …and the SDKs are there, loaded on demand.
    for (const sdk of ['twilio', '@slack/web-api', 'node-telegram-bot-api', 'nodemailer']) expect(source).toContain(`import("${sdk}")`);
  });
});
