/**
 * `notify rollcall [RUN]`: poll every channel for replies since the run started, record the
 * new ones, print the tally — and with --watch, again every --every until everyone
 * answered or --until, sending reminders and escalations on the way. Exit 0 when everyone
 * targeted answered, 1 when someone is silent or unreachable, 2 for bad input, 130 on Ctrl-C.
 */
import { CHANNEL_LIST } from '../channels/index.js';
import { loadConfig } from '../config.js';
import type { Answers } from '../core/answers.js';
import { clockTime, formatDuration, parseDuration } from '../core/duration.js';
import { Journal, listRuns, readRun, readRunRecord, resolveRun } from '../core/journal.js';
import { readRollCall, tally, type RollCallState, type Tally } from '../core/rollcall.js';
import { addSuppressions } from '../core/suppressions.js';
import { loadTemplateSet, type Scenario, type TemplateSet } from '../core/templates.js';
import type { ChannelName } from '../core/types.js';
import { EXIT, UserError } from '../errors.js';
import { createOutput, write, type Output } from '../output.js';
import { connectPollers, pollOnce, type Pollers } from './rollcall-poll.js';
import { followUp, parseFollowUp, type FollowUpFlags } from './rollcall-send.js';
import { sleep } from '../core/sleep.js';
import { keepHeapNearLive } from '../heap.js';

export interface RollcallFlags extends FollowUpFlags {
  json?: boolean;
  mask?: boolean;
  watch?: boolean;
  every?: string;
  until?: string;
}

/** Default pace of --watch: 2 polls a minute per channel, well inside every provider's limits. */
const DEFAULT_EVERY_MS = 30_000;
const MIN_EVERY_MS = 1_000;

export async function rollcall(input: string | undefined, flags: RollcallFlags): Promise<number> {
  keepHeapNearLive();
  const config = loadConfig();
  const out = createOutput({ ci: config.ci, mask: flags.mask ?? false });
  const everyMs = durationFlag('--every', flags.every) ?? DEFAULT_EVERY_MS;
  if (everyMs < MIN_EVERY_MS) throw new UserError(`--every ${flags.every} is too short; poll at most once a second (e.g. --every 30s).`);
  const untilMs = durationFlag('--until', flags.until);
  const followUpPlan = parseFollowUp(flags);
  const { runId, path } = resolveRun(input ?? latestLiveRun());
  const run = readRunRecord(path);
  if (!run) throw new UserError(`The journal of run ${runId} has no readable run record (line 1); it cannot be polled.`);
  if (run.dryRun) throw new UserError(`Run ${runId} is a dry run: nobody was told anything, so nobody can answer; poll a live run.`);
  const { templates, scenario } = rollCallScenario(run.templatesDir, run.scenario, runId);
  const answers = scenario.answers!;

  const journal = new Journal(path, readRun(path));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const pollers = await connectPollers(config, run.channels);
  const started = Date.now();
  let shown = new Map<string, string>();
  let result: Tally | undefined;
  try {
    for (let round = 0; ; round += 1) {
      const { state, problems } = await pollOnce(runId, path, journal, pollers, answers, { replies: true, signal: stop.signal });
      if (stop.signal.aborted) break;
      suppress(state, out);
      const sent = await followUp({ state, scenario, templates, journal, pollers, config, plan: followUpPlan, out });
      result = tally(sent > 0 ? readRollCall(runId, path) : state, answers);
      if (!flags.watch) {
        printTally(out, result, pollers, problems, config.ci);
        break;
      }
      shown = showWatch(out, result, pollers, problems, config.ci, shown, round === 0);
      if (result.complete) {
        out.line('Everyone answered.');
        break;
      }
      if (untilMs !== undefined && Date.now() - started + everyMs > untilMs) {
        out.line(`Stopped after ${formatDuration(untilMs)} (--until).`);
        break;
      }
      await sleep(everyMs, stop.signal);
      if (stop.signal.aborted) break;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pollers.close();
    journal.close();
  }
  if (stop.signal.aborted) {
    out.line(`Interrupted; every reply heard so far is in the journal. Go on with: notify rollcall ${runId}${flags.watch ? ' --watch' : ''}`);
    return EXIT.interrupted;
  }
  // Under CI the JSON names nobody either (phones and emails are masked by the output itself).
  if (flags.json && result) out.json(out.mask ? { ...result, people: result.people.map((p) => ({ ...p, name: nameFor(true, p.name) })) } : result);
  return result?.complete ? EXIT.ok : EXIT.failed;
}

function durationFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new UserError(`${flag} ${value} is not a duration; write it like 30s, 10m or 1h30m.`);
  return ms;
}

function latestLiveRun(): string {
  const runs = listRuns();
  for (const id of [...runs].reverse()) {
    const record = readRunRecord(resolveRun(id).path);
    if (record && !record.dryRun) return id;
  }
  throw new UserError('No live run yet in .notify/runs/; send a roll-call scenario first (e.g. notify drill --yes), or name the run: notify rollcall RUN.');
}

