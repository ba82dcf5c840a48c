/**
 * The pre-written plan on disk: `templates/<scenario>/<channel>[.<audience>][.<locale>].hbs`,
 * `templates/partials/*.hbs`, `templates/variables.yaml` and `templates/<scenario>/scenario.yaml`.
 * Loading reads files only; compiling and rendering happen while planning, in strict
 * mode, so a variable nobody provides is caught before anything is sent.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Handlebars from 'handlebars';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { parseAnswers, type Answers } from './answers.js';
import type { Channel } from './channel.js';
import type { ChannelName } from './types.js';

/** Folders of the template directory that are not scenarios. */
const NOT_SCENARIOS = new Set(['partials', 'status-page']);
const LOCALE = /^[a-z]{2}$/;

export interface VariableSpec {
  description?: string;
  example?: string;
  default?: string;
  /** The messages read well without it: an empty value (or none) is allowed. */
  optional?: boolean;
}

export interface TemplateFile {
  /** Path as shown to the user. */
  path: string;
  channel: ChannelName;
  audience?: string;
  locale?: string;
  /** The HTML alternative of an email (`email[.aud][.loc].html.hbs`). */
  html: boolean;
  source: string;
  /** Email subject from front matter. */
  subjectSource?: string;
  /** Lines taken by the front matter, to report body errors at the file's real line. */
  bodyLineOffset: number;
}

export interface Scenario {
  name: string;
  dir: string;
  description: Record<string, string>;
  /** Only contacts in one of these groups receive it; empty = everyone. */
  groups: string[];
  variables: Record<string, VariableSpec>;
  files: Map<string, TemplateFile>;
  /** Files whose names do not follow the convention. */
  badFiles: { path: string; message: string }[];
  /** A roll call: the replies it expects (`answers:` in scenario.yaml). */
  answers?: Answers;
  /** `ignore_suppressions: true`: opted-out addresses still get this scenario (safety roll calls). */
  ignoreSuppressions?: boolean;
  /** Sub-folders `reminder/` and `escalation/`: what `notify rollcall` sends to the silent and about them. */
  reminder?: Scenario;
  escalation?: Scenario;
}

export interface TemplateSet {
  dir: string;
  /** Organisation-wide values from variables.yaml. */
  variables: Record<string, { value: string; description?: string }>;
  scenarios: Map<string, Scenario>;
  handlebars: typeof Handlebars;
}

/** The channel declarations template file names are checked against. */
export type TemplateChannels = readonly Pick<Channel, 'name' | 'html'>[];

export function loadTemplateSet(dir: string, channels: TemplateChannels): TemplateSet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`Template directory ${dir} does not exist; pass one with --templates DIR or set NOTIFY_TEMPLATES.`);
  }
  const handlebars = Handlebars.create();
  const partialsDir = join(dir, 'partials');
  if (existsSync(partialsDir)) {
    for (const file of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs'))) {
      handlebars.registerPartial(file.slice(0, -4), readFileSync(join(partialsDir, file), 'utf8'));
    }
  }
  const variables = readYaml(join(dir, 'variables.yaml')) as TemplateSet['variables'];
  const scenarios = new Map<string, Scenario>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !NOT_SCENARIOS.has(entry.name)) {
      scenarios.set(entry.name, loadScenario(join(dir, entry.name), entry.name, channels));
    }
  }
  return { dir, variables: stringValues(variables), scenarios, handlebars };
}

function loadScenario(dir: string, name: string, channels: TemplateChannels): Scenario {
  const meta = readYaml(join(dir, 'scenario.yaml')) as {
    description?: string | Record<string, string>;
    groups?: string[];
    variables?: Record<string, VariableSpec>;
    answers?: unknown;
    reactions?: unknown;
    ignore_suppressions?: unknown;
  };
  const yamlPath = displayPath(join(dir, 'scenario.yaml'));
  const rollCall = parseAnswers(meta.answers, meta.reactions, yamlPath);
  const scenario: Scenario = {
    name,
    dir,
    description: typeof meta.description === 'string' ? { en: meta.description } : (meta.description ?? {}),
    groups: (meta.groups ?? []).map((g) => String(g).toLowerCase()),
    variables: meta.variables ?? {},
    files: new Map(),
    badFiles: rollCall.problems.map((p) => ({ path: p.where, message: p.message })),
    ...(rollCall.answers && { answers: rollCall.answers }),
    ...(meta.ignore_suppressions === true && { ignoreSuppressions: true }),
  };
  for (const part of ['reminder', 'escalation'] as const) {
    const sub = join(dir, part);
    if (existsSync(sub) && statSync(sub).isDirectory()) {
      scenario[part] = loadScenario(sub, `${name}/${part}`, channels);
      if (rollCall.answers && part === 'reminder') scenario[part]!.answers ??= rollCall.answers; // the silent answer a reminder
    }
  }
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs'))) {
    const path = displayPath(join(dir, file));
    const parsed = parseFileName(file, channels);
    if (typeof parsed === 'string') {
      scenario.badFiles.push({ path, message: parsed });
      continue;
    }
    const source = readFileSync(join(dir, file), 'utf8');
    const { frontMatter, body, lines } = splitFrontMatter(source);
    const subject = frontMatter?.subject;
    scenario.files.set(file, {
      path, ...parsed, source: body, bodyLineOffset: lines,
      ...(subject !== undefined && { subjectSource: String(subject) }),
    });
  }
  return scenario;
}

