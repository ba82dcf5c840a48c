/**
 * The page in a real browser (Debian's chromium, headless): what a reader sees once
 * the HTML is parsed and laid out, and the feed through the browser's XML parser.
 * Skipped when chromium is not installed (apt-get install chromium); .ci/run installs it,
 * and fails on a skipped test, so in CI it always runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeStatusPage } from '../../src/core/status-page.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { writeIncident } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
/** One chromium run may take this long on a loaded machine; the test allows two of them and more. */
const CHROMIUM_BUDGET_MS = 45_000;
if (!hasChromium) console.warn(`status page browser tests skipped: ${CHROMIUM} not found (apt-get install chromium to run them).`);

async function dumpDom(file: string): Promise<string> {
  // Headless as root (CI containers): no sandbox, no GPU, nothing fetched in the background,
  // and a fresh profile so no earlier run's state is read.
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  const { stdout } = await promisify(execFile)(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', `--user-data-dir=${profile}`,
    '--dump-dom', `file://${file}`,
  ], { timeout: CHROMIUM_BUDGET_MS, maxBuffer: 10_000_000 }).finally(() => rmSync(profile, { recursive: true, force: true, maxRetries: 3 }));
  return stdout;
}

describe('in headless chromium', () => {
  it.skipIf(!hasChromium)('shows the state, the ETA, working alternatives and hostile values as text', { timeout: 3 * CHROMIUM_BUDGET_MS }, async () => {
    const cwd = tempDir('status-page-browser-');
    writeIncident(cwd, { update: { progress: 'fixed <script>document.title="pwned"</script>', slack_url: 'javascript:alert(1)' } });
    await writeStatusPage({ cwd, outDir: 'site', locale: 'en', templatesDir: join(ROOT, 'templates') });

    const dom = await dumpDom(join(cwd, 'site', 'index.html'));
    expect(dom).toContain('<html lang="en">');
    expect(dom).toContain('<title>Exemple SARL · Service status</title>'); // the injected script did not run
    expect(dom).toMatch(/Still down/);
    expect(dom).toMatch(/Expected back: <strong>16:00<\/strong>/);
    expect(dom).toContain('href="tel:+33199001234"');
    expect(dom).toContain('href="mailto:support@example.com"');
    expect(dom).not.toMatch(/<script/i);
    expect(dom).toContain('fixed &lt;script&gt;document.title="pwned"&lt;/script&gt;');
    expect(dom).not.toContain('href="javascript');
    const timeline = dom.indexOf('Update: WhatsApp still unavailable');
    expect(timeline).toBeGreaterThan(0);
    expect(dom.indexOf('Incident: WhatsApp unavailable')).toBeGreaterThan(timeline);

    // Chromium parses feed.xml with libxml2 and inserts <parsererror> if it is not well-formed.
    const feed = await dumpDom(join(cwd, 'site', 'feed.xml'));
    expect(feed).not.toContain('parsererror');
    expect(feed).toContain('xml-viewer');
  });
});
