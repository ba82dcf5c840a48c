/**
 * The status page: a folder of static files (index.html, status.json, feed.xml) built
 * from what the journal says people were actually told. It reads the journal and the
 * templates and writes the folder; everything in between is pure.
 *
 * Which runs count — the page must never claim more than the messages did:
 * - published runs only: sent with `--status-page DIR` (the run record says `publish`).
 *   A test send to one person, or any send not meant for the public, never reaches the
 *   page unless it is asked to;
 * - live runs only (a dry run told nobody); a dry run's journal is never read past its
 *   first line (which says it is one), however large it is;
 * - scenarios `outage` (state down), `update` (degraded: still down, recovery in
 *   progress) and `resolved`; `drill` and custom scenarios are not incidents;
 * - at least one message `delivered`: a run that reached nobody (all failed, or
 *   interrupted before the first send) did not happen as far as readers know. A run
 *   that reached only some people counts: they will come looking for this page.
 * The time of an update is when it was sent: its first `delivered` record. Runs are
 * ordered by it, and the latest one sent wins (its ETA, its progress).
 *
 * The current incident starts with the first counted `outage` after the last `resolved`
 * (an `update` or `resolved` with no open incident starts one too, so a lost outage run
 * does not hide the rest). A repeated `outage` while one is open is another update of it.
 * With no counted run at all the page says there is no incident (state `operational`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Handlebars from 'handlebars';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { SHIPPED_TEMPLATES } from '../paths.js';
import { journalItems, readRunRecord } from './journal.js';
import { readRollCall, tally } from './rollcall.js';
import { journalFileProblem, journalPath, listRuns, RUNS_DIR } from './runs.js';
import { displayPath, loadTemplateSet } from './templates.js';

const STATE_OF_SCENARIO = { outage: 'down', update: 'degraded', resolved: 'resolved' } as const;
type IncidentScenario = keyof typeof STATE_OF_SCENARIO;
export type PageState = 'operational' | (typeof STATE_OF_SCENARIO)[IncidentScenario];

const STATE_SYMBOL: Record<PageState, string> = { operational: '✓', down: '✕', degraded: '!', resolved: '✓' };

/** What one counted run told people. */
export interface PublishedRun {
  runId: string;
  scenario: IncidentScenario;
  /** ISO time it was sent: its first delivery. */
  at: string;
  variables: Record<string, string>;
  /** A roll call's tally, counts only (never names). */
  rollCall?: RollCallCounts;
}

/** How many answered what, who is silent: what a public page may say of a roll call. */
export interface RollCallCounts {
  answers: { key: string; label: string; count: number }[];
  silent: number;
  unreachable: number;
}

/**
 * `status.json` — for other tools to poll. Locale-independent; times are ISO 8601 UTC.
 *
 * {
 *   "version": 1,
 *   "company": string | null,        // variable `company`
 *   "state": "operational" | "down" | "degraded" | "resolved",
 *   "service": string | null,        // the app that is down (variable `service`)
 *   "startedAt": string | null,      // first outage of the current incident
 *   "resolvedAt": string | null,     // set when state is "resolved"
 *   "eta": string | null,            // latest `eta` sent, as written ("14:00"); null once resolved
 *   "lastUpdated": string,           // latest counted run (generatedAt when there is none)
 *   "generatedAt": string,
 *   "url": string | null,            // `status_url`, when it is an http(s) URL
 *   "alternatives": [{ "kind": "phone" | "email" | "telegram" | "slack" | "signal" | "teams" | "discord",
 *                      "value": string, "href": string | null }],   // href null: not a safe link
 *   "updates": [{ "runId": string, "at": string, "scenario": "outage" | "update" | "resolved",
 *                 "state": "down" | "degraded" | "resolved", "eta": string | null,
 *                 "progress": string | null,
 *                 "rollCall": null | { "answers": [{ "key", "label", "count" }], "silent": number, "unreachable": number } }]
 *                                                                  // newest first; rollCall: counts only, never names
 * }
 */
