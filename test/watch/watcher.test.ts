/**
 * The watcher end to end, in process, on a fake clock: local HTTP servers that go down and
 * come back, a DNS name that points nowhere (`.invalid`), and every message sent through
 * the real send path to the four loopback fakes. No test sleeps: the clock moves by hand.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planSender, Watcher, type RoundReport, type Sender } from '../../src/commands/watch.js';
import { parseWatchConfig } from '../../src/core/watch/config.js';
import { createOutput } from '../../src/output.js';
import { SHIPPED_TEMPLATES } from '../../src/paths.js';
import { contactsCsv, e164, phone, type Person } from '../delivery/helpers.js';
import { tempDir } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import { FakeClock } from './fake-clock.js';

type Mode = 'up' | 'down' | 'hang';
interface Site { url: string; mode: Mode; requests: number; server: Server; hanging: ServerResponse[] }

/** A service endpoint the test switches between up (200 + Statuspage-like JSON), down (503) and hanging. */
async function startSite(): Promise<Site> {
  const site = { mode: 'up' as Mode, requests: 0, hanging: [] as ServerResponse[] } as Site;
  site.server = createServer((_req, res) => {
    site.requests += 1;
    if (site.mode === 'hang') return void site.hanging.push(res);
    res.writeHead(site.mode === 'up' ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: { indicator: site.mode === 'up' ? 'none' : 'major' } }));
  });
  await new Promise<void>((r) => site.server.listen(0, '127.0.0.1', r));
  site.url = `http://127.0.0.1:${(site.server.address() as AddressInfo).port}`;
  return site;
}

const TEAM: Person[] = [
  { name: 'Alice Martin', groups: 'staff|crisis-team', phone: phone(1), email: 'alice@example.com', slack: 'U0ALICE01', telegram: '100001', locale: 'en' },
  { name: 'Bruno Petit', groups: 'staff|crisis-team', phone: phone(2), email: 'bruno@example.com', telegram: '100002', locale: 'fr' },
];
const OTHERS: Person[] = [
  { name: 'Carol Staff', groups: 'staff', phone: phone(3), email: 'carol@example.com', slack: 'U0CAROL01', telegram: '100003', locale: 'en' },
  { name: 'Dan Client', groups: 'vip', phone: phone(4), email: 'dan@example.com', locale: 'fr' },
];
/** Every address of the crisis team, as the fakes see them: the only ones that may receive anything. */
const TEAM_ADDRESSES = [
  `sms:${e164(1)}`, `sms:${e164(2)}`, 'email:alice@example.com', 'email:bruno@example.com', 'slack:U0ALICE01', 'telegram:100001', 'telegram:100002',
].sort();

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
let web: Site;
let status: Site;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

beforeAll(async () => {
  [fakes, web, status] = await Promise.all([startAllFakes(), startSite(), startSite()]);
  for (const key of ['CI', 'NOTIFY_CONTACTS', 'NOTIFY_TEMPLATES']) delete process.env[key];
  // Group targets are set on purpose: a team alert must not reach them.
  Object.assign(process.env, fakes.env, { NO_COLOR: '1', SLACK_CHANNEL: '#all-hands', TELEGRAM_CHAT_ID: '-100999' });
});
afterAll(async () => {
  process.chdir(savedCwd);
  process.env = savedEnv;
  for (const site of [web, status]) {
    for (const res of site.hanging) res.destroy();
    site.server.closeAllConnections();
    await new Promise((r) => site.server.close(r));
  }
  await fakes.close();
});

let cwd: string;
let clock: FakeClock;
const T0 = Date.parse('2026-11-25T09:00:00Z');
beforeEach(() => {
  for (const [, fake] of fakes.all) fake.messages.length = 0;
  web.mode = status.mode = 'up';
  cwd = tempDir('notify-watch-');
  writeFileSync(join(cwd, 'contacts.csv'), contactsCsv([...TEAM, ...OTHERS]));
  process.chdir(cwd); // send() journals under the working directory, like the CLI
  clock = new FakeClock(T0);
});

