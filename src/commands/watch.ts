/**
 * `notify watch`: probe the service every round, decide with hysteresis (core/watch/decide),
 * tell the crisis team — and only the crisis team — when it looks down and when it looks
 * back, and remind them when the next customer update is due. Every message goes through
 * the normal send path (`send()`), so it is planned, checked and journaled like any other.
 *
 * The clock and the sender are injected: the tests step rounds on a fake clock and never
 * sleep.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument, LineCounter } from 'yaml';
import { CHANNEL_LIST, describeMissing, unconfigured } from '../channels/index.js';
import { loadConfig } from '../config.js';
import { clockTime, formatDuration, parseDuration } from '../core/duration.js';
import { openIncident } from '../core/incident.js';
import { listRuns } from '../core/journal.js';
import type { TemplateSet } from '../core/templates.js';
import { loadWatchConfig, WATCH_FILE, type WatchConfig } from '../core/watch/config.js';
import { decide, reminderDue, type OpenIncident } from '../core/watch/decide.js';
import { runProbe, type ProbeResult } from '../core/watch/probes.js';
import { WatchStore, type PendingMessage, type WatchState } from '../core/watch/state.js';
import { EXIT, UserError } from '../errors.js';
import { createOutput, type Output } from '../output.js';
import { SHIPPED_TEMPLATES } from '../paths.js';
import { loadInputs, loadTemplatesFor, planScenario, type PlanFlags } from './prepare.js';
import type { TuningFlags } from './tuning.js';
import { sleep } from '../core/sleep.js';

/** The shipped scenarios the watcher sends to its team. */
export const TEAM_SCENARIOS = { alert: 'alert-team', recovered: 'alert-team-recovered', reminder: 'alert-team-reminder' } as const;

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** A signal that aborts after `ms` with `reason` (a string the probe result repeats). */
  timeout(ms: number, reason: string): AbortSignal;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep,
  timeout: (ms, reason) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), ms).unref();
    return controller.signal;
  },
};

export interface SendRequest {
  scenario: string;
  group: string;
  vars: Record<string, string>;
}

export interface SendOutcome {
  /** False when nothing went out (the plan was refused): the message is tried again next round. */
  started: boolean;
  runId?: string;
  exitCode?: number;
  error?: string;
}

export type Sender = (request: SendRequest) => Promise<SendOutcome>;

export interface ProbeReport extends ProbeResult {
  name: string;
  kind: string;
  /** False when the probe was not due this round and its last result was reused. */
  ran: boolean;
  /** When that result was seen. */
  at: string;
}

export interface ActionReport {
  kind: PendingMessage['kind'];
  scenario: string;
  group: string;
  started: boolean;
  runId?: string;
  exitCode?: number;
  error?: string;
}

/** One round, as `--json` prints it and history.jsonl keeps it. */
export interface RoundReport {
  round: number;
  at: string;
  service: string;
  status: 'up' | 'down';
  change: 'down' | 'up' | null;
  downSince: string | null;
  roundFailed: boolean;
  failedRounds: number;
  windowRounds: number;
  cleanRounds: number;
  probes: ProbeReport[];
  incident: { open: boolean; lastUpdate: string | null; scenario: string | null; runId: string | null; nextDue: string | null };
  actions: ActionReport[];
  explanation: string;
}

export interface WatcherOptions {
  config: WatchConfig;
  clock: Clock;
  sender: Sender;
  service: string;
  /** Where `.notify/` is (runs and watch state). */
  cwd: string;
  /** The template folder: `update_every` is read from its scenario.yaml files. */
  templatesDir: string;
  /** Human lines (stderr in the command). */
  say?: (line: string) => void;
}

export class Watcher {
  readonly store: WatchStore;
  state: WatchState;
  private readonly say: (line: string) => void;

  constructor(private readonly options: WatcherOptions) {
    this.store = new WatchStore(options.cwd);
    const { state, notice } = this.store.load();
    this.state = state;
    this.say = options.say ?? (() => {});
    if (notice) this.say(notice);
  }