export interface StatusJson {
  version: 1;
  company: string | null;
  state: PageState;
  service: string | null;
  startedAt: string | null;
  resolvedAt: string | null;
  eta: string | null;
  lastUpdated: string;
  generatedAt: string;
  url: string | null;
  alternatives: Alternative[];
  updates: Update[];
}

export interface Alternative {
  kind: AlternativeKind;
  value: string;
  href: string | null;
}

export interface Update {
  runId: string;
  at: string;
  scenario: IncidentScenario;
  state: Exclude<PageState, 'operational'>;
  eta: string | null;
  progress: string | null;
  /** The roll call's aggregate when the run asked for answers (counts only), else null. */
  rollCall: RollCallCounts | null;
}

// ───────────────────────────── reading the journal ─────────────────────────────

/**
 * Every counted run, oldest first by time of sending (run ids only sort to the minute),
 * and what could not be read, in one sentence each.
 */
export function readPublishedRuns(cwd = process.cwd()): { runs: PublishedRun[]; warnings: string[] } {
  const runs: PublishedRun[] = [];
  const warnings: string[] = [];
  for (const runId of listRuns(cwd)) {
    const problem = journalFileProblem(runId, cwd);
    if (problem) {
      warnings.push(`${problem}; it is left out of the page.`);
      continue;
    }
    const path = journalPath(runId, cwd);
    const run = readRunRecord(path); // the first line only: a dry run is read no further
    if (!run) {
      warnings.push(`${join(RUNS_DIR, `${runId}.jsonl`)}: line 1 is not a readable run record; it is left out of the page.`);
      continue;
    }
    if (run.dryRun || run.publish !== true || !(run.scenario in STATE_OF_SCENARIO)) continue;
    let sentAt: string | undefined;
    let replies = false;
    const damaged: number[] = [];
    for (const item of journalItems(path)) {
      if ('damage' in item) damaged.push(item.damage.line);
      else if (item.entry.kind === 'delivered') sentAt ??= item.entry.at;
      else if (item.entry.kind === 'reply') replies = true;
    }
    if (damaged.length > 0) {
      warnings.push(
        `run ${runId}: journal line${damaged.length > 1 ? 's' : ''} ${damaged.slice(0, 10).join(', ')}${damaged.length > 10 ? ', …' : ''} cannot be read (see notify report ${runId}); the page uses the rest.`,
      );
    }
    if (!sentAt) continue;
    const rollCall = replies ? rollCallCounts(runId, path, run.templatesDir, run.scenario) : undefined;
    runs.push({ runId, scenario: run.scenario as IncidentScenario, at: sentAt, variables: run.variables ?? {}, ...(rollCall && { rollCall }) });
  }
  runs.sort((a, b) => a.at.localeCompare(b.at) || a.runId.localeCompare(b.runId));
  return { runs, warnings };
}

// ───────────────────────────── the model (pure) ─────────────────────────────

/** The runs of the current (latest) incident, oldest first. */
export function currentIncident(runs: PublishedRun[]): PublishedRun[] {
  let incident: PublishedRun[] = [];
  for (const run of runs) {
    const closed = incident.length === 0 || incident.at(-1)!.scenario === 'resolved';
    // A new outage, or news about an incident we never saw open, starts a new one;
    // a second `resolved` (a correction) stays with the incident it closes.
    if (closed && !(run.scenario === 'resolved' && incident.length > 0)) incident = [];
    incident.push(run);
  }
  return incident;
}

/**
 * Build status.json from the counted runs. `defaults` (templates/variables.yaml) fill
 * what the runs do not say, so a calm-times page still lists how to reach us.
 */
