/**
 * `npm run bench`: fan-out speed, memory and start-up of the built CLI, each figure beside a
 * baseline measured in the same run (these machines are noisy: only ratios travel).
 *
 * Everything runs against the loopback fakes of test/fakes on 127.0.0.1, started here and
 * closed at the end; contact lists are generated into a temp dir. The CLI always runs as
 * users run it: `node bin/notify.js`, a subprocess. Baselines run in a subprocess too
 * (bench/raw-worker.ts), so the fakes, which live in this process, get the same CPU.
 * Prints a table on stdout (progress on stderr) and writes bench/results.json.
 *
 * The whole bench must end within 10 minutes on 2 cores: every child has a time limit, and
 * the optional second fan-out round runs only if the budget allows it.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAllFakes } from '../test/helpers/fakes.js';
import { writeContacts } from './contacts.js';
import { baseEnv, expectExit, median, now, ROOT, runCli, runNode, type Run, type Usage } from './process.js';
import type { HttpRequest, Job, Mail, WorkerResult } from './raw-worker.js';
import { Arrivals, overall, perSecond, readRunJournal, spanMs, type Span } from './spans.js';

import { rollCallBench } from './rollcall.js';
import { resumeBench } from './resume.js';

const CHANNELS = ['sms', 'email', 'slack', 'telegram'] as const;
type ChannelName = (typeof CHANNELS)[number];

/** In flight per channel in the fan-out, for the CLI (--concurrency all=N) and the baselines alike. */
const FANOUT_CONCURRENCY = 8;
/** crisis-notify's SMTP pool size (MAX_CONNECTIONS in src/channels/email.ts); the nodemailer baseline gets the same. */
const SMTP_POOL = 3;
const FANOUT_CONTACTS = 10_000;
const FANOUT_MAX_ROUNDS = 2;
const LOOP_CONTACTS = 1_000;
const STARTUP_RUNS = 15;
const FIRST_MESSAGE_RUNS = 5;
const SCALE_SIZES = [1_000, 10_000, 100_000];
/**
 * `npm run bench -- --only scale`: the dry runs alone, with the million (≈ 2 minutes more on 2 cores).
 * `npm run bench -- --only resume [--contacts N]`: kill -9 at half of a live send, then resume (bench/resume.ts); never in the default bench.
 */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const MILLION = 1_000_000;
/** Rate-limited run: messages per channel and the limits; the slowest channel sets the bound. */
const RATED_CONTACTS = 60;
const RATES: Record<ChannelName, number> = { sms: 10, email: 12, slack: 10, telegram: 20 };

const BUDGET_MS = 9.5 * 60_000;
const RUN_LIMIT_MS = 150_000;
/**
 * The bench's lists are generated and counted by the bench itself: a live send above the
 * typed-confirmation threshold (issue 18) would otherwise stop and ask for --expect-count.
 */
const NO_TYPED_CONFIRMATION = ['--confirm-threshold', String(Number.MAX_SAFE_INTEGER)];

/** Issue 16's targets. */
const TARGETS = {
  fanoutRatio: 0.8, // ≥ of the baseline
  ratedRatio: 1.1, // ≤
  helpRatio: 1.3, // ≤ × node -e 0
  firstMessageMs: 500, // ≤, 1,000 contacts
  firstMessage100kS: 10, // ≤, 100,000 contacts
  peakRssMb: 200, // ≤ at 100,000 contacts
  wall100kS: 8, // ≤, dry run of 100,000 contacts
  wall1MS: 90, // ≤, dry run of 1,000,000 contacts
  peakRss1MMb: 250, // ≤
  journalBytesPerDelivery: 300, // ≤, 1,000,000 contacts (the dry run keeps no message store)
};

// ── table ────────────────────────────────────────────────────────────────────────────

interface Row {
  section: string;
  measure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  verdict: '' | 'PASS' | 'MISS';
}
const rows: Row[] = [];
const results: Record<string, unknown> = {};

function row(section: string, measure: string, value: string, baseline = '', ratio?: number, target?: { text: string; ok: boolean }) {
  rows.push({
    section, measure, value, baseline, ratio: ratio === undefined || !Number.isFinite(ratio) ? '' : ratio.toFixed(2),
    target: target?.text ?? '', verdict: target ? (target.ok ? 'PASS' : 'MISS') : '',
  });
}