  /** One round: probe, decide, send what the decision calls for, save. Throws `Interrupted` if stopped while probing. */
  async round(stop: AbortSignal = new AbortController().signal): Promise<RoundReport> {
    const { config, clock, service } = this.options;
    const now = clock.now();
    const probes = await Promise.all(config.probes.map((probe) => this.check(probe, now, stop)));
    if (stop.aborted) throw new Interrupted();

    const failing = probes.filter((p) => !p.ok).map((p) => p.name);
    const decision = decide(this.state.memory, { at: now, failing, total: probes.length }, config, service);
    const previous = this.state.memory;
    this.state.memory = decision.memory;
    for (const p of probes) if (p.ran) this.state.probes[p.name] = { lastRun: p.at, ok: p.ok, detail: p.detail };
    const lines = [decision.explanation];

    if (decision.change === 'down') {
      const vars = {
        since: clockTime(new Date(decision.memory.downSince!), now),
        failed_rounds: `${decision.failedRounds} of ${decision.memory.window.length}`,
        checks: probes.filter((p) => !p.ok).map((p) => `${p.name}: ${p.detail}`).join('; '),
      };
      this.queue({ kind: 'alert', decidedAt: now.toISOString(), vars });
      if (config.auto) this.queue({ kind: 'auto', decidedAt: now.toISOString(), vars: config.auto.vars });
      lines.push(`Alerting the crisis team (${TEAM_SCENARIOS.alert} → group ${config.team}), never everyone: to inform everyone, notify outage --var eta=…`);
    }
    if (decision.change === 'up') {
      // An alert (or auto send) that never went out has nothing left to say.
      this.state.pending = this.state.pending.filter((m) => m.kind !== 'alert' && m.kind !== 'auto');
      if (this.state.alerted) {
        const since = previous.downSince ? clockTime(new Date(previous.downSince), now) : '?';
        this.queue({ kind: 'recovered', decidedAt: now.toISOString(), vars: { since, back_at: clockTime(now, now) } });
        lines.push(`Telling the crisis team (${TEAM_SCENARIOS.recovered}); when you agree it is over, tell everyone: notify resolved`);
      }
      this.state.alerted = false;
    }

    const incident = await this.incident(now, lines);
    this.store.save(this.state); // decided messages are on disk before any is sent
    const actions = await this.sendPending(now, lines);

    const report: RoundReport = {
      round: this.state.memory.rounds,
      at: now.toISOString(),
      service,
      status: this.state.memory.status,
      change: decision.change ?? null,
      downSince: this.state.memory.downSince ?? null,
      roundFailed: decision.roundFailed,
      failedRounds: decision.failedRounds,
      windowRounds: decision.memory.window.length,
      cleanRounds: decision.memory.cleanStreak,
      probes,
      incident,
      actions,
      explanation: lines.join(' '),
    };
    this.store.record(report);
    return report;
  }

  /** Run rounds until `stop` aborts; one round's unexpected error is reported, the next round still runs. */
  async run(stop: AbortSignal, onRound: (report: RoundReport) => void): Promise<void> {
    const { clock, config } = this.options;
    while (!stop.aborted) {
      const started = clock.now().getTime();
      try {
        onRound(await this.round(stop));
      } catch (error) {
        if (error instanceof Interrupted) break;
        this.say(`This round failed (${(error as Error).message}); the next one runs as planned.`);
      }
      await clock.sleep(started + config.intervalMs - clock.now().getTime(), stop);
    }
  }

  private async check(probe: WatchConfig['probes'][number], now: Date, stop: AbortSignal): Promise<ProbeReport> {
    const last = this.state.probes[probe.name];
    // 10 % slack: a round that wakes a little early still runs a probe on the round's own pace.
    const due = !last || now.getTime() - Date.parse(last.lastRun) >= probe.intervalMs * 0.9;
    if (!due) return { name: probe.name, kind: probe.kind, ok: last.ok, detail: last.detail, ran: false, at: last.lastRun };
    const cut = this.options.clock.timeout(probe.timeoutMs, `no answer within ${formatDuration(probe.timeoutMs)} (cut at its timeout)`);
    const result = await runProbe(probe, AbortSignal.any([stop, cut]), this.options.cwd);
    return { name: probe.name, kind: probe.kind, ...result, ran: true, at: now.toISOString() };
  }

  private queue(message: PendingMessage): void {
    this.state.pending.push(message);
  }