/** The roll call of a published run, as counts: labels from its scenario when its templates can still be read. */
function rollCallCounts(runId: string, path: string, templatesDir: string, scenario: string): RollCallCounts | undefined {
  let answers;
  try {
    answers = loadTemplateSet(templatesDir, []).scenarios.get(scenario)?.answers;
  } catch {
    return undefined;
  }
  if (!answers) return undefined;
  const t = tally(readRollCall(runId, path), answers);
  return {
    answers: Object.entries(answers.labels).map(([key, label]) => ({ key, label, count: t.counts[key] ?? 0 })),
    silent: t.counts.silent, unreachable: t.counts.unreachable,
  };
}

export function buildStatus(runs: PublishedRun[], defaults: Record<string, string>, now: Date): StatusJson {
  const incident = currentIncident(runs);
  const latest = incident.at(-1);
  // Later runs win: the page shows what the most recent message said.
  const vars: Record<string, string> = { ...defaults };
  for (const run of incident) Object.assign(vars, nonEmpty(run.variables));
  const state: PageState = latest ? STATE_OF_SCENARIO[latest.scenario] : 'operational';
  const generatedAt = now.toISOString();
  const updates = incident.map((run): Update => ({
    runId: run.runId,
    at: run.at,
    scenario: run.scenario,
    state: STATE_OF_SCENARIO[run.scenario],
    eta: run.scenario === 'resolved' ? null : text(run.variables.eta),
    progress: run.scenario === 'update' ? text(run.variables.progress) : null,
    rollCall: run.rollCall ?? null,
  }));
  const lastEta = [...updates].reverse().find((u) => u.eta !== null)?.eta ?? null;
  return {
    version: 1,
    company: text(vars.company),
    state,
    service: text(vars.service),
    startedAt: incident[0]?.at ?? null,
    resolvedAt: state === 'resolved' ? latest!.at : null,
    eta: state === 'down' || state === 'degraded' ? lastEta : null,
    lastUpdated: latest?.at ?? generatedAt,
    generatedAt,
    url: webHref(vars.status_url),
    alternatives: alternatives(vars),
    updates: updates.reverse(),
  };
}

type AlternativeKind = 'phone' | 'email' | 'telegram' | 'slack' | 'signal' | 'teams' | 'discord';

/** Where people can reach us, in the order shown: variable → kind of link. */
const ALTERNATIVES: { kind: AlternativeKind; variable: string; href: (value: string) => string | null }[] = [
  { kind: 'phone', variable: 'hotline', href: telHref },
  { kind: 'email', variable: 'support_email', href: mailtoHref },
  { kind: 'telegram', variable: 'telegram_url', href: webHref },
  { kind: 'slack', variable: 'slack_url', href: webHref },
  { kind: 'signal', variable: 'signal_url', href: webHref },
  { kind: 'teams', variable: 'teams_url', href: webHref },
  { kind: 'discord', variable: 'discord_url', href: webHref },
];

function alternatives(vars: Record<string, string>): Alternative[] {
  const out: Alternative[] = [];
  for (const { kind, variable, href } of ALTERNATIVES) {
    const value = text(vars[variable]);
    if (value) out.push({ kind, value, href: safeHref(href(value)) });
  }
  return out;
}

/** `+33 1 99 00 12 34` → `tel:+33199001234`; anything that is not a dialable number → null. */
export function telHref(value: string): string | null {
  const dialable = value.replace(/[\s.\-()\u00a0]/g, '');
  return /^\+?\d{3,20}$/.test(dialable) ? `tel:${dialable}` : null;
}

export function mailtoHref(value: string): string | null {
  // Deliberately narrow: no spaces, no `?`/`&` (which would add headers or a body to the mail).
  return /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/.test(value) ? `mailto:${value}` : null;
}

export function webHref(value: string | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'tel:', 'mailto:']);

/** The last gate before an href: only http(s), tel and mailto ever become links (never `javascript:`). */
export function safeHref(href: string | null): string | null {
  if (!href) return null;
  try {
    return SAFE_PROTOCOLS.has(new URL(href).protocol) ? href : null;
  } catch {
    return null;
  }
}

