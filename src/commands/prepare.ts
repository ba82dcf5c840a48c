/**
 * Everything before the first send, shared by `notify <scenario>`, `check` and `preview`:
 * config, contacts, templates, variables, channels → a complete, checked plan.
 */
import { randomBytes } from 'node:crypto';
import { CHANNEL_LIST, parseChannels } from '../channels/index.js';
import type { Channel } from '../core/channel.js';
import { loadConfig, type Config } from '../config.js';
import { openContacts, type ContactStream } from '../core/contacts.js';
import { buildPlan, type Delivery, type Plan, type PlanInput } from '../core/plan.js';
import { loadTemplateSet, type Scenario, type TemplateSet } from '../core/templates.js';
import type { ChannelName, Problem } from '../core/types.js';
import { readSuppressions, suppressionsFor } from '../core/suppressions.js';
import { emptyValueProblems, givenVariables, resolveVariables } from '../core/variables.js';
import { UserError } from '../errors.js';
import { contactsSource, templatesDir, type ContactsSource } from '../paths.js';
import { keepHeapNearLive } from '../heap.js';

export interface PlanFlags {
  contacts?: string;
  templates?: string;
  channels?: string;
  group?: string[];
  contact?: string[];
  var?: string[];
  vars?: string;
  maxSmsSegments?: string;
  skipInvalid?: boolean;
  /** false: no group target (SLACK_CHANNEL, TELEGRAM_CHAT_ID…), only the people selected (`notify watch` alerting its team). */
  broadcasts?: boolean;
}

export interface Prepared {
  config: Config;
  runId: string;
  source: ContactsSource;
  contacts: ContactStream;
  templates: TemplateSet;
  scenario: Scenario;
  channels: Channel[];
  variables: Record<string, string>;
  plan: Plan;
  /** Every problem that blocks sending: invalid contacts (unless skipped), templates, limits, filters. */
  problems: Problem[];
  /** Things worth saying that block nothing. */
  notices: Problem[];
}

export function loadTemplatesFor(flags: PlanFlags, config: Config): TemplateSet {
  return loadTemplateSet(templatesDir(flags.templates, config), CHANNEL_LIST);
}

export function findScenario(templates: TemplateSet, name: string): Scenario {
  const scenario = templates.scenarios.get(name);
  if (!scenario) {
    const known = [...templates.scenarios.keys()].sort().join(', ') || 'none';
    throw new UserError(`Unknown scenario "${name}"; the templates in ${templates.dir} define: ${known}.`);
  }
  return scenario;
}

export function newRunId(scenario: string, now = new Date()): string {
  // Readable and sortable, with no long digit run (so CI masking never mistakes it for a phone number).
  const stamp = now.toISOString().slice(0, 16).replace('T', '-').replace(':', '');
  return `${stamp}-${scenario}-${randomBytes(2).toString('hex')}`;
}

/** What every scenario of one invocation shares: read once. */
export interface Inputs {
  config: Config;
  source: ContactsSource;
  contacts: ContactStream;
  templates: TemplateSet;
  channels: Channel[];
  strategy: 'all' | 'first';
  given: Record<string, string>;
  /** Where each given value came from (`--var eta=`, `--vars FILE:line`). */
  givenFrom: Record<string, string>;
  maxSmsSegments: number;
  skipInvalid: boolean;
  groups: string[];
  contactNames: string[];
  broadcasts: boolean;
}

export function loadInputs(flags: PlanFlags, options: { live: boolean; strategy?: 'all' | 'first' }): Inputs {
  const config = loadConfig();
  const channels = parseChannels(flags.channels, config, options.strategy);
  const maxSmsSegments = parseSegments(flags.maxSmsSegments);
  const { values: given, origins: givenFrom } = givenVariables(flags.var ?? [], flags.vars);
  const templates = loadTemplatesFor(flags, config);
  const source = contactsSource(flags.contacts, config, options.live);
  keepHeapNearLive(source.path);
  const contacts = openContacts(source.path, { defaultRegion: config.defaultRegion, defaultLocale: config.defaultLocale, channels: CHANNEL_LIST });
  return {
    config, source, contacts, templates, channels, strategy: options.strategy ?? 'all', given, givenFrom, maxSmsSegments, skipInvalid: flags.skipInvalid ?? false,
    groups: (flags.group ?? []).map((g) => g.toLowerCase()), contactNames: flags.contact ?? [], broadcasts: flags.broadcasts ?? true,
  };
}

