/**
 * Before the button: time at the providers' limits, cost from prices.yaml, the character
 * that forces UCS-2, and what earlier runs make unusual — in the dry run's first screen
 * and its --json, and in notify check.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllFakes } from './helpers/fakes.js';
import { baseEnv, ROOT, runCli, tempDir } from './helpers/cli.js';
import { contactsCsv, crowd, journal, workdir } from './delivery/helpers.js';

/** A plan folder: `count` people of the crowd and the shipped templates, with an SMS template using "ê". */
function planFolder(count: number): string {
  const cwd = workdir(crowd(count));
  cpSync(join(ROOT, 'templates'), join(cwd, 'templates'), { recursive: true });
  writeFileSync(join(cwd, 'templates/drill/sms.en.hbs'), 'Drill for {{company}}: nothing is down, this is only a rehearsal — fête.\n');
  return cwd;
}

describe('blast radius of a dry run', () => {
  it('shows ETA per channel, cost by country and the UCS-2 culprit, in the first screen and in --json', async () => {
    const cwd = planFolder(2000);
    writeFileSync(join(cwd, 'prices.yaml'), 'currency: EUR\nsms:\n  FR: 0.10\n  default: 0.05\n');
    const result = await runCli(['drill', '--dry-run', '--json'], { cwd });
    expect(result.code).toBe(0);
    const firstScreen = result.stderr.split('\n').slice(0, 30).join('\n');
    expect(firstScreen).toMatch(/sms\s+2,000 messages at 1\/s ≈ 33 min/);
    expect(firstScreen).toMatch(/whole run ≈ 33 min \(sms is the slowest\)/);
    expect(firstScreen).toMatch(/cost ≈ €\d+\.\d\d \(prices\.yaml\)/);
    expect(firstScreen).toMatch(/templates\/drill\/sms\.en\.hbs: '—' in 'rehearsal — fête\.' forces UCS-2: 3,000 segments instead of 1,500 for 1,500 people, \+€150\.00/);
    expect(result.stderr).toMatch(/at the providers' limits this run takes about 33 min \(sms is the slowest\), over 15 min/);

    const { blastRadius } = JSON.parse(result.stdout);
    const sms = blastRadius.eta.channels.find((c: { channel: string }) => c.channel === 'sms');
    expect(sms).toMatchObject({ messages: 2000, perSecond: 1, seconds: 1999.25 }); // 1,999 paces of 1 s, then one send
    // English speakers (3 in 4) get the UCS-2 template: 2 segments instead of 1 each, at 0.10 € in France.
    const culprit = blastRadius.ucs2[0];
    expect(culprit).toMatchObject({ template: expect.stringContaining('drill/sms.en.hbs'), char: '—', people: 1500, segments: 3000, gsmSegments: 1500, extra: 150 });
    expect(blastRadius.cost.currency).toBe('EUR');
    expect(blastRadius.cost.countries[0]).toMatchObject({ country: 'FR', channel: 'sms', messages: 2000 });
    expect(blastRadius.cost.total).toBeCloseTo(blastRadius.cost.countries.reduce((n: number, c: { amount: number }) => n + c.amount, 0), 2);
  });

  it('counts the extra segments a character costs, with their price', async () => {
    const cwd = planFolder(40);
    writeFileSync(join(cwd, 'prices.yaml'), 'currency: EUR\nsms:\n  default: 0.10\n');
    // 100 GSM characters and one "ê": 1 segment as GSM-7, 2 as UCS-2.
    writeFileSync(join(cwd, 'templates/drill/sms.en.hbs'), `${'x'.repeat(100)} prêt\n`);
    const result = await runCli(['drill', '--dry-run', '--json', '--channels', 'sms'], { cwd });
    const culprit = JSON.parse(result.stdout).blastRadius.ucs2[0];
    expect(culprit).toMatchObject({ char: 'ê', word: 'prêt', people: 30, segments: 60, gsmSegments: 30, extra: 3 });
    expect(result.stderr).toMatch(/'ê' in 'prêt' forces UCS-2: 60 segments instead of 30 for 30 people, \+€3\.00/);
  });

  it('says what earlier runs make unusual: a group that shrank, a run never finished', async () => {
    const cwd = planFolder(10);
    mkdirSync(join(cwd, '.notify/runs'), { recursive: true });
    const earlier = { at: '2026-11-20T10:00:00.000Z', kind: 'run', runId: '2026-11-20-1000-drill-abcd', scenario: 'drill', dryRun: false, contactsFile: 'contacts.csv', templatesDir: 'templates', channels: ['sms'], strategy: 'all', variables: {}, groupSizes: { staff: 20, 'crisis-team': 10 } };
    writeFileSync(join(cwd, '.notify/runs/2026-11-20-1000-drill-abcd.jsonl'), `${JSON.stringify(earlier)}\n`);
    const result = await runCli(['drill', '--dry-run', '--json'], { cwd });
    const warnings = JSON.parse(result.stdout).blastRadius.warnings.map((w: { message: string }) => w.message);
    expect(warnings).toContainEqual(expect.stringMatching(/group "staff" has 10 people, down from 20 at the last live run \(2026-11-20-1000-drill-abcd\)/));
    expect(warnings).toContainEqual(expect.stringMatching(/never finished: .*notify resume 2026-11-20-1000-drill-abcd/));
    expect(warnings.join('\n')).not.toMatch(/crisis-team/); // same size as before
  });

  it('notify check gives each scenario its ETA and cost, and a bad prices file is one sentence', async () => {
    const cwd = planFolder(5);
    const ok = await runCli(['check', '--json'], { cwd });
    const drill = JSON.parse(ok.stdout).scenarios.find((s: { name: string }) => s.name === 'drill');
    expect(drill.blastRadius.eta.seconds).toBeGreaterThan(0);
    expect(drill.blastRadius.cost.source).toMatch(/example prices shipped with crisis-notify/);
    writeFileSync(join(cwd, 'prices.yaml'), 'currency: EUR\nsms:\n  FR: cheap\n');
    const bad = await runCli(['check'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/prices\.yaml: sms\.FR .*write prices like/);
  });
});

describe('the ETA against a real rate-limited send', () => {
  let fakes: Awaited<ReturnType<typeof startAllFakes>>;
  beforeAll(async () => {
    fakes = await startAllFakes();
  });
  afterAll(() => fakes.close());

  it('--live-prices reads Twilio\'s Pricing API for SMS and calls, then its cache under .notify/', async () => {
    const cwd = planFolder(8);
    const args = ['drill', '--dry-run', '--json', '--live-prices', '--channels', 'sms,voice'];
    const pricing = () => fakes.sms.http.requests.filter((r) => r.path.startsWith('/v1/')).length;
    const before = pricing();
    const first = await runCli(args, { cwd, env: baseEnv(fakes.env) });
    expect(first.code, first.stderr).toBe(0);
    const { cost } = JSON.parse(first.stdout).blastRadius;
    expect(cost).toMatchObject({ currency: 'USD', source: expect.stringMatching(/live prices from the providers/) });
    const sms = cost.countries.find((c: { channel: string }) => c.channel === 'sms');
    expect(sms).toMatchObject({ country: 'FR', messages: 8 });
    expect(sms.amount).toBeCloseTo(sms.units * 0.0831, 2); // the dearest French carrier
    const calls = cost.countries.find((c: { channel: string }) => c.channel === 'voice');
    expect(calls.amount).toBeCloseTo(calls.units * 0.031, 2);
    expect(pricing()).toBe(before + 2); // one country, two price lists

    const again = await runCli(args, { cwd, env: baseEnv(fakes.env) });
    expect(JSON.parse(again.stdout).blastRadius.cost.total).toBe(cost.total);
    expect(pricing()).toBe(before + 2); // from the cache

    const without = await runCli(args, { cwd: planFolder(2) });
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/--live-prices reads sms prices from the provider, which needs TWILIO_ACCOUNT_SID/);
  });

  it('the estimate is what the rate allows: the send cannot beat it (the ±10 % check is in npm run bench)', async () => {
    const list = contactsCsv(crowd(11).map((p) => ({ name: p.name, phone: p.phone, locale: 'en' })));
    const [dryDir, cwd] = [tempDir(), tempDir()];
    for (const dir of [dryDir, cwd]) writeFileSync(join(dir, 'contacts.csv'), list);
    const dry = await runCli(['drill', '--dry-run', '--json', '--rate', 'sms=5', '--channels', 'sms'], { cwd: dryDir });
    const estimate = JSON.parse(dry.stdout).blastRadius.eta.seconds;
    expect(estimate).toBeCloseTo(10 / 5 + 0.25, 5); // 10 paces of 200 ms after the first, then one send
    const live = await runCli(['drill', '--yes', '--rate', 'sms=5', '--channels', 'sms'], { cwd, env: baseEnv(fakes.env) });
    expect(live.code).toBe(0);
    const times = journal(cwd).filter((e) => e.kind === 'attempting').map((e) => Date.parse(e.at));
    const span = (Math.max(...times) - Math.min(...times)) / 1000;
    expect(span).toBeGreaterThanOrEqual((10 / 5) * 0.99); // 10 intervals of 200 ms at least: the estimate is not optimistic
  });
});