/** `email.vip.fr.html.hbs` → channel email, audience vip, locale fr, html. */
export function parseFileName(file: string, channels: TemplateChannels): Omit<TemplateFile, 'path' | 'source' | 'bodyLineOffset'> | string {
  const parts = file.slice(0, -'.hbs'.length).split('.');
  const channel: ChannelName = parts.shift()!;
  const declared = channels.find((c) => c.name === channel);
  if (!declared) {
    return `"${channel}" is not a channel; name template files <channel>[.<audience>][.<locale>].hbs with channel one of ${channels.map((c) => c.name).join(', ')}.`;
  }
  const html = declared.html === true && parts.at(-1) === 'html';
  if (html) parts.pop();
  const locale = parts.length > 0 && LOCALE.test(parts.at(-1)!) ? parts.pop() : undefined;
  if (parts.length > 1) return `too many parts in the name; use <channel>[.<audience>][.<locale>].hbs.`;
  const audience = parts[0]?.toLowerCase();
  return { channel, html, ...(audience && { audience }), ...(locale && { locale }) };
}

/**
 * The most specific template for this contact: audience+locale, then locale, then
 * audience, then the generic file. Language wins over audience: a generic message in the
 * reader's language beats a tailored one they cannot read. Audiences are the contact's
 * groups, first listed first.
 */
export function resolveTemplate(
  scenario: Scenario, channel: ChannelName, groups: string[], locale: string, html = false,
): TemplateFile | undefined {
  const suffix = html ? '.html.hbs' : '.hbs';
  const candidates = [
    ...groups.map((g) => `${channel}.${g}.${locale}`),
    `${channel}.${locale}`,
    ...groups.map((g) => `${channel}.${g}`),
    channel,
  ];
  for (const name of candidates) {
    const file = scenario.files.get(name + suffix);
    if (file) return file;
  }
  return undefined;
}

/**
 * `resolveTemplate`, remembered per list of groups: people share their list (one per
 * distinct groups cell, core/contacts.ts), so a plan resolves each combination once.
 */
export type TemplateFor = (channel: ChannelName, groups: string[], locale: string, html?: boolean) => TemplateFile | undefined;

export function templateResolver(scenario: Scenario): TemplateFor {
  const byGroups = new WeakMap<string[], Map<string, TemplateFile | undefined>>();
  return (channel, groups, locale, html = false) => {
    let known = byGroups.get(groups);
    if (!known) byGroups.set(groups, (known = new Map()));
    const key = html ? `${channel} ${locale} html` : `${channel} ${locale}`;
    if (!known.has(key)) known.set(key, resolveTemplate(scenario, channel, groups, locale, html));
    return known.get(key);
  };
}

function splitFrontMatter(source: string): { frontMatter?: Record<string, unknown>; body: string; lines: number } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(source);
  if (!match) return { body: source, lines: 0 };
  return {
    frontMatter: (parseYaml(match[1]!) ?? {}) as Record<string, unknown>,
    body: source.slice(match[0].length),
    lines: match[0].split('\n').length - 1,
  };
}

function readYaml(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    return (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line ?? 1;
    throw new UserError(`${displayPath(path)}:${line}: not valid YAML (${(error as Error).message.split('\n')[0]}).`);
  }
}

function stringValues(raw: Record<string, unknown>): TemplateSet['variables'] {
  const out: TemplateSet['variables'] = {};
  for (const [key, spec] of Object.entries(raw)) {
    const s = (spec && typeof spec === 'object' ? spec : { value: spec }) as { value?: unknown; description?: string };
    out[key] = { value: String(s.value ?? ''), ...(s.description && { description: s.description }) };
  }
  return out;
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