function text(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

function nonEmpty(vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).filter(([, v]) => typeof v === 'string' && v.trim() !== ''));
}

// ───────────────────────────── rendering (pure) ─────────────────────────────

/** The texts of one locale (strings.<locale>.yaml): nested keys, plain-text values. */
export type Strings = { [key: string]: string | Strings };

function str(strings: Strings, path: string, values: Record<string, string | null> = {}): string {
  let node: string | Strings | undefined = strings;
  for (const key of path.split('.')) node = typeof node === 'object' ? node[key] : undefined;
  if (typeof node !== 'string') return path; // visible in the page, so a missing text gets noticed
  return node.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '');
}

function formatTime(iso: string, strings: Strings): { iso: string; text: string } {
  const locale = str(strings, 'dateLocale');
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat(locale, {
      day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
    });
  } catch {
    format = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short' });
  }
  return { iso, text: format.format(new Date(iso)) };
}

/** What index.hbs receives. Values are raw: Handlebars escapes them. */
export function pageContext(status: StatusJson, strings: Strings) {
  const service = status.service ?? '';
  const company = status.company ?? '';
  return {
    lang: str(strings, 'lang'),
    t: strings,
    company,
    title: company ? str(strings, 'pageTitle', { company }) : str(strings, 'heading'),
    heading: str(strings, 'heading'),
    state: {
      key: status.state,
      symbol: STATE_SYMBOL[status.state],
      label: str(strings, `states.${status.state}`),
      summary: str(strings, `summaries.${status.state}`, { service }),
    },
    service: status.state === 'operational' ? null : status.service,
    startedAt: status.startedAt ? formatTime(status.startedAt, strings) : null,
    // "Down since" is wrong once it is back up.
    startedLabel: str(strings, status.state === 'resolved' ? 'facts.wentDown' : 'facts.since'),
    resolvedAt: status.resolvedAt ? formatTime(status.resolvedAt, strings) : null,
    eta: status.eta,
    // Once resolved, the last update is the resolution: saying it twice adds nothing.
    lastUpdated: status.state === 'resolved' ? null : formatTime(status.lastUpdated, strings),
    alternativesHeading: str(strings, status.state === 'down' || status.state === 'degraded' ? 'alternatives.headingIncident' : 'alternatives.headingCalm'),
    alternatives: status.alternatives.map((a) => ({ label: str(strings, `alternatives.${a.kind}`), text: linkText(a), href: a.href })),
    timeline: status.updates.map((u) => ({
      anchor: anchorOf(u),
      state: u.state,
      at: formatTime(u.at, strings),
      title: str(strings, `timeline.${u.scenario}`, { service }),
      progress: u.progress,
      etaText: u.eta ? str(strings, u.scenario === 'update' ? 'timeline.newEta' : 'timeline.eta', { eta: u.eta }) : null,
      rollCallText: u.rollCall
        ? str(strings, 'timeline.rollCall', { counts: [...u.rollCall.answers.map((a) => `${a.label}: ${a.count}`), `${str(strings, 'timeline.silent')}: ${u.rollCall.silent}`].join(' · ') })
        : null,
    })),
    statusUrl: status.url,
    generatedText: str(strings, 'footer.generated', { time: formatTime(status.generatedAt, strings).text }),
  };
}

/**
 * `https://t.me/example_status` reads better as `t.me/example_status`; a phone number
 * gets no-break spaces so it never wraps in the middle on a narrow screen.
 */
