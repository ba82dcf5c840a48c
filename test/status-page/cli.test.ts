/** `notify status-page` as a user runs it: the built CLI in a subprocess (npm test builds first). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, NO_NETWORK, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { writeIncident } from './fixtures.js';

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/commands/status-page.js'))) throw new Error('dist/ is not built; run npm run build (npm test does) first.');
});

describe('notify status-page', () => {
  it('writes the three files from the journal, in the default locale, opening no connection', async () => {
    const cwd = tempDir('status-page-cli-');
    writeIncident(cwd);
    const result = await runCli(['status-page', '--out', 'public'], { cwd, env: baseEnv({ NOTIFY_DEFAULT_LOCALE: 'en' }), nodeArgs: ['--import', NO_NETWORK] });
    expect(result.stderr).toContain('Status page (en): still down, recovery in progress.');
    expect(result.stderr).toMatch(/wrote public\/index\.html\n.*wrote public\/status\.json\n.*wrote public\/feed\.xml/);
    expect(result.code).toBe(0);
    expect(readFileSync(join(cwd, 'public/index.html'), 'utf8')).toContain('<html lang="en">');
    expect(JSON.parse(readFileSync(join(cwd, 'public/status.json'), 'utf8'))).toMatchObject({ state: 'degraded', eta: '16:00' });
  });

  it('with no runs at all still builds a page saying there is no incident (French by default)', async () => {
    const cwd = tempDir('status-page-cli-');
    const result = await runCli(['status-page'], { cwd });
    expect(result.stderr).toContain('Status page (fr): no incident.');
    expect(result.code).toBe(0);
    expect(readFileSync(join(cwd, 'status-page/index.html'), 'utf8')).toContain('Aucun incident en cours');
  });

  it('refuses an unknown locale in one sentence naming --locale (exit 2)', async () => {
    const result = await runCli(['status-page', '--locale', 'de']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('notify: --locale de is not a status page language; use --locale en or fr (or add status-page/strings.de.yaml to your templates).\n');
  });
});
