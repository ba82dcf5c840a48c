/** The shipped GitHub Actions workflow parses and only calls commands and flags that exist. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runCli } from './helpers/cli.js';

const workflow = parse(readFileSync(join(ROOT, 'examples/github-actions/crisis-drill.yml'), 'utf8'));
const steps: { run?: string; env?: Record<string, string> }[] = workflow.jobs.drill.steps;
const notifyCalls = steps
  .flatMap((s) => (s.run ?? '').split('\n'))
  .map((line) => line.trim())
  .filter((line) => line.startsWith('notify '));

describe('examples/github-actions/crisis-drill.yml', () => {
  it('runs nightly and weekly, with CI set', () => {
    expect(workflow.on.schedule).toHaveLength(2);
    expect(workflow.jobs.drill.env.CI).toBe('true');
    expect(notifyCalls.length).toBeGreaterThanOrEqual(3);
  });

  it.each(notifyCalls)('"%s" uses a real command and real flags', async (line) => {
    const words = line.replace(/>.*$/, '').replace(/"\$scenario"/, 'outage').trim().split(/\s+/).slice(1);
    const command = words[0] === 'check' ? ['check'] : [];
    const help = await runCli([...command, '--help']);
    expect(help.code).toBe(0);
    for (const flag of words.filter((w) => w.startsWith('--'))) expect(help.stdout).toContain(flag);
  });

  it('passes every credential variable the live check needs from secrets', () => {
    const live = steps.find((s) => s.run?.includes('--live'))!;
    for (const v of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'SMTP_URL', 'MAIL_FROM', 'SLACK_BOT_TOKEN', 'TELEGRAM_BOT_TOKEN']) {
      expect(live.env![v]).toBe(`\${{ secrets.${v} }}`);
    }
  });
});