const TWO_SITES = [`{ name: web, http: "${'WEB'}" }`, `{ name: status page, http: "STATUS/api/v2/status.json", json: { path: status.indicator, equals: none } }`];
function watcher(probes = TWO_SITES, sender: Sender = planSender({ rate: ['all=off'] }, createOutput({ ci: false }))): Watcher {
  const yaml = `interval: 1m\ntimeout: 5s\nprobes:\n${probes.map((p) => `  - ${p.replace('WEB', `${web.url}/`).replace('STATUS', status.url)}`).join('\n')}\n`;
  return new Watcher({ config: parseWatchConfig(yaml, 'watch.yaml'), clock, sender, service: 'WhatsApp', cwd, templatesDir: SHIPPED_TEMPLATES });
}

/** One round per entry (web and status modes), a minute apart. */
async function play(w: Watcher, rounds: [Mode, Mode][]): Promise<RoundReport[]> {
  const reports: RoundReport[] = [];
  for (const [webMode, statusMode] of rounds) {
    web.mode = webMode;
    status.mode = statusMode;
    reports.push(await w.round());
    clock.advance(60_000);
  }
  return reports;
}

/** `channel:address` of every message the fakes received, with the text, since the test began. */
function received(): { to: string; text: string }[] {
  return fakes.all.flatMap(([channel, fake]) => fake.messages.map((m) => ({ to: `${channel}:${m.to}`, text: `${m.subject ?? ''}\n${m.text}` })));
}
const runsOf = (scenario: string) => readdirSync(join(cwd, '.notify/runs')).filter((f) => f.includes(`-${scenario}-`) && f.endsWith('.jsonl')); // journals, not their message stores

