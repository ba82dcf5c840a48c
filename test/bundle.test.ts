/**
 * The CLI runs from one bundled file (scripts/bundle.mjs). What the sources load on demand
 * with import() — the providers' SDKs, the queue's libraries — must stay on demand: imported
 * statically anywhere, the bundle would hoist it to its top and every run, a dry run
 * included, would pay for all of them; left out of the bundle's externals, it would be
 * copied into the bundle and parsed at every start.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/** Packages the sources import with import('package'). */
function loadedOnDemand(): string[] {
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const specifiers = files.flatMap((f) => [...readFileSync(join(ROOT, 'src', f), 'utf8').matchAll(/import\(\s*'([^'.][^']*)'\s*\)/g)].map((m) => m[1]!));
  return [...new Set(specifiers.filter((s) => !s.startsWith('node:')))].sort();
}

describe('dist/notify.mjs, the bundle bin/notify.js runs', () => {
  it('loads on demand what the sources load on demand, and nothing of it statically', () => {
    const bundle = readFileSync(join(ROOT, 'dist/notify.mjs'), 'utf8');
    const onDemand = loadedOnDemand();
    expect(onDemand).toEqual(expect.arrayContaining(['twilio', '@slack/web-api', 'node-telegram-bot-api', 'nodemailer', 'bullmq']));
    const staticImports = [...bundle.matchAll(/^import\s[^;]*?from\s*["']([^"']+)["']/gm)].map((m) => m[1]!);
    expect(staticImports).toContain('node:crypto'); // the check sees static imports
    expect(staticImports.filter((s) => onDemand.some((p) => s === p || s.startsWith(`${p}/`)))).toEqual([]);
    // Still a separate package, loaded when needed (missing from scripts/bundle.mjs's list, it would be copied in).
    expect(onDemand.filter((p) => !bundle.includes(`import("${p}")`))).toEqual([]);
  });
});
