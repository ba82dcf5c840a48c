/**
 * `npm run bench -- --only resume` (issue 16): a live send of N contacts × 4 channels,
 * rates off, against the loopback fakes, killed with SIGKILL once the fakes have received
 * half of the planned messages; then `notify resume <run-id>`, and a check of resume's
 * promises from the providers' side:
 * - every planned message reached its fake at least once (nothing missing);
 * - a message the fakes received twice was flagged "may be duplicated" (in resume's --json
 *   and in `notify report --json` of the final journal): an unflagged duplicate is a MISS;
 * - duplicates are at most what could be in flight at the kill (Σ per-channel concurrency);
 * - `notify report` of the final journal exits 0.
 * With wall time and peak RSS of the killed send and of the resume.
 *
 * A message is recognised at its fake by its recipient: every bench contact has its own
 * phone, email, Slack member id and Telegram chat id (bench/contacts.ts). The fakes are
 * told to count, not keep: 400,000 messages and 300,000 recorded HTTP requests would
 * otherwise hold gigabytes in this process. The Twilio fake honours the idempotency token
 * (a repeated token sends nothing new), so an SMS re-sent by resume shows up as a second
 * request, not a second message: both are counted.
 *
 * Size: `--contacts N` after `--only resume`, or BENCH_RESUME_CONTACTS (default 100,000).
 * Not part of the default bench: 400,000 live messages take several minutes on 2 cores.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startAllFakes } from '../test/helpers/fakes.js';
import type { RecordedRequest } from '../test/fakes/http-fake.js';
import type { Received } from '../test/fakes/provider.js';
import { contactsCsv, MAX_CONTACTS, phoneFor } from './contacts.js';
import { baseEnv, now, runCli, type Run } from './process.js';

const CHANNELS = ['sms', 'email', 'slack', 'telegram'] as const;
type ChannelName = (typeof CHANNELS)[number];

/** The channels' default concurrency (src/channels/*.ts `defaults`), which the send and the resume keep. */
const DEFAULT_CONCURRENCY: Record<ChannelName, number> = { sms: 4, email: 3, slack: 2, telegram: 8 };
const KILL_AT = 0.5;
/** Past this, the first send is killed wherever it stands (and the bench says how far it got). */
const SEND_LIMIT_MS = Number(process.env.BENCH_RESUME_LIMIT_MIN ?? 30) * 60_000;
const RESUME_LIMIT_MS = SEND_LIMIT_MS;

export type ResumeRowFn = (section: string, measure: string, value: string, baseline?: string, ratio?: number, target?: { text: string; ok: boolean }) => void;

export interface ResumeBenchOptions {
  /** A folder for this run (contacts, the CLI's working directory). */
  dir: string;
  row: ResumeRowFn;
  log(text: string): void;
  contacts?: number;
}

export function resumeContacts(argv = process.argv): number {
  const flag = argv.indexOf('--contacts');
  const raw = flag >= 0 ? argv[flag + 1] : process.env.BENCH_RESUME_CONTACTS;
  const n = raw === undefined ? 100_000 : Number(raw.replace(/[,_]/g, ''));
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONTACTS) throw new Error(`resume bench: contacts "${raw}" must be a whole number from 1 to ${MAX_CONTACTS}`);
  return n;
}

/** Counts per channel and recipient, as the fakes see them. */
class Tally {
  /** Messages a fake accepted, per recipient. */
  readonly received = new Map<ChannelName, Map<string, number>>(CHANNELS.map((c) => [c, new Map()]));
  /** Send requests an HTTP fake saw, per recipient (a deduplicated SMS is a request, not a message). */
  readonly requests = new Map<ChannelName, Map<string, number>>(CHANNELS.map((c) => [c, new Map()]));
  total = 0;
  onMessage?: (total: number) => void;

  add(map: Map<string, number>, to: string): void {
    map.set(to, (map.get(to) ?? 0) + 1);
  }

  /** Snapshot of the received counts (to tell the first send's messages from resume's). */
  snapshot(): Map<ChannelName, Map<string, number>> {
    return new Map([...this.received].map(([c, m]) => [c, new Map(m)]));
  }
}

type Fakes = Awaited<ReturnType<typeof startAllFakes>>;