  /** The open customer incident and, when an update is due, a reminder queued for the team. */
  private async incident(now: Date, lines: string[]): Promise<RoundReport['incident']> {
    let open: OpenIncident | undefined;
    try {
      open = await openIncident(this.options.cwd);
    } catch (error) {
      lines.push(`(The run journals could not be read: ${(error as Error).message}.)`);
    }
    if (!open) return { open: false, lastUpdate: null, scenario: null, runId: null, nextDue: null };
    const every = updateEvery(this.options.templatesDir, open.scenario);
    const last = clockTime(open.at, now);
    const nextDue = every.ms === undefined ? null : new Date(open.at.getTime() + every.ms);
    if (every.problem) lines.push(every.problem);
    lines.push(nextDue
      ? `Incident open: last update to customers ${last} (${open.scenario}), next due ${clockTime(nextDue, now)}.`
      : `Incident open: last update to customers ${last} (${open.scenario}); ${open.scenario}/scenario.yaml sets no update_every, so no reminders.`);
    const due = reminderDue(open, every.ms, this.state.remindedFor, now);
    if (due && !this.state.pending.some((m) => m.kind === 'reminder')) {
      this.queue({
        kind: 'reminder', decidedAt: now.toISOString(), dueAt: due.dueAt.toISOString(),
        vars: { last_update: last, next_due: clockTime(due.dueAt, now), last_scenario: open.scenario },
      });
      lines.push('An update is due: reminding the crisis team.');
    }
    return { open: true, lastUpdate: open.at.toISOString(), scenario: open.scenario, runId: open.runId, nextDue: nextDue?.toISOString() ?? null };
  }

  /**
   * Send what was decided, one message at a time. Each is taken off the list (and the list
   * saved) before it starts, so a crash mid-send never pages twice — the journal then
   * holds an interrupted run that `notify resume` finishes. A plan refused before anything
   * went out (a contact file being edited…) goes back on the list for the next round.
   */
  private async sendPending(now: Date, lines: string[]): Promise<ActionReport[]> {
    const { config, sender, service } = this.options;
    const actions: ActionReport[] = [];
    for (const message of [...this.state.pending]) {
      const target = message.kind === 'auto' ? { scenario: config.auto!.scenario, group: config.auto!.group }
        : { scenario: TEAM_SCENARIOS[message.kind], group: config.team };
      this.state.pending = this.state.pending.filter((m) => m !== message);
      if (message.kind === 'alert') this.state.alerted = true;
      if (message.kind === 'reminder') this.state.remindedFor = message.dueAt;
      this.store.save(this.state);
      const vars = message.kind === 'auto' ? { ...message.vars } : { service, ...message.vars };
      let outcome: SendOutcome;
      try {
        outcome = await sender({ ...target, vars });
      } catch (error) {
        outcome = { started: true, error: (error as Error).message };
      }
      if (!outcome.started) {
        this.state.pending.push(message);
        if (message.kind === 'alert') this.state.alerted = false;
        if (message.kind === 'reminder') this.state.remindedFor = undefined;
        this.store.save(this.state);
      }
      actions.push({ kind: message.kind, ...target, ...outcome });
      lines.push(outcome.started
        ? `Sent ${target.scenario} to group ${target.group}${outcome.runId ? ` (run ${outcome.runId}${outcome.exitCode ? `, exit ${outcome.exitCode}: see notify report ${outcome.runId}` : ''})` : ''}${outcome.error ? `, with an error: ${outcome.error}` : ''}.`
        : `Could not send ${target.scenario} to group ${target.group}: ${outcome.error}; trying again next round (${clockTime(new Date(now.getTime() + config.intervalMs), now)}).`);
    }
    return actions;
  }
}

export class Interrupted extends Error {}

/** `update_every` of a scenario, read from its scenario.yaml (none, or a problem to report, when it is not a duration). */
export function updateEvery(templatesDir: string, scenario: string): { ms?: number; problem?: string } {
  const file = join(templatesDir, scenario, 'scenario.yaml');
  if (!existsSync(file)) return {};
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
  const node = doc.get('update_every', true) as { value?: unknown; range?: [number, number, number] } | undefined;
  if (node === undefined || node.value === undefined || node.value === null) return {};
  const ms = parseDuration(node.value);
  if (ms === undefined || ms <= 0) {
    const line = node.range ? lineCounter.linePos(node.range[0]).line : 1;
    return { problem: `${file}:${line}: update_every "${String(node.value)}" is not a duration; write it like 30m or 1h.` };
  }
  return { ms };
}

// ---------------------------------------------------------------------------------------
// The command

export interface WatchFlags extends TuningFlags {
  config?: string;
  once?: boolean;
  json?: boolean;
  contacts?: string;
  templates?: string;
}