export interface PlanOptions {
  live: boolean;
  now?: Date;
  /** Called once the run id and variables are known, before the first delivery. */
  onStart?: (run: { runId: string; variables: Record<string, string> }) => void;
  /** Sees every delivery as it is rendered (a send records it, a preview keeps a few). */
  onDelivery?: (delivery: Delivery) => void;
}

export function prepare(scenarioName: string, flags: PlanFlags, options: PlanOptions): Prepared {
  const inputs = loadInputs(flags, options);
  return planScenario(inputs, findScenario(inputs.templates, scenarioName), options);
}

export function planScenario(inputs: Inputs, scenario: Scenario, options: PlanOptions): Prepared {
  const { config, templates, contacts, channels, given, source } = inputs;
  const { values, missing, fromExamples } = resolveVariables(templates, scenario, given, !options.live);
  const now = options.now ?? new Date();
  const runId = newRunId(scenario.name, now);
  const broadcasts: Partial<Record<ChannelName, string>> = {};
  for (const channel of inputs.broadcasts ? channels : []) {
    // A broadcast-only channel (Teams, Discord) named without its target still shows what it
    // would say; a live send then stops on its missing variable.
    const placeholder = channel.columns.length === 0 ? `(${channel.missingConfig(config).join(', ')} not set)` : undefined;
    const to = channel.broadcastAddress?.(config) ?? placeholder;
    if (to) broadcasts[channel.name] = to;
  }
  // Opted-out addresses (.notify/suppressions.csv) are skipped, and listed, unless the scenario says otherwise.
  const suppressed = suppressionsFor(readSuppressions(), scenario.ignoreSuppressions ?? false);
  const planInput: PlanInput = {
    runId, scenario, templates, contacts: mapped(contacts.contacts, suppressed.apply), knownGroups: Object.keys(contacts.groupSizes), channels, variables: values,
    groups: inputs.groups, contactNames: inputs.contactNames,
    broadcasts, strategy: inputs.strategy, limits: { maxSmsSegments: inputs.maxSmsSegments }, now, defaultLocale: config.defaultLocale,
  };
  options.onStart?.({ runId, variables: values });
  const plan = buildPlan(planInput, options.onDelivery);

  const problems: Problem[] = [
    ...scenario.badFiles.map((f) => ({ where: f.path, message: f.message, group: 'templates' })),
    ...(inputs.skipInvalid ? [] : contacts.invalid),
    ...missing.map((v) => ({
      where: `${scenario.name}/scenario.yaml`,
      message: options.live
        ? `variable "${v}" has no value; pass it with --var ${v}=… (example: ${scenario.variables[v]?.example ?? 'none'}).`
        : `variable "${v}" has neither an example nor a default; add "example:" to it so drills and checks can render.`,
      group: 'variables',
    })),
    ...emptyValueProblems(templates, scenario, values, inputs.givenFrom),
    ...plan.problems,
  ];
  const notices: Problem[] = [
    ...(source.isExample ? [{ where: 'contacts', message: 'no contacts.csv here: using the shipped example list (contacts.example.csv).' }] : []),
    ...(inputs.skipInvalid ? contacts.invalid.map((p) => ({ ...p, message: `skipped: ${p.message}` })) : []),
    ...contacts.notices,
    ...plan.notes,
    ...suppressed.notices,
    ...plan.warnings,
    ...fromExamples.map((v) => ({ where: `${scenario.name}/scenario.yaml`, message: `"${v}" takes its example value "${values[v]}".` })),
    ...Object.keys(given)
      .filter((v) => !(v in scenario.variables) && !(v in templates.variables))
      .map((v) => ({ where: '--var', message: `"${v}" is not declared by scenario ${scenario.name}; check the spelling.` })),
  ];
  return {
    config, runId, source, contacts, templates, scenario, channels, variables: values,
    plan, problems, notices,
  };
}

function parseSegments(flag: string | undefined): number {
  if (flag === undefined) return 2;
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    throw new UserError(`--max-sms-segments ${flag} must be a whole number from 1 to 10.`);
  }
  return n;
}

/** Each item of an iterable, changed by `change`, as it is read (and read again). */
function mapped<T, U>(items: Iterable<T>, change: (item: T) => U): Iterable<U> {
  return {
    *[Symbol.iterator]() {
      for (const item of items) yield change(item);
    },
  };
}
