/**
 * The core defines the ports and knows no adapter: nothing under src/core imports
 * src/channels, src/commands or src/cli, and channels never import commands.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const SRC = join(ROOT, 'src');

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((m) => m[1] ?? m[2]!)
    .filter((s) => s.startsWith('.'));
  return specifiers.map((s) => relative(SRC, resolve(file, '..', s)).replace(/\.js$/, '.ts'));
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(SRC, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(SRC, dir, f));
}

describe('import graph', () => {
  it.each([
    ['core', ['channels/', 'commands/', 'cli.ts', 'config.ts']],
    ['channels', ['commands/', 'cli.ts']],
  ])('nothing in src/%s imports %j', (dir, forbidden) => {
    const offending = filesUnder(dir).flatMap((file) =>
      importsOf(file).filter((target) => forbidden.some((f) => target.startsWith(f))).map((target) => `${relative(SRC, file)} → ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('the check itself sees imports (it would catch a violation)', () => {
    expect(importsOf(join(SRC, 'core/plan.ts'))).toContain('core/channel.ts');
  });
});
