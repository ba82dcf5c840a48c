/**
 * Journals written the way `notify <scenario>` writes them (record shapes from
 * src/core/journal.ts), so the status page is tested against real-looking runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalEntry } from '../../src/core/journal.js';

export interface FakeRun {
  runId: string;
  scenario: string;
  /** ISO time it was sent (its first delivery); the plan is recorded a few seconds before. */
  at: string;
  variables?: Record<string, string>;
  dryRun?: boolean;
  /** Sent with --status-page (default true): only published runs are on the page. */
  publish?: boolean;
  /** When the plan was recorded (the run record), if not 3 seconds before `at` (a lead can sit at the confirmation). */
  plannedAt?: string;
  /** What happened to the two deliveries: both delivered (default), one each, or both failed. */
  outcome?: 'delivered' | 'partial' | 'failed';
}

/** The org-wide values every send carries (templates/variables.yaml merged with --var). */
export const ORG_VARIABLES = {
  company: 'Exemple SARL',
  service: 'WhatsApp',
  status_url: 'https://status.example.com/',
  hotline: '+33 1 99 00 12 34',
  support_email: 'support@example.com',
  telegram_url: 'https://t.me/example_status',
};

export function writeRun(cwd: string, run: FakeRun): void {
  const t0 = Date.parse(run.at) - 3000;
  const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
  const outcome = run.outcome ?? 'delivered';
  const entries: JournalEntry[] = [
    {
      kind: 'run', at: run.plannedAt ?? at(0), runId: run.runId, scenario: run.scenario, dryRun: run.dryRun ?? false,
      contactsFile: join(cwd, 'contacts.csv'), templatesDir: join(cwd, 'templates'), channels: ['sms', 'email'],
      strategy: 'all', variables: { ...ORG_VARIABLES, ...run.variables }, ...(run.publish !== false && { publish: true }),
    },
  ];
  ['sms', 'email'].forEach((channel, i) => {
    const id = `${run.runId}-${channel}`;
    entries.push({
      kind: 'planned', at: at(1), id, channel: channel as 'sms' | 'email', contact: { key: 'ann', name: 'Ann', line: 2 },
      template: `templates/${run.scenario}/${channel}.fr.hbs`, locale: 'fr',
      message: { deliveryId: id, channel: channel as 'sms' | 'email', to: channel === 'sms' ? '+33639980001' : 'ann@example.com', text: 'message' },
    });
    entries.push({ kind: 'attempting', at: at(2), id, attempt: 1 });
    const delivered = outcome === 'delivered' || (outcome === 'partial' && i === 0);
    entries.push(
      delivered
        ? { kind: 'delivered', at: at(3), id, attempt: 1, receipt: { providerId: run.dryRun ? `dry-run:${id}` : `SM${i}` } }
        : { kind: 'failed', at: at(3), id, attempt: 1, reason: 'provider said no', retryable: false, final: true },
    );
  });
  entries.push({ kind: 'finished', at: at(4), interrupted: false });
  const dir = join(cwd, '.notify', 'runs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${run.runId}.jsonl`), entries.map((e) => JSON.stringify(e)).join('\n') + '\n', { mode: 0o600 });
}

/**
 * A finished incident the day before, then the current one: an outage, ignored runs
 * (a dry run, an update that reached nobody, a drill), and a real update.
 */
export function writeIncident(cwd: string, extra: Partial<Record<'outage' | 'update', Record<string, string>>> = {}): void {
  writeRun(cwd, { runId: '2026-03-11-0900-outage-aaaa', scenario: 'outage', at: '2026-03-11T09:00:00.000Z', variables: { eta: '10:00' } });
  writeRun(cwd, { runId: '2026-03-11-0950-resolved-bbbb', scenario: 'resolved', at: '2026-03-11T09:50:00.000Z' });
  writeRun(cwd, { runId: '2026-03-12-0900-outage-cccc', scenario: 'outage', at: '2026-03-12T09:00:00.000Z', variables: { eta: '14:00', ...extra.outage }, outcome: 'partial' });
  writeRun(cwd, { runId: '2026-03-12-0930-update-dddd', scenario: 'update', at: '2026-03-12T09:30:00.000Z', variables: { eta: '23:59', progress: 'dry run only' }, dryRun: true });
  writeRun(cwd, { runId: '2026-03-12-0940-update-eeee', scenario: 'update', at: '2026-03-12T09:40:00.000Z', variables: { eta: '23:58', progress: 'reached nobody' }, outcome: 'failed' });
  writeRun(cwd, { runId: '2026-03-12-0945-drill-ffff', scenario: 'drill', at: '2026-03-12T09:45:00.000Z' });
  writeRun(cwd, {
    runId: '2026-03-12-1030-update-0001', scenario: 'update', at: '2026-03-12T10:30:00.000Z',
    variables: { eta: '16:00', progress: 'the provider has found the fault', ...extra.update },
  });
}

export function writeResolved(cwd: string): void {
  writeRun(cwd, { runId: '2026-03-12-1500-resolved-0002', scenario: 'resolved', at: '2026-03-12T15:00:00.000Z' });
}
