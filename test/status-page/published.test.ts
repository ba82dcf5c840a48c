/**
 * The status page is built only from runs published on purpose (`--status-page DIR` on
 * the send): a test send to one person never becomes public news, and never replaces
 * what a real update said. Updates are ordered by when they were sent, and the latest
 * one sent wins.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStatusPage, type StatusJson } from '../../src/core/status-page.js';
import { crowd, journal, workdir } from '../delivery/helpers.js';
import { baseEnv, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startTelegramFake } from '../fakes/telegram.js';
import { writeIncident, writeRun } from './fixtures.js';

const TEMPLATES = join(ROOT, 'templates');
const NOW = new Date('2026-03-12T16:00:00.000Z');

async function statusIn(cwd: string): Promise<StatusJson> {
  await writeStatusPage({ cwd, outDir: 'public', locale: 'en', templatesDir: TEMPLATES, now: NOW });
  return JSON.parse(readFileSync(join(cwd, 'public/status.json'), 'utf8')) as StatusJson;
}

describe('which runs are on the page', () => {
  it('a run sent without --status-page is not, however recent', async () => {
    const cwd = tempDir('status-page-published-');
    writeIncident(cwd);
    const before = await statusIn(cwd);
    // A test outage to one person, after the real update: it must not replace its ETA.
    writeRun(cwd, { runId: '2026-03-12-1100-outage-test', scenario: 'outage', at: '2026-03-12T11:00:00.000Z', variables: { eta: '23:59' }, publish: false });
    const after = await statusIn(cwd);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ state: 'degraded', eta: '16:00' });
    expect(after.updates.map((u) => u.runId)).not.toContain('2026-03-12-1100-outage-test');
  });

  it('a run recorded before publishing existed (no publish field) is not on the page', async () => {
    const cwd = tempDir('status-page-published-');
    writeRun(cwd, { runId: '2026-03-12-0900-outage-old1', scenario: 'outage', at: '2026-03-12T09:00:00.000Z', publish: false });
    const first = JSON.parse(readFileSync(join(cwd, '.notify/runs/2026-03-12-0900-outage-old1.jsonl'), 'utf8').split('\n')[0]!) as object;
    expect(first).not.toHaveProperty('publish');
    expect((await statusIn(cwd)).state).toBe('operational');
  });

  it('updates are ordered by when they were sent, and the latest one sent wins', async () => {
    const cwd = tempDir('status-page-published-');
    writeRun(cwd, { runId: '2026-03-12-0900-outage-aaaa', scenario: 'outage', at: '2026-03-12T09:00:00.000Z', variables: { eta: '12:00' } });
    // Planned first, but the lead sat at the confirmation: sent after the next one.
    writeRun(cwd, {
      runId: '2026-03-12-1000-update-bbbb', scenario: 'update', plannedAt: '2026-03-12T10:00:00.000Z', at: '2026-03-12T10:20:00.000Z',
      variables: { eta: '18:00', progress: 'sent last' },
    });
    writeRun(cwd, {
      runId: '2026-03-12-1005-update-cccc', scenario: 'update', at: '2026-03-12T10:05:00.000Z', variables: { eta: '15:00', progress: 'sent first' },
    });
    const status = await statusIn(cwd);
    expect(status.updates.map((u) => [u.runId, u.at])).toEqual([
      ['2026-03-12-1000-update-bbbb', '2026-03-12T10:20:00.000Z'],
      ['2026-03-12-1005-update-cccc', '2026-03-12T10:05:00.000Z'],
      ['2026-03-12-0900-outage-aaaa', '2026-03-12T09:00:00.000Z'],
    ]);
    expect(status).toMatchObject({ eta: '18:00', lastUpdated: '2026-03-12T10:20:00.000Z' });
  });
});

describe('live sends and the page, as a crisis lead runs them', () => {
  let telegram: Awaited<ReturnType<typeof startTelegramFake>>;
  beforeAll(async () => {
    telegram = await startTelegramFake();
  });
  afterAll(() => telegram.close());

  const people = crowd(6).map((p, i) => ({ name: p.name, telegram: String(400000 + i), locale: 'en' as const }));
  const send = (cwd: string, ...args: string[]) =>
    runCli(['outage', '--yes', '--channels', 'telegram', '--rate', 'all=off', ...args], { cwd, env: baseEnv({ ...telegram.env, NOTIFY_DEFAULT_LOCALE: 'en' }) });
  const page = async (cwd: string) => {
    const result = await runCli(['status-page', '--out', 'public'], { cwd, env: baseEnv({ NOTIFY_DEFAULT_LOCALE: 'en' }) });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(readFileSync(join(cwd, 'public/status.json'), 'utf8')) as StatusJson;
  };

  it('a test send to one person stays off the page; a published send is on it; a later test send does not replace it', async () => {
    const cwd = workdir(people);
    const test = await send(cwd, '--contact', 'Person 1', '--var', 'eta=09:99');
    expect(test.code, test.stderr).toBe(0);
    expect((await page(cwd)).state).toBe('operational');

    const real = await send(cwd, '--var', 'eta=14:00', '--status-page', 'public');
    expect(real.code, real.stderr).toBe(0);
    expect(real.stderr).toContain('Status page updated in public (down).');
    expect(await page(cwd)).toMatchObject({ state: 'down', eta: '14:00' });

    const again = await send(cwd, '--group', 'staff', '--var', 'eta=23:59');
    expect(again.code, again.stderr).toBe(0);
    const status = await page(cwd);
    expect(status).toMatchObject({ state: 'down', eta: '14:00' });
    expect(status.updates).toHaveLength(1);
  });

  it('a narrowed send given --status-page is published, as asked, and says so first', async () => {
    const cwd = workdir(people);
    const result = await send(cwd, '--contact', 'Person 2', '--var', 'eta=15:00', '--status-page', 'public');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      '! --status-page: this send is narrowed with --group/--contact and will still be published on the status page, as asked; leave --status-page out for a test send.',
    );
    expect(await page(cwd)).toMatchObject({ state: 'down', eta: '15:00' });
  });

  it('a dry run given --status-page is never published', async () => {
    const cwd = workdir(people);
    const result = await runCli(['outage', '--dry-run', '--var', 'eta=15:00', '--status-page', 'public'], { cwd, env: baseEnv({ NOTIFY_DEFAULT_LOCALE: 'en' }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Status page updated in public (operational; a dry run is never published).');
    expect(journal(cwd)[0]).toMatchObject({ kind: 'run', dryRun: true });
    expect(journal(cwd)[0]).not.toHaveProperty('publish');
  });
});