/** The recipient a send request is for, per HTTP fake; undefined for any other request. */
const requestTo: Record<'sms' | 'slack' | 'telegram', (r: RecordedRequest) => string | undefined> = {
  sms: (r) => (r.method === 'POST' && r.path.endsWith('/Messages.json') ? r.body.To : undefined),
  slack: (r) => (r.path === '/api/chat.postMessage' ? r.body.channel : undefined),
  telegram: (r) => (/\/sendMessage$/.test(r.path) ? r.body.chat_id : undefined),
};

/** Make the fakes count into `tally` instead of keeping every message and request. */
function countInto(fakes: Fakes, tally: Tally): void {
  for (const c of CHANNELS) {
    const received = tally.received.get(c)!;
    // The fakes call messages.push() as they accept a message (as bench/spans.ts Arrivals relies on).
    fakes[c].messages.push = (...items: Received[]) => {
      for (const item of items) {
        tally.add(received, item.to);
        tally.total += 1;
        tally.onMessage?.(tally.total);
      }
      return 0;
    };
  }
  for (const c of ['sms', 'slack', 'telegram'] as const) {
    const requests = tally.requests.get(c)!;
    fakes[c].http.requests.push = (...items: RecordedRequest[]) => {
      for (const item of items) {
        const to = requestTo[c](item);
        if (to !== undefined) tally.add(requests, to);
      }
      return 0;
    };
  }
}

/** Each planned recipient per channel → the contact's name (what `mayBeDuplicated` names). */
function plannedRecipients(n: number): Map<ChannelName, Map<string, string>> {
  const out = new Map<ChannelName, Map<string, string>>(CHANNELS.map((c) => [c, new Map()]));
  for (let i = 0; i < n; i++) {
    const name = `Person ${i}`;
    out.get('sms')!.set(phoneFor(i), name);
    out.get('email')!.set(`person${i}@example.com`, name);
    out.get('slack')!.set(`U${(1_000_000 + i).toString(36).toUpperCase()}`, name);
    out.get('telegram')!.set(String(100_000_000 + i), name);
  }
  return out;
}