const fmt = {
  rate: (n: number) => `${Math.round(n).toLocaleString('en-US')} msg/s`,
  ms: (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`,
  s: (n: number) => `${(n / 1000).toFixed(2)} s`,
  mb: (kb: number) => `${(kb / 1024).toFixed(0)} MB`,
  n: (n: number) => n.toLocaleString('en-US'),
};

function table(): string {
  const headers: Row = { section: 'section', measure: 'measure', value: 'crisis-notify', baseline: 'baseline (same run)', ratio: 'ratio', target: 'target', verdict: '' };
  const keys = Object.keys(headers) as (keyof Row)[];
  const width = Object.fromEntries(keys.map((k) => [k, Math.max(...[headers, ...rows].map((r) => r[k].length))])) as Record<keyof Row, number>;
  const line = (r: Row) => keys.map((k) => (k === 'ratio' ? r[k].padStart(width[k]) : r[k].padEnd(width[k]))).join('  ').trimEnd();
  const out = [line(headers), keys.map((k) => '─'.repeat(width[k])).join('  ')];
  let previous = '';
  for (const r of rows) {
    out.push(line(r.section === previous ? { ...r, section: '' } : r));
    previous = r.section;
  }
  return out.join('\n');
}

// ── helpers ──────────────────────────────────────────────────────────────────────────

const started = now();
const remainingMs = () => BUDGET_MS - (now() - started);
const work = mkdtempSync(join(tmpdir(), 'notify-bench-'));
const freshDir = (name: string) => mkdtempSync(join(work, `${name}-`));
const log = (text: string) => process.stderr.write(`bench [${((now() - started) / 1000).toFixed(0).padStart(3)} s, load ${loadavg()[0]!.toFixed(1)}]: ${text}\n`);
const cpuMs = (u: Usage | undefined) => (u ? (u.userCpuUs + u.systemCpuUs) / 1000 : NaN);
const cpuTotal = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const limitMs = () => Math.max(5_000, Math.min(RUN_LIMIT_MS, remainingMs()));

const WORKER = join(ROOT, 'bench/raw-worker.ts');
const TSX = import.meta.resolve('tsx');

async function runWorker(job: Job): Promise<{ result: WorkerResult; run: Run }> {
  const dir = freshDir('worker');
  const jobFile = join(dir, 'job.json');
  writeFileSync(jobFile, JSON.stringify(job));
  const run = await runNode([WORKER, jobFile], { cwd: dir, env: baseEnv(), usage: true, nodeArgs: ['--import', TSX], timeoutMs: limitMs() });
  expectExit(run, 0, `baseline ${job.mode}`);
  rmSync(dir, { recursive: true, force: true });
  return { result: JSON.parse(run.stdout) as WorkerResult, run };
}

/** A failing section is reported as a MISS with its reason; the others still run. */
async function section(name: string, body: () => Promise<void>) {
  // BENCH_ONLY=queue npm run bench: one section (its baseline is inside it), for a quick look.
  if (process.env.BENCH_ONLY && !name.toLowerCase().includes(process.env.BENCH_ONLY.toLowerCase())) return;
  const load = loadavg()[0]!;
  try {
    await body();
  } catch (error) {
    log(`${name} failed: ${(error as Error).stack}`);
    row(name, 'did not complete', (error as Error).message.split('\n')[0]!.slice(0, 120), '', undefined, { text: 'completes', ok: false });
  }
  (results.loadAverage as Record<string, number[]>)[name] = [load, loadavg()[0]!];
}
results.loadAverage = {};

// ── start-up ─────────────────────────────────────────────────────────────────────────

async function startup() {
  log(`start-up: ${STARTUP_RUNS} rounds of node -e 0, notify --help, notify outage --dry-run`);
  const cwd = freshDir('startup'); // no contacts.csv here: the dry run falls back to the shipped example
  const env = baseEnv();
  const times = { node: [] as number[], help: [] as number[], dry: [] as number[] };
  // Interleaved, so a noisy moment hurts all three alike; one unmeasured round warms the disk cache.
  for (let i = -1; i < STARTUP_RUNS; i++) {
    const node = expectExit(await runNode(['-e', '0'], { cwd, env }), 0, 'node -e 0');
    const help = expectExit(await runCli(['--help'], { cwd, env }), 0, 'notify --help');
    const dry = expectExit(await runCli(['outage', '--dry-run'], { cwd, env }), 0, 'notify outage --dry-run');
    if (i < 0) continue;
    times.node.push(node.wallMs);
    times.help.push(help.wallMs);
    times.dry.push(dry.wallMs);
  }
  const nodeMs = median(times.node);
  const help = median(times.help);
  const dry = median(times.dry);
  const min = (v: number[]) => Math.min(...v);
  const name = `Start-up (median of ${STARTUP_RUNS}, interleaved)`;
  row(name, 'notify --help', fmt.ms(help), `${fmt.ms(nodeMs)} node -e 0`, help / nodeMs, { text: `≤ ${TARGETS.helpRatio}× node`, ok: help / nodeMs <= TARGETS.helpRatio });
  row(name, 'notify --help, fastest run', fmt.ms(min(times.help)), `${fmt.ms(min(times.node))} node -e 0`, min(times.help) / min(times.node));
  row(name, 'notify outage --dry-run (example list)', fmt.ms(dry), `${fmt.ms(nodeMs)} node -e 0`, dry / nodeMs);
  results.startup = { runs: STARTUP_RUNS, nodeMs: times.node, helpMs: times.help, dryRunMs: times.dry, medians: { node: nodeMs, help, dry } };
}

// ── scale (dry runs) ─────────────────────────────────────────────────────────────────

async function scale(lists: Map<number, string>) {
  const name = 'Scale: dry run, wall and peak RSS';
  const out: unknown[] = [];
  results.scale = out;
  const sizes = ONLY === 'scale' ? [...SCALE_SIZES, MILLION] : SCALE_SIZES;
  for (const size of sizes) {
    log(`scale: dry run of ${fmt.n(size)} contacts`);
    const cwd = freshDir(`scale-${size}`);
    const list = lists.get(size) ?? writeContacts(join(work, `contacts-${size}.csv`), size);
    const run = await runCli(['outage', '--dry-run', '--json', '--contacts', list, '--var', 'eta=14:00'], { cwd, env: baseEnv(), usage: true, timeoutMs: size >= MILLION ? 600_000 : limitMs() });
    const rssKb = run.usage?.maxRssKb ?? NaN;
    const value = run.code === 0 ? `${fmt.s(run.wallMs)}, ${fmt.mb(rssKb)}` : run.timedOut ? `killed after ${fmt.s(run.wallMs)}` : `exit ${run.code}`;
    const messages = run.code === 0 ? Object.values((JSON.parse(run.stdout) as { channels: Record<string, { planned: number }> }).channels).reduce((n, c) => n + c.planned, 0) : NaN;
    const journal = journalBytes(cwd);
    const perDelivery = journal.bytes / messages;
    const what = `${fmt.n(size)} contacts (${fmt.n(messages)} messages)`;
    if (size === 100_000) {
      row(name, `${what}: wall`, fmt.s(run.wallMs), '', undefined, { text: `≤ ${TARGETS.wall100kS} s`, ok: run.code === 0 && run.wallMs <= TARGETS.wall100kS * 1000 });
      row(name, `${what}: peak RSS`, fmt.mb(rssKb), '', undefined, { text: `≤ ${TARGETS.peakRssMb} MB`, ok: run.code === 0 && rssKb / 1024 <= TARGETS.peakRssMb });
    } else if (size === MILLION) {
      row(name, `${what}: wall`, fmt.s(run.wallMs), '', undefined, { text: `≤ ${TARGETS.wall1MS} s`, ok: run.code === 0 && run.wallMs <= TARGETS.wall1MS * 1000 });
      row(name, `${what}: peak RSS`, fmt.mb(rssKb), '', undefined, { text: `≤ ${TARGETS.peakRss1MMb} MB`, ok: run.code === 0 && rssKb / 1024 <= TARGETS.peakRss1MMb });
    } else {
      row(name, what, value);
    }
    row(name, `${what}: journal`, `${fmt.mb(journal.bytes / 1024)}, ${perDelivery.toFixed(0)} B/delivery`, '', undefined,
      size >= 100_000 ? { text: `≤ ${TARGETS.journalBytesPerDelivery} B`, ok: perDelivery <= TARGETS.journalBytesPerDelivery } : undefined);
    const byKind = size <= 100_000 && run.code === 0 ? bytesByKind(journal.path) : undefined;
    if (byKind) row(name, `${what}: bytes per record`, Object.entries(byKind).map(([k, v]) => `${k} ${v.bytes / v.count < 1000 ? (v.bytes / v.count).toFixed(0) : fmt.n(Math.round(v.bytes / v.count))}`).join(', '));
    let report: Run | undefined;
    if (size === sizes.at(-1) && run.code === 0) {
      // The done-when of issue 16: a report of the largest run, within the memory target.
      log(`scale: notify report of the ${fmt.n(size)}-contact run`);
      report = await runCli(['report', '--json'], { cwd, env: baseEnv(), usage: true, timeoutMs: 600_000 });
      row(name, `notify report of that run`, report.code === 0 ? `${fmt.s(report.wallMs)}, ${fmt.mb(report.usage?.maxRssKb ?? NaN)}` : `exit ${report.code}`, '', undefined,
        { text: `≤ ${size >= MILLION ? TARGETS.peakRss1MMb : TARGETS.peakRssMb} MB`, ok: report.code === 0 && (report.usage?.maxRssKb ?? Infinity) / 1024 <= (size >= MILLION ? TARGETS.peakRss1MMb : TARGETS.peakRssMb) });
    }
    rmSync(cwd, { recursive: true, force: true }); // the journal of 100,000 is large
    out.push({
      contacts: size, messages, code: run.code, timedOut: run.timedOut, wallMs: run.wallMs, peakRssKb: rssKb, cpuMs: cpuMs(run.usage),
      journalBytes: journal.bytes, bytesPerDelivery: perDelivery, ...(byKind && { bytesByKind: byKind }),
      ...(report && { report: { code: report.code, wallMs: report.wallMs, peakRssKb: report.usage?.maxRssKb } }),
    });
    if (run.code !== 0 && !run.timedOut) expectExit(run, 0, `dry run of ${size}`);
  }
}

/** The journal (and message store, if any) a run left in `cwd`. */
function journalBytes(cwd: string): { path: string; bytes: number } {
  const dir = join(cwd, '.notify', 'runs');
  let bytes = 0;
  let path = '';
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.jsonl')) path = join(dir, name);
    bytes += statSync(join(dir, name)).size;
  }
  return { path, bytes };
}

/** Records and bytes per kind, read a megabyte at a time. */
function bytesByKind(path: string): Record<string, { count: number; bytes: number }> {
  const out: Record<string, { count: number; bytes: number }> = {};
  const fd = openSync(path, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let rest = '';
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      const lines = (rest + chunk.toString('utf8', 0, n)).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const kind = /"kind":"([a-z]+)"/.exec(line)?.[1] ?? '?';
        const k = (out[kind] ??= { count: 0, bytes: 0 });
        k.count += 1;
        k.bytes += Buffer.byteLength(line) + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

// ── live sends against the fakes ─────────────────────────────────────────────────────

type Fakes = Awaited<ReturnType<typeof startAllFakes>>;

function resetFakes(fakes: Fakes, arrivals: Arrivals) {
  for (const name of CHANNELS) fakes[name].messages.length = 0;
  for (const name of ['sms', 'slack', 'telegram'] as const) fakes[name].http.requests.length = 0;
  arrivals.reset();
}

function expectReceived(arrivals: Arrivals, expected: Partial<Record<ChannelName, number>>, what: string) {
  for (const [channel, count] of Object.entries(expected)) {
    if (arrivals.count(channel) !== count) throw new Error(`${what}: the ${channel} fake received ${arrivals.count(channel)} messages, expected ${count}`);
  }
}

const everyChannel = (n: number) => Object.fromEntries(CHANNELS.map((c) => [c, n])) as Record<ChannelName, number>;

interface CliSend {
  run: Run;
  spans: Record<string, Span>;
  planned: ReturnType<typeof readRunJournal>['planned'];
}

async function cliSend(fakes: Fakes, args: string[], what: string, extraEnv: Record<string, string> = {}): Promise<CliSend> {
  const cwd = freshDir('send');
  try {
    const run = await runCli(['outage', '--yes', ...NO_TYPED_CONFIRMATION, '--json', '--var', 'eta=14:00', ...args], { cwd, env: baseEnv({ ...fakes.env, ...extraEnv }), usage: true, timeoutMs: limitMs() });
    expectExit(run, 0, what);
    const { spans, planned } = readRunJournal(cwd, (JSON.parse(run.stdout) as { runId: string }).runId);
    return { run, spans, planned };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** When the run's journal says planning started (its "run" record comes before the first delivery is rendered) and the first send started, from spawn. */
function journalPhases(cwd: string, spawnedAtMs: number) {
  const dir = join(cwd, '.notify', 'runs');
  const lines = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!), 'utf8').split('\n');
  const at = (kind: string) => {
    const line = lines.find((l) => l.includes(`"kind":"${kind}"`));
    return line ? Date.parse((JSON.parse(line) as { at: string }).at) - spawnedAtMs : NaN;
  };
  return { planStartMs: at('run'), firstAttemptMs: at('attempting') };
}

async function timeToFirstMessage(fakes: Fakes, arrivals: Arrivals, list: string) {
  log(`time to first message: ${FIRST_MESSAGE_RUNS} live sends to ${fmt.n(LOOP_CONTACTS)} contacts, each stopped (Ctrl-C) once every channel has delivered`);
  const firsts: number[] = [];
  const perChannel: Record<string, number[]> = {};
  const phases: { planStartMs: number; firstAttemptMs: number }[] = [];
  // Its own baseline, interleaved with the runs: the start-up section may not have run (BENCH_ONLY).
  const nodeRuns: number[] = [];
  for (let i = 0; i < FIRST_MESSAGE_RUNS; i++) {
    resetFakes(fakes, arrivals);
    const cwd = freshDir('first');
    nodeRuns.push(expectExit(await runNode(['-e', '0'], { cwd, env: baseEnv() }), 0, 'node -e 0').wallMs);
    let poll: NodeJS.Timeout | undefined;
    const run = await runCli(['outage', '--yes', ...NO_TYPED_CONFIRMATION, '--json', '--var', 'eta=14:00', '--contacts', list, '--rate', 'all=off'], {
      cwd, env: baseEnv(fakes.env), timeoutMs: 60_000,
      // The rest of the list does not matter here: stop the run as a user would, with Ctrl-C.
      onSpawn: (child) => (poll = setInterval(() => {
        if (CHANNELS.every((c) => arrivals.first(c) !== undefined)) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 2)),
    });
    clearInterval(poll);
    expectExit(run, [0, 130], 'time to first message');
    phases.push(journalPhases(cwd, run.spawnedAtMs));
    rmSync(cwd, { recursive: true, force: true });
    firsts.push(arrivals.first()! - run.spawnedAtMs);
    for (const c of CHANNELS) (perChannel[c] ??= []).push(arrivals.first(c)! - run.spawnedAtMs);
  }
  resetFakes(fakes, arrivals);
  const first = median(firsts);
  const baseMs = median(nodeRuns);
  const name = `Time to first message (median of ${FIRST_MESSAGE_RUNS}, ${fmt.n(LOOP_CONTACTS)} contacts)`;
  row(name, 'spawn → first message at any fake', fmt.ms(first), `${fmt.ms(baseMs)} node -e 0`, first / baseMs, { text: `≤ ${TARGETS.firstMessageMs} ms`, ok: first <= TARGETS.firstMessageMs });
  row(name, '  of which spawn → inputs read, planning starts (journal "run")', fmt.ms(median(phases.map((p) => p.planStartMs))));
  row(name, '  of which spawn → first attempt (journal)', fmt.ms(median(phases.map((p) => p.firstAttemptMs))));
  for (const c of CHANNELS) row(name, `spawn → first ${c} message`, fmt.ms(median(perChannel[c]!)));
  results.timeToFirstMessage = { contacts: LOOP_CONTACTS, firstAnyMs: firsts, perChannelMs: perChannel, phases, nodeMs: nodeRuns };
}

/** One live send to 100,000 contacts, stopped (Ctrl-C) at the first message: the whole plan is checked first. */
async function timeToFirstMessageAtScale(fakes: Fakes, arrivals: Arrivals, list: string) {
  const size = SCALE_SIZES.at(-1)!;
  log(`time to first message: a live send to ${fmt.n(size)} contacts, stopped (Ctrl-C) at its first message`);
  resetFakes(fakes, arrivals);
  const cwd = freshDir('first-scale');
  let poll: NodeJS.Timeout | undefined;
  const run = await runCli(['outage', '--yes', ...NO_TYPED_CONFIRMATION, '--json', '--var', 'eta=14:00', '--contacts', list, '--rate', 'all=off'], {
    cwd, env: baseEnv(fakes.env), usage: true, timeoutMs: limitMs(),
    onSpawn: (child) => (poll = setInterval(() => {
      if (arrivals.first() === undefined) return;
      clearInterval(poll);
      child.kill('SIGINT');
    }, 2)),
  });
  clearInterval(poll);
  expectExit(run, [0, 130], 'time to first message at scale');
  const phases = journalPhases(cwd, run.spawnedAtMs);
  rmSync(cwd, { recursive: true, force: true });
  const first = arrivals.first()! - run.spawnedAtMs;
  resetFakes(fakes, arrivals);
  const name = `Time to first message (${fmt.n(size)} contacts, one run)`;
  row(name, 'spawn → first message at any fake', fmt.s(first), '', undefined, { text: `≤ ${TARGETS.firstMessage100kS} s`, ok: first <= TARGETS.firstMessage100kS * 1000 });
  row(name, '  of which spawn → first attempt (journal)', fmt.s(phases.firstAttemptMs));
  row(name, 'peak RSS of the send (stopped after its first message)', fmt.mb(run.usage?.maxRssKb ?? NaN));
  results.timeToFirstMessageAtScale = { contacts: size, firstAnyMs: first, phases, maxRssKb: run.usage?.maxRssKb };
}

async function rateLimited(fakes: Fakes, arrivals: Arrivals, list: string) {
  log(`rate-limited run: ${RATED_CONTACTS} messages per channel at ${CHANNELS.map((c) => `${c}=${RATES[c]}/s`).join(' ')}`);
  resetFakes(fakes, arrivals);
  const rates = CHANNELS.flatMap((c) => ['--rate', `${c}=${RATES[c]}`]);
  const send = await cliSend(fakes, ['--contacts', list, ...rates], 'rate-limited run');
  expectReceived(arrivals, everyChannel(RATED_CONTACTS), 'rate-limited run');
  resetFakes(fakes, arrivals);
  // A limiter spacing N messages 1/rate apart needs (N − 1)/rate from the first to the last.
  const spaced = (c: ChannelName) => ((send.spans[c]!.messages - 1) / RATES[c]) * 1000;
  const spacedBound = Math.max(...CHANNELS.map(spaced));
  const naiveBound = Math.max(...CHANNELS.map((c) => (send.spans[c]!.messages / RATES[c]) * 1000));
  const phase = spanMs(overall(Object.values(send.spans)));
  const name = `Rate-limited: ${RATED_CONTACTS} msgs/channel at ${CHANNELS.map((c) => `${c}=${RATES[c]}`).join(' ')}/s`;
  row(name, 'send phase ÷ max_c (N_c − 1)/rate_c', fmt.s(phase), `${fmt.s(spacedBound)} bound`, phase / spacedBound, { text: `≤ ${TARGETS.ratedRatio}`, ok: phase / spacedBound <= TARGETS.ratedRatio });
  row(name, 'whole process wall ÷ max_c N_c/rate_c', fmt.s(send.run.wallMs), `${fmt.s(naiveBound)} bound`, send.run.wallMs / naiveBound, { text: `≤ ${TARGETS.ratedRatio}`, ok: send.run.wallMs / naiveBound <= TARGETS.ratedRatio });
  for (const c of CHANNELS) row(name, `${c} send phase`, fmt.s(spanMs(send.spans[c]!)), `${fmt.s(spaced(c))} (N−1)/rate`, spanMs(send.spans[c]!) / spaced(c));
  results.rateLimited = {
    rates: RATES, formula: 'send phase (journal: first attempting → last delivered) ÷ max over channels of (N − 1)/rate',
    perChannel: send.spans, sendPhaseMs: phase, spacedBoundMs: spacedBound, wallMs: send.run.wallMs, naiveBoundMs: naiveBound,
  };
}

const mailsOf = (planned: CliSend['planned'], channel: string): Mail[] =>
  (planned[channel] ?? []).map(({ id, to, subject, text, html }) => ({
    to, text, messageId: `<${id}@crisis-notify>`, ...(subject !== undefined && { subject }), ...(html !== undefined && { html }),
  }));

async function sdkLoops(fakes: Fakes, arrivals: Arrivals, list: string) {
  const name = `Per channel, ${fmt.n(LOOP_CONTACTS)} msgs one at a time (issue 4)`;
  const out: Record<string, unknown> = {};
  results.perChannelLoop = out;
  const sdk = { sms: 'twilio messages.create', email: 'nodemailer sendMail', slack: 'web-api chat.postMessage', telegram: 'bot-api Api.sendMessage' };
  for (const c of CHANNELS) {
    log(`${c}: ${fmt.n(LOOP_CONTACTS)} messages through the CLI (--concurrency ${c}=1), then the bare SDK loop`);
    resetFakes(fakes, arrivals);
    const send = await cliSend(fakes, ['--contacts', list, '--channels', c, '--rate', `${c}=off`, '--concurrency', `${c}=1`], `${c} one at a time`);
    expectReceived(arrivals, { [c]: LOOP_CONTACTS }, `${c} one at a time`);
    resetFakes(fakes, arrivals);
    const { result } = await runWorker({ mode: 'sdk-loop', channel: c, env: fakes.env, mails: mailsOf(send.planned, c) });
    expectReceived(arrivals, { [c]: LOOP_CONTACTS }, `${c} SDK loop`);
    resetFakes(fakes, arrivals);
    const ours = send.spans[c]!;
    const theirs = result.channels[c]!;
    row(name, c, fmt.rate(perSecond(ours)), `${fmt.rate(perSecond(theirs))} ${sdk[c]}`, perSecond(ours) / perSecond(theirs));
    out[c] = { cli: ours, sdkLoop: theirs, sdkSetupMs: result.setupMs, cliCpuMs: cpuMs(send.run.usage) };
  }
}

/** The requests the CLI's SDKs sent to an HTTP fake, to be replayed with bare fetch. */
function capturedRequests(fakes: Fakes, channel: 'sms' | 'slack' | 'telegram'): HttpRequest[] {
  const { http } = fakes[channel];
  const isSend = { sms: /\/Messages\.json$/, slack: /\/chat\.postMessage$/, telegram: /\/sendMessage$/ }[channel];
  return http.requests
    .filter((r) => r.method === 'POST' && isSend.test(r.path))
    .map((r) => ({
      url: http.url + r.path,
      headers: Object.fromEntries(['content-type', 'authorization'].flatMap((h) => (typeof r.headers[h] === 'string' ? [[h, r.headers[h] as string]] : []))),
      body: r.raw,
    }));
}

async function fanout(fakes: Fakes, arrivals: Arrivals, list: string) {
  const cli: CliSend[] = [];
  const raw: { result: WorkerResult; run: Run }[] = [];
  const fakeCpu = { cli: [] as number[], baseline: [] as number[] };
  let job: Job | undefined;
  const messages = FANOUT_CONTACTS * CHANNELS.length;
  for (let round = 1; round <= FANOUT_MAX_ROUNDS; round++) {
    const roundStart = now();
    log(`fan-out round ${round}: crisis-notify, ${fmt.n(FANOUT_CONTACTS)} contacts × 4 channels, rate off, ${FANOUT_CONCURRENCY} in flight per channel`);
    resetFakes(fakes, arrivals);
    let cpu = process.cpuUsage();
    const send = await cliSend(fakes, ['--contacts', list, '--rate', 'all=off', '--concurrency', `all=${FANOUT_CONCURRENCY}`], 'fan-out');
    fakeCpu.cli.push(cpuTotal(process.cpuUsage(cpu)));
    expectReceived(arrivals, everyChannel(FANOUT_CONTACTS), 'fan-out (crisis-notify)');
    cli.push(send);
    job ??= {
      mode: 'fanout',
      concurrency: FANOUT_CONCURRENCY,
      http: { sms: capturedRequests(fakes, 'sms'), slack: capturedRequests(fakes, 'slack'), telegram: capturedRequests(fakes, 'telegram') },
      email: { target: { url: fakes.email.env.SMTP_URL!, from: fakes.email.env.MAIL_FROM!, maxConnections: SMTP_POOL }, mails: mailsOf(send.planned, 'email') },
    };
    send.planned = {}; // 40,000 rendered messages: keep only what the baseline needs

    log(`fan-out round ${round}: baseline (raw fetch + nodemailer pool of ${SMTP_POOL}), the same messages`);
    resetFakes(fakes, arrivals);
    cpu = process.cpuUsage();
    raw.push(await runWorker(job));
    fakeCpu.baseline.push(cpuTotal(process.cpuUsage(cpu)));
    expectReceived(arrivals, everyChannel(FANOUT_CONTACTS), 'fan-out (baseline)');
    resetFakes(fakes, arrivals);
    // Another round only if it fits, with the 100,000 dry run still to come.
    if (remainingMs() < 2 * (now() - roundStart) + RUN_LIMIT_MS) break;
  }

  // Best of the rounds for each side and channel: noise only ever slows a run down.
  const best = (spans: Span[]) => spans.reduce((a, b) => (perSecond(b) > perSecond(a) ? b : a));
  const name = `Fan-out: ${fmt.n(FANOUT_CONTACTS)} contacts × 4, rate off, ${FANOUT_CONCURRENCY} in flight/channel (best of ${cli.length})`;
  const perChannel: Record<string, unknown> = {};
  for (const c of CHANNELS) {
    const ours = best(cli.map((s) => s.spans[c]!));
    const theirs = best(raw.map((r) => r.result.channels[c]!));
    const ratio = perSecond(ours) / perSecond(theirs);
    const what = c === 'email' ? `nodemailer, pool of ${SMTP_POOL}` : 'raw fetch';
    row(name, `${c}, send phase`, fmt.rate(perSecond(ours)), `${fmt.rate(perSecond(theirs))} ${what}`, ratio, { text: `≥ ${TARGETS.fanoutRatio}`, ok: ratio >= TARGETS.fanoutRatio });
    perChannel[c] = { cli: cli.map((s) => s.spans[c]), baseline: raw.map((r) => r.result.channels[c]), ratio };
  }
  const oursAll = best(cli.map((s) => overall(Object.values(s.spans))));
  const theirsAll = best(raw.map((r) => overall(Object.values(r.result.channels))));
  const ratio = perSecond(oursAll) / perSecond(theirsAll);
  row(name, 'all channels, send phase', fmt.rate(perSecond(oursAll)), `${fmt.rate(perSecond(theirsAll))} baselines at once`, ratio, { text: `≥ ${TARGETS.fanoutRatio}`, ok: ratio >= TARGETS.fanoutRatio });
  const wall = Math.min(...cli.map((s) => s.run.wallMs));
  row(name, 'whole process wall (msg/s over it)', `${fmt.s(wall)} (${fmt.rate((messages * 1000) / wall)})`, `send phase ${fmt.s(spanMs(oursAll))}`);
  const ourCpu = Math.min(...cli.map((s) => cpuMs(s.run.usage)));
  const theirCpu = Math.min(...raw.map((r) => cpuMs(r.run.usage)));
  row(name, 'client CPU per message (whole process)', `${(ourCpu / messages).toFixed(3)} ms`, `${(theirCpu / messages).toFixed(3)} ms`, ourCpu / theirCpu);
  row(name, 'fakes CPU during the run (this process)', fmt.s(Math.min(...fakeCpu.cli)), fmt.s(Math.min(...fakeCpu.baseline)));
  results.fanout = {
    contacts: FANOUT_CONTACTS, messages, concurrency: FANOUT_CONCURRENCY, smtpPool: SMTP_POOL, rounds: cli.length,
    sendPhase: 'CLI: journal, first attempting → last delivered; baseline: first request out → last answer in',
    perChannel, overall: { cli: oursAll, baseline: theirsAll, ratio },
    cliWallMs: cli.map((s) => s.run.wallMs), cliCpuMs: cli.map((s) => cpuMs(s.run.usage)), cliPeakRssKb: cli.map((s) => s.run.usage?.maxRssKb),
    baselineCpuMs: raw.map((r) => cpuMs(r.run.usage)), fakesCpuMs: fakeCpu,
  };
}

// ── queue (issue 17) ─────────────────────────────────────────────────────────────────

/** Contacts for the queue throughput runs (× 4 channels), and deliveries for the enqueue rate. */
const QUEUE_CONTACTS = 1_000;
const ENQUEUE_CONTACTS = 25_000; // × 4 channels = 100,000 deliveries

/**
 * Through Redis and `notify worker` processes vs in-process, same fakes, same list, same
 * concurrency, rates off: what going through a queue costs per message. Each figure is the
 * send phase from the journal (first attempt → last delivery), as in the fan-out section.
 * Then the enqueue rate of 100,000 deliveries (the lead's own measure: "Queued N in X s").
 */
async function queueSection(fakes: Fakes, arrivals: Arrivals, list: string, bigList: string) {
  const { spawnSync } = await import('node:child_process');
  if (spawnSync('redis-server', ['--version']).error) {
    row('Queue (Redis + BullMQ)', 'skipped', 'redis-server is not installed (Debian package "redis-server")');
    return;
  }
  const { startRedis } = await import('../test/queue/redis.js');
  const redis = await startRedis();
  const name = `Queue: ${fmt.n(QUEUE_CONTACTS * 4)} msgs, rates off, ${FANOUT_CONCURRENCY} in flight per channel per sender`;
  const out: Record<string, unknown> = {};
  results.queue = out;
  const concurrency = ['--concurrency', `all=${FANOUT_CONCURRENCY}`];
  try {
    log(`queue: in-process send of ${fmt.n(QUEUE_CONTACTS * 4)} messages (baseline)`);
    resetFakes(fakes, arrivals);
    const inProcess = await cliSend(fakes, ['--contacts', list, '--rate', 'all=off', '--expect-count', String(QUEUE_CONTACTS), ...concurrency], 'in-process baseline');
    expectReceived(arrivals, everyChannel(QUEUE_CONTACTS), 'in-process baseline');
    const baseMs = spanMs(overall(Object.values(inProcess.spans)));
    const messages = QUEUE_CONTACTS * 4;
    row(name, 'in-process send', fmt.rate((messages / baseMs) * 1000), '', undefined);
    out.inProcess = { sendPhaseMs: baseMs, wallMs: inProcess.run.wallMs, cpuMs: cpuMs(inProcess.run.usage) };
    for (const count of [1, 2]) {
      log(`queue: ${count} worker(s)`);
      resetFakes(fakes, arrivals);
      const queueEnv = { NOTIFY_QUEUE_URL: redis.url, NOTIFY_QUEUE_PREFIX: `bench-${count}` };
      const env = baseEnv({ ...fakes.env, ...queueEnv });
      const workers: { child?: import('node:child_process').ChildProcess; stderr: string; done: Promise<Run> }[] = [];
      for (let i = 0; i < count; i++) {
        const dir = freshDir('worker');
        const w: (typeof workers)[number] = { stderr: '', done: undefined as unknown as Promise<Run> };
        w.done = runCli(['worker', '--concurrency', String(FANOUT_CONCURRENCY)], {
          cwd: dir, env, usage: true, timeoutMs: limitMs(),
          onSpawn: (child) => {
            w.child = child;
            child.stderr?.on('data', (d) => (w.stderr += d));
          },
        });
        workers.push(w);
      }
      const ready = Date.now();
      while (!workers.every((w) => /serving/.test(w.stderr)) && Date.now() - ready < 30_000) await new Promise((r) => setTimeout(r, 20));
      const queued = await cliSend(fakes, ['--queue', '--contacts', list, '--rate', 'all=off', '--expect-count', String(QUEUE_CONTACTS)], `${count} worker(s)`, queueEnv);
      for (const w of workers) w.child?.kill('SIGTERM');
      const runs = await Promise.all(workers.map((w) => w.done));
      expectReceived(arrivals, everyChannel(QUEUE_CONTACTS), `${count} worker(s)`);
      const phase = spanMs(overall(Object.values(queued.spans)));
      const workerCpu = runs.reduce((n, r) => n + cpuMs(r.usage), 0);
      const cpuPerMsg = (workerCpu + cpuMs(queued.run.usage)) / messages;
      const baseCpuPerMsg = cpuMs(inProcess.run.usage) / messages;
      row(name, `${count} worker(s): throughput`, fmt.rate((messages / phase) * 1000), `${fmt.rate((messages / baseMs) * 1000)} in-process`, baseMs / phase);
      row(name, `${count} worker(s): CPU per message (workers + lead)`, `${cpuPerMsg.toFixed(2)} ms`, `${baseCpuPerMsg.toFixed(2)} ms in-process`, cpuPerMsg / baseCpuPerMsg);
      out[`workers${count}`] = { sendPhaseMs: phase, wallMs: queued.run.wallMs, workerCpuMs: workerCpu, leadCpuMs: cpuMs(queued.run.usage), cpuPerMessageMs: cpuPerMsg };
    }
    log(`queue: enqueue ${fmt.n(ENQUEUE_CONTACTS * 4)} deliveries (--detach, no worker)`);
    const cwd = freshDir('enqueue');
    const env = baseEnv({ ...fakes.env, NOTIFY_QUEUE_URL: redis.url, NOTIFY_QUEUE_PREFIX: 'bench-enqueue' });
    const run = await runCli(['outage', '--yes', '--queue', '--detach', '--var', 'eta=14:00', '--contacts', bigList, '--rate', 'all=off', '--expect-count', String(ENQUEUE_CONTACTS)], { cwd, env, usage: true, timeoutMs: limitMs() });
    expectExit(run, 0, 'enqueue 100,000');
    rmSync(cwd, { recursive: true, force: true });
    const m = /Queued (\d+) message\(s\) in ([\d.]+) s/.exec(run.stderr);
    if (!m) throw new Error(`enqueue: no "Queued" line in:\n${run.stderr.slice(-500)}`);
    const [n, seconds] = [Number(m[1]), Number(m[2])];
    row('Queue: enqueue (lead → Redis)', `${fmt.n(n)} deliveries`, `${fmt.rate(n / seconds)} (${seconds.toFixed(2)} s)`, `${fmt.s(run.wallMs)} whole command`, undefined);
    out.enqueue = { deliveries: n, seconds, wallMs: run.wallMs, peakRssKb: run.usage?.maxRssKb };
  } finally {
    await redis.close();
  }
}

// ── main ─────────────────────────────────────────────────────────────────────────────

async function main() {
  if (ONLY === 'resume') {
    await section('Resume', async () => void (results.resume = await resumeBench({ dir: freshDir('resume'), row, log })));
    return finish();
  }
  const lists = new Map<number, string>();
  for (const size of new Set([...SCALE_SIZES, LOOP_CONTACTS, FANOUT_CONTACTS, RATED_CONTACTS, QUEUE_CONTACTS, ENQUEUE_CONTACTS])) {
    lists.set(size, writeContacts(join(work, `contacts-${size}.csv`), size));
  }
  if (ONLY === 'scale') {
    await section('Scale', () => scale(lists));
    return finish();
  }
  await section('Start-up', startup);

  const fakes = await startAllFakes();
  const arrivals = new Arrivals();
  for (const c of CHANNELS) arrivals.watch(c, fakes[c]);
  try {
    await section('Time to first message', () => timeToFirstMessage(fakes, arrivals, lists.get(LOOP_CONTACTS)!));
    await section('Time to first message at scale', () => timeToFirstMessageAtScale(fakes, arrivals, lists.get(SCALE_SIZES.at(-1)!)!));
    await section('Rate-limited', () => rateLimited(fakes, arrivals, lists.get(RATED_CONTACTS)!));
    await section('Per channel', () => sdkLoops(fakes, arrivals, lists.get(LOOP_CONTACTS)!));
    await section('Fan-out', () => fanout(fakes, arrivals, lists.get(FANOUT_CONTACTS)!));
    await section('Queue', () => queueSection(fakes, arrivals, lists.get(QUEUE_CONTACTS)!, lists.get(ENQUEUE_CONTACTS)!));
    await section('Roll call', async () => void (results.rollCall = await rollCallBench(fakes, row)));
  } finally {
    await fakes.close();
  }
  await section('Scale', () => scale(lists));
  finish();
}

function finish() {
  const meta = {
    node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, date: new Date().toISOString(),
    benchSeconds: Math.round((now() - started) / 1000), loadAverageAtEnd: loadavg(),
  };
  const misses = rows.filter((r) => r.verdict === 'MISS').length;
  process.stdout.write(
    `\ncrisis-notify bench · node ${meta.node} · ${meta.cpus} CPUs · ${meta.date} · ${meta.benchSeconds} s · load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n\n` +
      `${table()}\n\n${misses ? `${misses} target(s) missed.` : 'All targets met.'} Details: bench/results.json\n` +
      `Load average (1 min) at start/end of each section: ${Object.entries(results.loadAverage as Record<string, number[]>).map(([k, [a, b]]) => `${k} ${a!.toFixed(1)}/${b!.toFixed(1)}`).join(', ')} — on ${meta.cpus} CPUs, anything above ~1 means other work shared the machine.\n`,
  );
  writeFileSync(join(ROOT, 'bench/results.json'), JSON.stringify({ meta, targets: TARGETS, table: rows, ...results }, null, 2) + '\n');
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