export async function watch(flags: WatchFlags): Promise<number> {
  const config = loadWatchConfig(resolve(flags.config ?? WATCH_FILE));
  const appConfig = loadConfig();
  const out = createOutput({ ci: appConfig.ci });
  const templates = loadTemplatesFor(flags, appConfig);
  const service = config.service ?? templates.variables.service?.value ?? 'the service';
  preflight(config, templates, flags);
  for (const scenario of ['outage', 'update']) {
    const { problem } = updateEvery(templates.dir, scenario);
    if (problem) throw new UserError(problem.replace(/\.$/, '; fix it and run notify watch again.'));
  }

  const store = new WatchStore();
  const release = store.lock();
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(EXIT.interrupted); // second Ctrl-C: the state is saved after every step
    stop.abort('stopped');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const watcher = new Watcher({
      config, clock: systemClock, service, cwd: process.cwd(), templatesDir: templates.dir,
      sender: planSender(flags, out), say: (line) => out.line(line),
    });
    introduce(out, config, service, watcher.state);
    const show = (report: RoundReport) => {
      printRound(out, report);
      if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
    };
    if (flags.once) {
      try {
        const report = await watcher.round(stop.signal);
        show(report);
        return report.actions.some((a) => !a.started || a.error || (a.exitCode ?? 0) !== 0) ? EXIT.failed : EXIT.ok;
      } catch (error) {
        if (error instanceof Interrupted) return EXIT.interrupted;
        throw error;
      }
    }
    await watcher.run(stop.signal, show);
    out.line(`Stopped. State kept in ${join('.notify', 'watch', 'state.json')} (round ${watcher.state.memory.rounds}); notify watch resumes from it.`);
    return EXIT.interrupted;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    release();
  }
}

/**
 * Before the first round, not at 2 a.m.: the team scenarios exist, the contact list has
 * the team, and each team message renders for each of them.
 */
function preflight(config: WatchConfig, templates: TemplateSet, flags: WatchFlags): void {
  const wanted = [...Object.values(TEAM_SCENARIOS), ...(config.auto ? [config.auto.scenario] : [])];
  const missing = wanted.filter((s) => !templates.scenarios.has(s));
  if (missing.length > 0) {
    const shipped = missing.filter((s) => existsSync(join(SHIPPED_TEMPLATES, s)));
    throw new UserError(`The templates in ${templates.dir} have no ${missing.join(', ')} scenario${missing.length > 1 ? 's' : ''}${shipped.length
      ? `; copy the shipped one${shipped.length > 1 ? 's' : ''}: ${shipped.map((s) => `cp -R "${join(SHIPPED_TEMPLATES, s)}" "${templates.dir}/"`).join(' && ')}`
      : `; check the auto: scenario in ${config.file}`}.`);
  }
  const checks: { scenario: string; group: string; vars?: Record<string, string> }[] = [
    ...Object.values(TEAM_SCENARIOS).map((scenario) => ({ scenario, group: config.team })),
    ...(config.auto ? [{ scenario: config.auto.scenario, group: config.auto.group, vars: config.auto.vars }] : []),
  ];
  for (const { scenario, group, vars } of checks) {
    const inputs = loadInputs({ ...planFlags(flags), group: [group], var: toVarFlags(vars ?? {}) }, { live: true });
    // The team messages get their values from the watcher (their examples stand in here);
    // an auto: send has only what watch.yaml gives it, so a missing value must show now.
    const prepared = planScenario(inputs, templates.scenarios.get(scenario)!, { live: vars !== undefined });
    if (prepared.problems.length > 0) {
      const where = vars ? `the auto: send of ${config.file} (values go under auto: vars:)` : `${scenario} for group ${group}, which notify watch sends`;
      throw new UserError(`${where} cannot be sent as things stand; fix the problems above, then run notify watch again.`, prepared.problems);
    }
  }
}

function planFlags(flags: WatchFlags): PlanFlags {
  return { ...(flags.contacts && { contacts: flags.contacts }), ...(flags.templates && { templates: flags.templates }), broadcasts: false };
}

const toVarFlags = (vars: Record<string, string>) => Object.entries(vars).map(([k, v]) => `${k}=${v}`);

/**
 * The real sender: `send()` with `--yes`, one group, the watcher's variables, on every
 * configured person-to-person channel the scenario has templates for, and no broadcast
 * target (SLACK_CHANNEL, TELEGRAM_CHAT_ID reach everyone, not the team).
 */