/** Peak RSS (VmHWM) and CPU so far of a live process, from /proc: a SIGKILLed process writes no usage file. */
function procUsage(pid: number | undefined): { maxRssKb: number; cpuMs: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    // Fields 14 and 15 of /proc/<pid>/stat (after the command in parentheses): user and system ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { maxRssKb: hwm ? Number(hwm[1]) : NaN, cpuMs: ticks * 10 }; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

interface ResumeResult {
  unknown?: number;
  left?: number;
}

const fmt = {
  n: (n: number) => n.toLocaleString('en-US'),
  s: (ms: number) => `${(ms / 1000).toFixed(1)} s`,
  mb: (kb: number | undefined) => (kb === undefined || !Number.isFinite(kb) ? '?' : `${(kb / 1024).toFixed(0)} MB`),
  pct: (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`,
};

export async function resumeBench(options: ResumeBenchOptions): Promise<Record<string, unknown>> {
  const { dir, row, log } = options;
  const contacts = options.contacts ?? resumeContacts();
  const planned = contacts * CHANNELS.length;
  const killAt = Math.ceil(planned * KILL_AT);
  const name = `Resume after kill -9 at ${KILL_AT * 100} %: ${fmt.n(contacts)} contacts × 4, rate off`;
  const list = join(dir, `contacts-${contacts}.csv`);
  writeFileSync(list, contactsCsv(contacts));
  const recipients = plannedRecipients(contacts);
  const inFlightBound = CHANNELS.reduce((n, c) => n + DEFAULT_CONCURRENCY[c], 0);

  const fakes = await startAllFakes();
  const tally = new Tally();
  countInto(fakes, tally);
  const env = baseEnv(fakes.env);
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  try {
    // ── 1. the live send, killed at half ────────────────────────────────────────────
    log(`resume: live send of ${fmt.n(contacts)} contacts (${fmt.n(planned)} messages), SIGKILL once the fakes have ${fmt.n(killAt)}`);
    let child: ChildProcess | undefined;
    let killedAtMs: number | undefined;
    let atKill: { received: number; usage?: { maxRssKb: number; cpuMs: number } } | undefined;
    let firstMessageMs: number | undefined;
    let lastProgress = now();
    let lastUsage: { maxRssKb: number; cpuMs: number } | undefined;
    const kill = (why: string) => {
      if (!child || killedAtMs !== undefined) return;
      atKill = { received: tally.total, usage: procUsage(child.pid) ?? lastUsage };
      killedAtMs = now();
      child.kill('SIGKILL');
      log(`resume: SIGKILL (${why}) with ${fmt.n(tally.total)} of ${fmt.n(planned)} messages at the fakes`);
    };
    tally.onMessage = (total) => {
      firstMessageMs ??= now();
      if (total >= killAt) kill(`${KILL_AT * 100} % received`);
    };
    let sampler: NodeJS.Timeout | undefined;
    const sendRun: Run = await runCli(
      ['outage', '--yes', '--expect-count', String(contacts), '--json', '--var', 'eta=14:00', '--contacts', list, '--rate', 'all=off'],
      {
        cwd, env, usage: true,
        onSpawn: (c) => {
          child = c;
          const spawned = now();
          sampler = setInterval(() => {
            // Sampled now and then too, in case /proc cannot be read at the very moment of the kill.
            lastUsage = procUsage(c.pid) ?? lastUsage;
            if (now() - lastProgress >= 15_000) {
              lastProgress = now();
              const secs = (now() - (firstMessageMs ?? now())) / 1000;
              log(`resume: send running ${fmt.s(now() - spawned)}: ${fmt.n(tally.total)} received (${fmt.pct(tally.total, planned)}), ${secs > 0 ? (tally.total / secs).toFixed(0) : '0'} msg/s since the first, RSS peak ${fmt.mb(lastUsage?.maxRssKb)} (bench with fakes: ${fmt.mb(process.memoryUsage().rss / 1024)})`);
            }
            if (now() - spawned > SEND_LIMIT_MS) kill(`time limit of ${SEND_LIMIT_MS / 60_000} min`);
          }, 250);
        },
      },
    );
    clearInterval(sampler);
    tally.onMessage = undefined;
    const afterSend = tally.snapshot();
    const receivedBySend = tally.total;
    if (killedAtMs === undefined) throw new Error(`the send ended by itself (exit ${sendRun.code}) before the fakes had ${fmt.n(killAt)} messages (they have ${fmt.n(tally.total)})\n${sendRun.stderr.slice(-1500)}`);
    if (sendRun.code !== null || sendRun.timedOut) log(`resume: unexpected end of the send: code ${sendRun.code}, signal expected`);
    const runsDir = join(cwd, '.notify', 'runs');
    const journals = readdirSync(runsDir).filter((f) => f.endsWith('.jsonl'));
    if (journals.length !== 1) throw new Error(`expected one journal in ${runsDir}, found: ${journals.join(', ') || 'none'}`);
    const runId = journals[0]!.slice(0, -'.jsonl'.length);
    const sendUsage = atKill?.usage;
    log(`resume: send killed after ${fmt.s(sendRun.wallMs)} (run ${runId}); ${fmt.n(atKill!.received)} at the kill, ${fmt.n(receivedBySend)} once it was gone`);

    // ── 2. notify resume ────────────────────────────────────────────────────────────
    log(`resume: notify resume ${runId} --rate all=off`);
    const resumeStart = tally.total;
    let resumeProgress: NodeJS.Timeout | undefined;
    const resumeRun = await runCli(['resume', runId, '--yes', '--json', '--rate', 'all=off'], {
      cwd, env, usage: true, timeoutMs: RESUME_LIMIT_MS,
      onSpawn: (c) => {
        const spawned = now();
        resumeProgress = setInterval(() => log(`resume: resume running ${fmt.s(now() - spawned)}: ${fmt.n(tally.total - resumeStart)} received, RSS peak ${fmt.mb(procUsage(c.pid)?.maxRssKb)} (bench with fakes: ${fmt.mb(process.memoryUsage().rss / 1024)})`), 15_000);
      },
    });
    clearInterval(resumeProgress);
    const receivedByResume = tally.total - resumeStart;
    const left = /Resuming \S+: ([\d,]+) message\(s\) left(?:, ([\d,]+) of them with an unknown outcome)?/.exec(resumeRun.stderr);
    const said: ResumeResult = left ? { left: Number(left[1]!.replace(/,/g, '')), unknown: Number((left[2] ?? '0').replace(/,/g, '')) } : {};
    let resumeJson: { mayBeDuplicated?: { contact: string; channel: string }[] } = {};
    try {
      resumeJson = JSON.parse(resumeRun.stdout);
    } catch {
      log(`resume: resume printed no JSON (exit ${resumeRun.code}):\n${resumeRun.stderr.slice(-1500)}`);
    }
    log(`resume: exit ${resumeRun.code} after ${fmt.s(resumeRun.wallMs)}, ${fmt.n(receivedByResume)} received; it said ${said.left ?? '?'} left, ${said.unknown ?? '?'} unknown`);

    // ── 3. notify report of the final journal ──────────────────────────────────────
    const reportRun = await runCli(['report', runId, '--json'], { cwd, env, usage: true, timeoutMs: RESUME_LIMIT_MS });
    type Report = { complete: boolean; channels: Record<string, { planned: number; delivered: number; failed: number; pending: number; skipped: number }>; mayBeDuplicated: { contact: string; channel: string }[]; failures: unknown[] };
    let report: Report | undefined;
    try {
      report = JSON.parse(reportRun.stdout) as Report;
    } catch {
      log(`resume: notify report printed no JSON (exit ${reportRun.code}):\n${reportRun.stderr.slice(-1500)}`);
    }

    // ── 4. the promises, from the fakes' side ──────────────────────────────────────
    const key = (channel: string, contact: string) => `${channel}\t${contact}`;
    const flaggedByReport = new Set((report?.mayBeDuplicated ?? []).map((d) => key(d.channel, d.contact)));
    const flaggedByResume = new Set((resumeJson.mayBeDuplicated ?? []).map((d) => key(d.channel, d.contact)));
    const missing: string[] = [];
    const duplicates: { channel: ChannelName; to: string; contact: string; times: number; bySend: number; flagged: boolean }[] = [];
    const resent: { channel: ChannelName; to: string; contact: string; requests: number; flagged: boolean }[] = [];
    const unplanned: string[] = [];
    const perChannel: Record<string, { planned: number; reached: number; bySend: number; duplicates: number; resentRequests: number }> = {};
    for (const c of CHANNELS) {
      const expected = recipients.get(c)!;
      const got = tally.received.get(c)!;
      const gotBySend = afterSend.get(c)!;
      const counts = { planned: expected.size, reached: 0, bySend: gotBySend.size, duplicates: 0, resentRequests: 0 };
      for (const [to, contact] of expected) {
        const times = got.get(to) ?? 0;
        if (times === 0) missing.push(`${c} ${to} (${contact})`);
        else counts.reached += 1;
        if (times > 1) {
          counts.duplicates += 1;
          duplicates.push({ channel: c, to, contact, times, bySend: gotBySend.get(to) ?? 0, flagged: flaggedByReport.has(key(c, contact)) && flaggedByResume.has(key(c, contact)) });
        }
        const requests = tally.requests.get(c)!.get(to) ?? 0;
        if (requests > 1 && times <= 1) {
          counts.resentRequests += 1;
          resent.push({ channel: c, to, contact, requests, flagged: flaggedByReport.has(key(c, contact)) && flaggedByResume.has(key(c, contact)) });
        }
      }
      for (const to of got.keys()) if (!expected.has(to)) unplanned.push(`${c} ${to}`);
      perChannel[c] = counts;
    }
    const unflagged = duplicates.filter((d) => !d.flagged);
    const resentUnflagged = resent.filter((d) => !d.flagged);

    // ── rows ─────────────────────────────────────────────────────────────────────────
    const ok = (b: boolean, text: string) => ({ text, ok: b });
    row(name, 'messages planned', fmt.n(planned));
    row(name, 'send: received by the fakes before the kill', `${fmt.n(atKill!.received)} (${fmt.pct(atKill!.received, planned)}); ${fmt.n(receivedBySend)} once the process was gone`);
    row(name, 'send: wall (spawn → killed), peak RSS at the kill', `${fmt.s(sendRun.wallMs)}, ${fmt.mb(sendUsage?.maxRssKb)}`, firstMessageMs ? `first message ${fmt.s(firstMessageMs - sendRun.spawnedAtMs)} after spawn` : '');
    row(name, 'send: messages per second (first message → kill)', firstMessageMs && killedAtMs ? `${((atKill!.received * 1000) / (killedAtMs - firstMessageMs)).toFixed(0)} msg/s` : '?',
      '', undefined, ok(killedAtMs !== undefined && atKill!.received >= killAt, `${KILL_AT * 100} % reached within ${SEND_LIMIT_MS / 60_000} min`));
    row(name, 'resume: left / unknown outcome (its own count)', `${said.left === undefined ? '?' : fmt.n(said.left)} / ${said.unknown ?? '?'}`, `${fmt.n(planned - receivedBySend)} not yet at the fakes`);
    row(name, 'resume: wall, peak RSS, exit', `${fmt.s(resumeRun.wallMs)}, ${fmt.mb(resumeRun.usage?.maxRssKb)}, exit ${resumeRun.code}`, `${fmt.n(receivedByResume)} received`, undefined, ok(resumeRun.code === 0, 'exit 0'));
    row(name, 'nothing planned missing at the fakes', `${fmt.n(missing.length)} missing`, '', undefined, ok(missing.length === 0, '0'));
    row(name, 'received twice, each flagged "may be duplicated"', `${duplicates.length} duplicate(s), ${unflagged.length} not flagged`, `${flaggedByReport.size} flagged by report, ${flaggedByResume.size} by resume`, undefined, ok(unflagged.length === 0, 'all flagged'));
    row(name, 'SMS re-sent, deduplicated by the idempotency token, flagged', `${resent.length} re-sent, ${resentUnflagged.length} not flagged`, '', undefined, ok(resentUnflagged.length === 0, 'all flagged'));
    row(name, 'duplicates ≤ in flight at the kill', `${duplicates.length + resent.length}`, `Σ concurrency ${inFlightBound}`, undefined, ok(duplicates.length + resent.length <= inFlightBound, `≤ ${inFlightBound}`));
    row(name, 'flagged ≤ in flight at the kill', `${flaggedByReport.size}`, `Σ concurrency ${inFlightBound}`, undefined, ok(flaggedByReport.size <= inFlightBound, `≤ ${inFlightBound}`));
    row(name, 'nothing unplanned at the fakes', `${unplanned.length}`, '', undefined, ok(unplanned.length === 0, '0'));
    const reportOk = reportRun.code === 0 && report?.complete === true && CHANNELS.every((c) => report!.channels[c]?.delivered === contacts && report!.channels[c]?.pending === 0);
    row(name, 'notify report of the final journal', `exit ${reportRun.code}, ${report?.complete ? 'complete' : 'NOT complete'}, ${fmt.s(reportRun.wallMs)}, ${fmt.mb(reportRun.usage?.maxRssKb)}`,
      CHANNELS.map((c) => `${c} ${report?.channels[c]?.delivered ?? '?'}/${report?.channels[c]?.planned ?? '?'}`).join(' '), undefined, ok(reportOk, 'exit 0, all delivered'));

    for (const d of [...unflagged, ...resentUnflagged].slice(0, 20)) log(`resume: NOT FLAGGED: ${d.channel} ${d.to} (${d.contact}) ${'times' in d ? `received ${d.times}×` : `${d.requests} requests`}`);
    for (const m of missing.slice(0, 20)) log(`resume: MISSING: ${m}`);
    for (const u of unplanned.slice(0, 20)) log(`resume: UNPLANNED: ${u}`);
    return {
      contacts, planned, killAt, runId, inFlightBound,
      send: { wallMs: sendRun.wallMs, peakRssKb: sendUsage?.maxRssKb, cpuMs: sendUsage?.cpuMs, firstMessageAfterSpawnMs: firstMessageMs && firstMessageMs - sendRun.spawnedAtMs, killedAfterSpawnMs: killedAtMs - sendRun.spawnedAtMs, receivedAtKill: atKill!.received, receivedBeforeExit: receivedBySend, exit: sendRun.code },
      resume: { wallMs: resumeRun.wallMs, peakRssKb: resumeRun.usage?.maxRssKb, cpuMs: resumeRun.usage && (resumeRun.usage.userCpuUs + resumeRun.usage.systemCpuUs) / 1000, exit: resumeRun.code, received: receivedByResume, ...said },
      report: { exit: reportRun.code, wallMs: reportRun.wallMs, peakRssKb: reportRun.usage?.maxRssKb, complete: report?.complete, channels: report?.channels },
      perChannel, missing: missing.length, duplicates, resentDeduplicated: resent, unflagged: unflagged.length + resentUnflagged.length,
      flaggedByReport: flaggedByReport.size, flaggedByResume: flaggedByResume.size, unplanned: unplanned.length,
    };
  } finally {
    await fakes.close();
  }
}