describe('notify watch decides with hysteresis and tells the crisis team only', () => {
  it('one flaky probe (a DNS name pointing nowhere) alerts nobody', async () => {
    const w = watcher([...TWO_SITES, '{ name: dns, dns: watch-test.crisis-notify.invalid }']);
    const reports = await play(w, Array.from({ length: 6 }, () => ['up', 'up'] as [Mode, Mode]));
    expect(reports.map((r) => r.probes.find((p) => p.name === 'dns')!.ok)).toEqual([false, false, false, false, false, false]);
    expect(reports.at(-1)!.probes.find((p) => p.name === 'dns')!.detail).toMatch(/cannot resolve watch-test\.crisis-notify\.invalid/);
    expect(reports.every((r) => r.status === 'up' && r.actions.length === 0)).toBe(true);
    expect(reports.at(-1)!.explanation).toContain('1 of 3 probes failed (dns); that alone does not count');
    expect(received()).toEqual([]);
  });

  it('a crisis team above the typed-confirmation threshold is alerted all the same: watch.yaml approved the send', async () => {
    const big: Person[] = Array.from({ length: 60 }, (_, i) => ({ name: `Team ${i}`, groups: 'crisis-team', phone: phone(500 + i), locale: 'en' }));
    writeFileSync(join(cwd, 'contacts.csv'), contactsCsv(big));
    const down = await play(watcher(), [['down', 'down'], ['down', 'down'], ['down', 'down']]);
    expect(down[2]!.actions[0]).toMatchObject({ kind: 'alert', started: true, exitCode: 0 });
    expect(received().filter((m) => m.to.startsWith('sms:'))).toHaveLength(60);
  });

  it('two probes failing 3 rounds of 4 alert the crisis team exactly once; 3 clean rounds send one "back up" message', async () => {
    const w = watcher();
    const down = await play(w, [['down', 'down'], ['down', 'down'], ['up', 'down'], ['down', 'down'], ['down', 'down'], ['down', 'down']]);
    expect(down.map((r) => r.change)).toEqual([null, null, null, 'down', null, null]);
    expect(down.map((r) => r.actions.length)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(down[3]!.actions[0]).toMatchObject({ kind: 'alert', scenario: 'alert-team', group: 'crisis-team', started: true, exitCode: 0 });
    expect(down[3]!.explanation).toMatch(/3 failed rounds of the last 4 \(the limit is 3 of 4\): WhatsApp looks DOWN since/);
    expect(down[2]!.explanation).toContain('1 of 2 probes failed (status page); that alone does not count');

    const alerts = received();
    expect(alerts.map((m) => m.to).sort()).toEqual(TEAM_ADDRESSES); // each team address once; nobody else, no group target
    expect(alerts.every((m) => /WhatsApp (looks down|semble en panne)/.test(m.text))).toBe(true);
    expect(alerts.find((m) => m.to === 'email:alice@example.com')!.text).toMatch(/web: HTTP 503 .*; status page: HTTP 503/);
    expect(runsOf('alert-team')).toHaveLength(1); // journaled like any send

    // A failed round restarts the count; one probe failing alone (round 5) does not.
    const back = await play(w, [['up', 'up'], ['down', 'down'], ['up', 'up'], ['up', 'up'], ['up', 'down'], ['up', 'up'], ['up', 'up']]);
    expect(back.map((r) => r.change)).toEqual([null, null, null, null, 'up', null, null]);
    expect(back[4]!.actions).toMatchObject([{ kind: 'recovered', scenario: 'alert-team-recovered', group: 'crisis-team', exitCode: 0 }]);
    expect(back[4]!.explanation).toContain('3 clean rounds in a row: WhatsApp looks back UP');
    expect(received()).toHaveLength(2 * TEAM_ADDRESSES.length);
    const recovered = received().filter((m) => /looks back up|semble r[eé]tabli/.test(m.text));
    expect(recovered.map((m) => m.to).sort()).toEqual(TEAM_ADDRESSES);
    expect(recovered.every((m) => m.text.includes('notify resolved'))).toBe(true);
    expect(received().map((m) => m.to).filter((to) => !TEAM_ADDRESSES.includes(to))).toEqual([]);
  });

  it('a restart in the middle keeps the counts', async () => {
    const sent: string[] = [];
    const record: Sender = async ({ scenario }) => (sent.push(scenario), { started: true, exitCode: 0 });
    await play(watcher(TWO_SITES, record), [['down', 'down'], ['down', 'down']]);
    const saved = JSON.parse(readFileSync(join(cwd, '.notify/watch/state.json'), 'utf8'));
    expect(saved.memory.window.map((r: { failed: boolean }) => r.failed)).toEqual([true, true]);

    const restarted = watcher(TWO_SITES, record); // a new process would read the same files
    const [third] = await play(restarted, [['down', 'down']]);
    expect(third!.round).toBe(3);
    expect(third!.change).toBe('down'); // without the saved window this would take two more rounds
    expect(sent).toEqual(['alert-team']);
    const history = readFileSync(join(cwd, '.notify/watch/history.jsonl'), 'utf8').trim().split('\n');
    expect(history.map((l) => JSON.parse(l).round)).toEqual([1, 2, 3]);
  });

  it('a plan refused before anything went out is tried again next round, not lost', async () => {
    let refuse = true;
    const sent: string[] = [];
    const flaky: Sender = async ({ scenario }) => {
      if (refuse) return { started: false, error: 'contacts.csv:3: phone "06 12" is not a valid number' };
      sent.push(scenario);
      return { started: true, exitCode: 0 };
    };
    const w = watcher(TWO_SITES, flaky);
    const first = await play(w, [['down', 'down'], ['down', 'down'], ['down', 'down']]);
    expect(first[2]!.actions).toMatchObject([{ kind: 'alert', started: false }]);
    expect(first[2]!.explanation).toContain('trying again next round');
    refuse = false;
    const [next, after] = await play(w, [['down', 'down'], ['down', 'down']]);
    expect(next!.actions).toMatchObject([{ kind: 'alert', started: true }]);
    expect(after!.actions).toEqual([]);
    expect(sent).toEqual(['alert-team']);
  });
});

describe('auto:', () => {
  it('sends only the named scenario to the named group, once per outage, after the team alert', async () => {
    const sent: string[] = [];
    const record: Sender = async ({ scenario, group, vars }) => (sent.push(`${scenario}→${group}${vars.eta ? ` eta=${vars.eta}` : ''}`), { started: true, exitCode: 0 });
    const yaml = `probes:\n  - { name: web, http: "${web.url}/" }\n  - { name: status, http: "${status.url}/" }\nauto: { scenario: outage, group: VIP, vars: { eta: soon } }\n`;
    const w = new Watcher({ config: parseWatchConfig(yaml, 'watch.yaml'), clock, sender: record, service: 'WhatsApp', cwd, templatesDir: SHIPPED_TEMPLATES });
    await play(w, [['down', 'down'], ['down', 'down'], ['down', 'down'], ['down', 'down']]);
    expect(sent).toEqual(['alert-team→crisis-team', 'outage→vip eta=soon']);
  });
});

describe('update cadence', () => {
  function journalRun(minutes: number, scenario: string, extra: object = {}) {
    const at = new Date(T0 + minutes * 60_000);
    const runId = `${at.toISOString().slice(0, 16).replace('T', '-').replace(':', '')}-${scenario}-${String(minutes).padStart(4, '0')}`;
    mkdirSync(join(cwd, '.notify/runs'), { recursive: true });
    const run = { at: at.toISOString(), kind: 'run', runId, scenario, dryRun: false, publish: true, contactsFile: 'contacts.csv', templatesDir: 'templates', channels: ['sms'], strategy: 'all', variables: {}, ...extra };
    writeFileSync(join(cwd, '.notify/runs', `${runId}.jsonl`), `${JSON.stringify(run)}\n${JSON.stringify({ at: run.at, kind: 'finished', interrupted: false })}\n`);
  }
  /** One round at `minutes` after T0; returns the kinds of the messages it sent. */
  async function roundAt(w: Watcher, minutes: number): Promise<RoundReport> {
    clock.set(T0 + minutes * 60_000);
    return w.round();
  }

  it('reminds the crisis team once per due time while an incident is open (update_every: 30m)', async () => {
    const w = watcher();
    journalRun(0, 'outage');
    const kinds = async (minutes: number) => (await roundAt(w, minutes)).actions.map((a) => a.kind).join(',');
    const early = await roundAt(w, 10);
    expect(early.incident).toMatchObject({ open: true, scenario: 'outage', nextDue: new Date(T0 + 30 * 60_000).toISOString() });
    expect(early.explanation).toMatch(/Incident open: last update to customers \d\d:\d\d \(outage\), next due \d\d:\d\d\./);
    expect(await kinds(30)).toBe('reminder');
    expect(await kinds(31)).toBe('');
    expect(await kinds(45)).toBe('');
    journalRun(50, 'update');
    journalRun(51, 'update', { dryRun: true }); // a dry run tells no customer
    expect(await kinds(79)).toBe('');
    expect(await kinds(80)).toBe('reminder');
    expect(await kinds(95)).toBe('');
    journalRun(100, 'resolved');
    expect(await kinds(200)).toBe('');
    expect((await roundAt(w, 201)).incident.open).toBe(false);

    const reminders = received();
    expect(reminders.map((m) => m.to).sort()).toEqual([...TEAM_ADDRESSES, ...TEAM_ADDRESSES].sort());
    expect(reminders.filter((m) => m.to === 'email:alice@example.com').map((m) => m.text.split('\n')[0])).toEqual([
      expect.stringMatching(/customer update due at \d\d:\d\d/), expect.stringMatching(/customer update due at \d\d:\d\d/),
    ]);
  });

  it('a reminder is not repeated after a restart', async () => {
    const sent: string[] = [];
    const record: Sender = async ({ scenario }) => (sent.push(scenario), { started: true, exitCode: 0 });
    journalRun(0, 'outage');
    await roundAt(watcher(TWO_SITES, record), 31);
    await roundAt(watcher(TWO_SITES, record), 32);
    expect(sent).toEqual(['alert-team-reminder']);
  });
});

describe('probes that hang', () => {
  it('are cut at their timeout (HTTP and command), and the round ends', async () => {
    web.mode = 'hang';
    const w = watcher([TWO_SITES[0]!, '{ name: script, command: "sleep 600" }'], async () => ({ started: true }));
    const round = w.round();
    while (web.requests === 0 || web.hanging.length === 0) await new Promise((r) => setImmediate(r));
    clock.advance(5_000);
    const report = await round;
    expect(report.probes.map((p) => [p.name, p.ok, p.detail])).toEqual([
      ['web', false, 'no answer within 5s (cut at its timeout)'],
      ['script', false, 'no answer within 5s (cut at its timeout)'],
    ]);
  });
});