function linkText(a: Alternative): string {
  if (a.kind === 'phone') return a.value.replace(/ /g, '\u00a0');
  if (a.href?.startsWith('http') && /^https?:\/\//i.test(a.value)) return a.value.replace(/^https?:\/\//i, '').replace(/\/$/, '');
  return a.value;
}

function anchorOf(update: Update): string {
  return `update-${update.runId.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Escape for XML text and attributes; characters XML 1.0 forbids (controls) are dropped. */
function xml(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => XML[c]!);
}

/** A name-based (SHA-1) UUID URN: a stable Atom id for a run, whatever the locale or host. */
function uuidUrn(name: string): string {
  const h = createHash('sha1').update(`crisis-notify:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * Atom 1.0 (RFC 4287): one entry per update of the current incident, newest first.
 * Links are relative to the feed (index.html sits beside it), so the folder works
 * wherever it is served.
 */
export function renderFeed(status: StatusJson, strings: Strings): string {
  const service = status.service ?? '';
  const company = status.company ?? '';
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${xml(str(strings, 'lang'))}">`,
    `  <id>${xml(status.url ?? uuidUrn(`feed:${company}`))}</id>`,
    `  <title>${xml(company ? str(strings, 'pageTitle', { company }) : str(strings, 'heading'))}</title>`,
    `  <subtitle>${xml(`${str(strings, `states.${status.state}`)}. ${str(strings, `summaries.${status.state}`, { service })}`)}</subtitle>`,
    `  <updated>${status.lastUpdated}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="feed.xml"/>`,
    `  <link rel="alternate" type="text/html" href="index.html"/>`,
    `  <author><name>${xml(company || 'crisis-notify')}</name></author>`,
    `  <generator>crisis-notify</generator>`,
  ];
  for (const u of status.updates) {
    const body = [
      u.scenario === 'update' ? u.progress : str(strings, `summaries.${u.state}`, { service }),
      u.eta ? str(strings, u.scenario === 'update' ? 'timeline.newEta' : 'timeline.eta', { eta: u.eta }) : null,
    ].filter(Boolean).join('\n');
    lines.push(
      '  <entry>',
      `    <id>${uuidUrn(`run:${u.runId}`)}</id>`,
      `    <title>${xml(str(strings, `timeline.${u.scenario}`, { service }))}</title>`,
      `    <published>${u.at}</published>`,
      `    <updated>${u.at}</updated>`,
      `    <link rel="alternate" type="text/html" href="index.html#${anchorOf(u)}"/>`,
      `    <content type="text">${xml(body)}</content>`,
      '  </entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}

// ───────────────────────────── templates and files ─────────────────────────────

/**
 * The status-page templates: `<templatesDir>/status-page/` file by file, else the
 * shipped ones, so a team can restyle index.hbs without copying the strings (or add
 * `strings.de.yaml` to offer German). A locale is available when a strings file exists.
 */
export function statusPageFiles(templatesDir: string) {
  const own = join(templatesDir, 'status-page');
  const shipped = join(SHIPPED_TEMPLATES, 'status-page');
  const candidates = (file: string) => [join(shipped, file), join(own, file)].filter((p, i, all) => all.indexOf(p) === i && existsSync(p));
  return {
    template: candidates('index.hbs').at(-1),
    /** Shipped first, then the team's: later files override earlier ones key by key. */
    strings: (locale: string) => (/^[a-z]{2}(-[A-Za-z0-9]+)?$/.test(locale) ? candidates(`strings.${locale}.yaml`) : []),
  };
}

export function availableLocales(templatesDir: string): string[] {
  const dirs = [join(SHIPPED_TEMPLATES, 'status-page'), join(templatesDir, 'status-page')];
  const found = new Set<string>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const m = /^strings\.(.+)\.yaml$/.exec(f);
      if (m) found.add(m[1]!);
    }
  }
  return [...found].sort();
}

function loadStrings(paths: string[]): Strings {
  let merged: Strings = {};
  for (const path of paths) {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new UserError(`${displayPath(path)} is not valid YAML (${(error as Error).message.split('\n')[0]}).`);
    }
    if (raw !== null && raw !== undefined) {
      if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${displayPath(path)} must hold key: text pairs.`);
      merged = deepMerge(merged, raw as Strings);
    }
  }
  return merged;
}

function deepMerge(base: Strings, over: Strings): Strings {
  const out: Strings = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    if (value && typeof value === 'object') out[key] = deepMerge(typeof prev === 'object' ? prev : {}, value);
    else out[key] = value === null || value === undefined ? '' : String(value); // YAML may give numbers, or null for `key:`
  }
  return out;
}

/** Replace a file in one step, so a web server never serves half a page. */
function writeAtomic(path: string, content: string): void {
  const temp = join(path, '..', `.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, content, { mode: 0o644 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export interface StatusPageOptions {
  /** Where the journal (.notify/runs) is; default the working directory. */
  cwd?: string;
  outDir: string;
  /** Page language; needs a strings.<locale>.yaml (shipped: fr, en). */
  locale: string;
  /** The template directory (variables.yaml; status-page/ overrides the shipped page). */
  templatesDir: string;
  now?: Date;
}

/**
 * Build the page from the journal and write index.html, status.json and feed.xml into
 * outDir. `warnings`: journal lines or files that could not be read (the page uses the rest).
 */
export async function writeStatusPage(options: StatusPageOptions): Promise<{ files: string[]; state: string; warnings: string[] }> {
  const cwd = options.cwd ?? process.cwd();
  const files = statusPageFiles(options.templatesDir);
  const stringFiles = files.strings(options.locale);
  if (stringFiles.length === 0) {
    throw new UserError(
      `There is no status page text for locale "${options.locale}"; use --locale ${availableLocales(options.templatesDir).join(' or ')} (or add status-page/strings.${options.locale}.yaml to your templates).`,
    );
  }
  if (!files.template) throw new UserError(`No status-page/index.hbs found in ${displayPath(options.templatesDir)} or the shipped templates.`);
  const strings = loadStrings(stringFiles);
  const defaults = Object.fromEntries(Object.entries(loadTemplateSet(options.templatesDir, [] /* only variables.yaml is read here */).variables).map(([k, v]) => [k, v.value]));

  const { runs, warnings } = readPublishedRuns(cwd);
  const status = buildStatus(runs, defaults, options.now ?? new Date());
  let html: string;
  try {
    const template = Handlebars.create().compile(readFileSync(files.template, 'utf8'));
    html = template(pageContext(status, strings));
  } catch (error) {
    throw new UserError(`${displayPath(files.template)}: ${(error as Error).message.split('\n')[0]}`);
  }

  const outDir = resolve(cwd, options.outDir);
  const written: [string, string][] = [
    ['index.html', html],
    ['status.json', JSON.stringify(status, null, 2) + '\n'],
    ['feed.xml', renderFeed(status, strings)],
  ];
  let paths: string[];
  try {
    mkdirSync(outDir, { recursive: true }); // EEXIST when outDir is a file
    paths = written.map(([name, content]) => {
      const path = join(outDir, name);
      writeAtomic(path, content);
      return path;
    });
  } catch (error) {
    throw outDirError(error as NodeJS.ErrnoException, outDir);
  }
  return { files: paths, state: status.state, warnings };
}

/** Why the page could not be written into `outDir`, and what to do, in one sentence. */
function outDirError(error: NodeJS.ErrnoException, outDir: string): UserError {
  const shown = displayPath(outDir);
  switch (error.code) {
    case 'EEXIST':
      return new UserError(`${shown} is a file, not a folder; give the status page a folder (it is created if missing).`);
    case 'ENOTDIR':
      return new UserError(`${shown} is inside a file, not a folder; give the status page a folder (it is created if missing).`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UserError(`The status page cannot be written into ${shown}: that folder is read-only for you (${error.code}); choose a folder you can write to, or change its permissions.`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new UserError(`The status page cannot be written into ${shown}: the disk is full (${error.code}); free some space and run it again.`);
    default:
      return new UserError(`The status page cannot be written into ${shown} (${error.code ?? error.message}); check that folder.`);
  }
}