export function planSender(flags: WatchFlags, out: Output): Sender {
  return async ({ scenario, group, vars }) => {
    const { send } = await import('./send.js');
    try {
      const appConfig = loadConfig();
      const templates = loadTemplatesFor(flags, appConfig);
      const withTemplates = new Set([...(templates.scenarios.get(scenario)?.files.values() ?? [])].map((f) => f.channel));
      const candidates = CHANNEL_LIST.filter((c) => c.columns.length > 0 && withTemplates.has(c.name)).map((c) => c.name);
      const notSet = unconfigured(candidates, appConfig);
      const channels = candidates.filter((c) => !notSet.some((m) => m.channel === c));
      if (channels.length === 0) {
        return { started: false, error: `no channel is configured (${describeMissing(notSet)})` };
      }
      if (notSet.length > 0) out.line(`(${describeMissing(notSet)}: ${scenario} goes out on ${channels.join(', ')} only.)`);
      const before = new Set(listRuns());
      const exitCode = await send(scenario, {
        ...planFlags(flags), ...tuning(flags), yes: true, group: [group], channels: channels.join(','), var: toVarFlags(vars),
        // Approved in advance in watch.yaml (the team alert, or `auto:`): nobody is there to type a count.
        confirmThreshold: String(Number.MAX_SAFE_INTEGER),
      });
      const runId = listRuns().find((r) => !before.has(r) && r.includes(`-${scenario}-`));
      return { started: true, exitCode, ...(runId && { runId }) };
    } catch (error) {
      if (error instanceof UserError) {
        const details = error.problems.map((p) => `${p.where}: ${p.message}`).join('; ');
        return { started: false, error: `${error.message}${details ? ` (${details})` : ''}` };
      }
      return { started: true, error: (error as Error).message };
    }
  };
}

function tuning(flags: TuningFlags): TuningFlags {
  const { rate, concurrency, maxAttempts, attemptTimeout } = flags;
  return { ...(rate && { rate }), ...(concurrency && { concurrency }), ...(maxAttempts && { maxAttempts }), ...(attemptTimeout && { attemptTimeout }) };
}

function introduce(out: Output, config: WatchConfig, service: string, state: WatchState): void {
  const { failed, of } = config.downAfter;
  out.line(out.color.bold(`notify watch · ${service}`));
  out.line(`${config.probes.length} probes (${config.probes.map((p) => `${p.name}: ${p.kind}`).join(', ')}), a round every ${formatDuration(config.intervalMs)}.`);
  out.line(`Down after ${failed} failed rounds of ${of} (a round fails when at least ${config.agree} probes fail); back up after ${config.upAfter} clean rounds. Messages go to group ${config.team} only${config.auto ? `, and (auto:) ${config.auto.scenario} to group ${config.auto.group}` : ''}.`);
  const personal = CHANNEL_LIST.filter((c) => c.columns.length > 0).map((c) => c.name);
  const notSet = unconfigured(personal, loadConfig());
  if (notSet.length === personal.length) {
    out.line(out.color.yellow(`No channel is configured to reach the crisis team (${describeMissing(notSet)}): alerts would fail. Set them in .env.`));
  } else if (notSet.length > 0) {
    out.line(`Not configured, so the crisis team is not told there: ${describeMissing(notSet)}.`);
  }
  if (state.memory.rounds > 0) {
    const m = state.memory;
    out.line(`Resuming from ${join('.notify', 'watch', 'state.json')}: ${m.rounds} rounds so far, ${service} ${m.status}${m.status === 'down' && m.downSince ? ` since ${clockTime(new Date(m.downSince))}` : ''}, ${m.window.filter((r) => r.failed).length} failed of the last ${m.window.length}.`);
  }
}

function printRound(out: Output, report: RoundReport): void {
  const at = new Date(report.at);
  out.line(out.color.bold(`${clockTime(at)} · round ${report.round} · ${report.service} ${report.status === 'down' ? out.color.red('DOWN') : 'up'}`));
  const width = Math.max(...report.probes.map((p) => p.name.length));
  for (const p of report.probes) {
    const mark = p.ok ? out.color.green('✓') : out.color.red('✗');
    const reused = p.ran ? '' : ` (not due; seen at ${clockTime(new Date(p.at), at)})`;
    out.line(`  ${mark} ${p.name.padEnd(width)}  ${p.detail}${reused}`);
  }
  out.line(`  → ${report.explanation}`);
}