function rollCallScenario(templatesDir: string, name: string, runId: string): { templates: TemplateSet; scenario: Scenario } {
  let scenario: Scenario | undefined;
  let templates: TemplateSet;
  try {
    templates = loadTemplateSet(templatesDir, CHANNEL_LIST);
    scenario = templates.scenarios.get(name);
  } catch (error) {
    throw new UserError(`Run ${runId} was planned with the templates in ${templatesDir}, which cannot be read now (${(error as Error).message}); restore them to read its answers.`);
  }
  if (!scenario) throw new UserError(`Run ${runId} is scenario "${name}", which ${templatesDir} no longer defines; restore it to read its answers.`);
  if (!scenario.answers) {
    throw new UserError(`Run ${runId} is scenario "${name}", which declares no answers, so it is not a roll call; add answers: {"1": safe, "2": needs help} to ${templatesDir}/${name}/scenario.yaml (and say how to reply in its templates) before the next send.`);
  }
  return { templates, scenario };
}

/** STOP replies (and Twilio 21610) go to .notify/suppressions.csv, once. */
function suppress(state: RollCallState, out: Output): void {
  const added = addSuppressions(state.optOuts.map((o) => ({ channel: o.channel, address: o.address, when: o.at, run: state.runId })));
  for (const a of added) out.line(`Opt-out: ${out.address(a.address)} (${a.channel}) added to .notify/suppressions.csv.`);
}

/** Under CI names are masked too: "Élodie Marchand" → "É. M.". */
const nameFor = (ci: boolean, name: string) => (ci ? name.split(/\s+/).map((w) => `${[...w][0] ?? ''}.`).join(' ') : name);

function personLine(ci: boolean, p: Tally['people'][number], answers: Answers, now: Date): string {
  const name = nameFor(ci, p.name);
  const extra = [
    ...p.unrecognised.map((t) => `replied "${t.replace(/\s+/g, ' ').slice(0, 80)}" (not an answer)`),
    ...(p.optedOut ? ['opted out (STOP)'] : []),
    ...(p.call ? [`call ${p.call}`] : []),
    ...(p.reminders ? [`${p.reminders} reminder(s)`] : []),
    ...(p.escalated ? ['escalated'] : []),
  ];
  const tail = extra.length ? ` — ${extra.join('; ')}` : '';
  if (p.status === 'answered') return `  ✓ ${name}: ${p.answer} (${answers.labels[p.answer!] ?? p.label}) by ${p.via} at ${clockTime(new Date(p.at!), now)}${tail}`;
  if (p.status === 'unreachable') return `  ✗ ${name}: unreachable (${p.reason})${tail}`;
  return `  … ${name}: silent${tail}`;
}

function countsLine(t: Tally): string {
  const answered = Object.entries(t.answers).map(([k, label]) => `${k} ${label}: ${t.counts[k] ?? 0}`);
  return [...answered, `silent: ${t.counts.silent}`, `unreachable: ${t.counts.unreachable}`].join(' · ');
}

function printTally(out: Output, t: Tally, pollers: Pollers, problems: Map<ChannelName, string>, ci: boolean): void {
  const now = new Date();
  out.line(out.color.bold(`Roll call · ${t.scenario} · run ${t.runId} (since ${clockTime(new Date(t.since), now)})`));
  out.line(countsLine(t));
  const answers = { labels: t.answers } as Answers;
  for (const p of t.people) out.line(personLine(ci, p, answers, now));
  for (const s of t.strangers) out.line(`  ? unknown sender on ${s.channel}: "${s.text.slice(0, 80)}"`);
  for (const [channel, why] of pollers.deaf) out.line(out.color.yellow(`  ! ${channel}: replies not read: ${why}`));
  for (const [channel, why] of problems) out.line(out.color.yellow(`  ! ${channel}: poll failed: ${why}`));
}

/** --watch: redraw on a terminal; under CI (or no terminal) one line per change. */
function showWatch(out: Output, t: Tally, pollers: Pollers, problems: Map<ChannelName, string>, ci: boolean, shown: Map<string, string>, first: boolean): Map<string, string> {
  if (!ci && process.stderr.isTTY) {
    write(process.stderr, '\x1b[H\x1b[2J');
    printTally(out, t, pollers, problems, ci);
    out.line(`(polling; Ctrl-C to stop)`);
    return shown;
  }
  const now = new Date();
  const answers = { labels: t.answers } as Answers;
  const next = new Map<string, string>();
  if (first) out.line(`Roll call · ${t.scenario} · run ${t.runId}: ${countsLine(t)}`);
  for (const p of t.people) {
    const line = personLine(ci, p, answers, now);
    next.set(p.name, line);
    if (!first && shown.get(p.name) !== line) out.line(`${clockTime(now)} ${line.trim()} · ${countsLine(t)}`);
  }
  for (const [channel, why] of problems) out.line(`${clockTime(now)} ! ${channel}: poll failed: ${why}`);
  return next;
}

