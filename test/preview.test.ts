import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('notify preview', () => {
  it('shows one person exactly as they will read it, with SMS encoding and segments', async () => {
    const r = await runCli(['preview', 'outage', '--contact', 'Sarah Collins', '--var', 'eta=16:00']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/── sms to Sarah Collins <\+447700900456> · .*sms\.vip\.en\.hbs/);
    expect(r.stderr).toMatch(/GSM-7, \d+ septets, 1 segment\(s\)/);
    expect(r.stderr).toMatch(/── email to Sarah Collins.*\n\s+Subject: \[Exemple SARL\]/);
    expect(r.stderr).toContain('16:00');
    expect(r.stderr).not.toMatch(/── (sms|email|telegram) to (?!Sarah)/);
  });

  it('filters by channel and locale', async () => {
    const r = await runCli(['preview', 'update', '--channel', 'sms', '--locale', 'en', '--json']);
    expect(r.code).toBe(0);
    const previews = JSON.parse(r.stdout);
    expect(previews.length).toBeGreaterThan(0);
    for (const p of previews) {
      expect(p.channel).toBe('sms');
      expect(p.template).toMatch(/\.en\.hbs$/);
      expect(p.sms.segments).toBeGreaterThan(0);
    }
  });

  it('names the UCS-2 character when there is one', async () => {
    const r = await runCli(['preview', 'outage', '--channel', 'sms', '--var', 'eta=demain à 9h, peut-être', '--contact', 'Nicolas Garnier', '--max-sms-segments', '3']);
    expect(r.stderr).toMatch(/UCS-2 because of "ê"/);
  });
});
