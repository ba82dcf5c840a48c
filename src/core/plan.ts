/**
 * Planning: contacts × channels × templates → deliveries. Pure: it reads nothing and
 * sends nothing, and it is complete before dispatch starts — every message rendered and
 * checked, every problem collected (not just the first).
 */
import { hash } from 'node:crypto';
import type { Channel, CheckLimits } from './channel.js';
import { BlastTally } from './blast-radius.js';
import { addressColumns } from './contacts.js';
import { contextFactory, type ContextFor } from './context.js';
import { escapeHtml } from './escape.js';
import { PlanRenders } from './render.js';
import { selectByName, type NameSelection } from './select.js';
import type { SmsLength } from './sms-encoding.js';
import { templateResolver, type Scenario, type TemplateFor, type TemplateSet } from './templates.js';
import type { ChannelName, Contact, Problem, Rendered } from './types.js';

export interface Delivery {
  /** Stable id: the same run, contact and channel always give the same id. */
  id: string;
  channel: ChannelName;
  contact: { key: string; name: string; line?: number };
  /** The recipient's language. */
  locale: string;
  /** Template that produced the body (for previews and the journal). */
  template: string;
  message: Rendered;
  sms?: SmsLength;
}

export interface PlanInput {
  runId: string;
  scenario: Scenario;
  templates: TemplateSet;
  /** Read once, in order (a contact list of any size is streamed, not held). */
  contacts: Iterable<Contact>;
  /** Every group of the list, when known without reading it (else found by a pass over `contacts`). */
  knownGroups?: Iterable<string>;
  channels: Channel[];
  variables: Record<string, string>;
  /** --group: only contacts in one of these groups. */
  groups: string[];
  /** --contact: only these people (by name, accents and case aside). */
  contactNames: string[];
  /** Group targets that get each broadcast once (SLACK_CHANNEL, TELEGRAM_CHAT_ID, a Teams webhook…). */
  broadcasts: Partial<Record<ChannelName, string>>;
  /** With `first`, a channel that cannot work for a contact (SMS to a landline) gives way to the next one. */
  strategy?: 'all' | 'first';
  limits: CheckLimits;
  now: Date;
  defaultLocale: string;
}

export interface ChannelSummary {
  messages: number;
  /** Distinct people (broadcasts excluded). */
  people: number;
  /** Group target that receives the broadcast once, if any. */
  broadcastTo?: string;
  maxSmsSegments: number;
  ucs2: number;
}

export interface Plan {
  /** Per channel, in plan order. */
  channels: Map<ChannelName, ChannelSummary>;
  messages: number;
  /** The first delivery rendered with each template: what the lead previews. */
  previews: Delivery[];
  problems: Problem[];
  /** How many people the plan targets. */
  recipients: number;
  /** People targeted who have no address on any selected channel: they would be missed. */
  unreachable: Contact[];
  /** Worth fixing, but no reason to hold the messages back (an SMS to a landline…). */
  warnings: Problem[];
  /** What the plan changed on its own, worth saying (a landline called instead of texted). */
  notes: Problem[];
  /** Messages planned to an address their channel cannot serve (an SMS to a landline). */
  unsuitable: number;
  /** Countries, billed units and UCS-2 culprits, for the blast-radius preview. */
  tally: BlastTally;
}

export function deliveryId(runId: string, contactKey: string, channel: string): string {
  return hash('sha256', `${runId}\0${contactKey}\0${channel}`, 'hex').slice(0, 24);
}

/**
 * Render and check every delivery. Each one is handed to `onDelivery` and not kept, so
 * that 100,000 contacts × 4 channels never sit in memory at once; the plan keeps counts,
 * problems and one preview per template. The same input always gives the same
 * deliveries (ids included), so a second pass after confirmation sends what was checked.
 */
export function buildPlan(input: PlanInput, onDelivery: (delivery: Delivery) => void = () => {}): Plan {
  const problems = new ProblemList();
  const selected = selectRecipients(input, problems);
  const plan: Plan = {
    channels: new Map(), messages: 0, previews: [], problems: [], recipients: 0, unreachable: [], warnings: [], notes: [], unsuitable: 0,
    tally: new BlastTally(input.channels),
  };
  const seenTemplates = new Set<string>();
  const omitted = new Map<Problem[], number>();
  // Renders and template choices shared by people alike (render.ts, templates.ts).
  const shared = { renders: new PlanRenders(input.templates), templateFor: templateResolver(input.scenario) };
  const emit = (delivery: Delivery | undefined, broadcast = false) => {
    if (!delivery) return;
    count(plan, delivery, broadcast);
    plan.tally.add(delivery);
    if (!seenTemplates.has(delivery.template)) {
      seenTemplates.add(delivery.template);
      plan.previews.push(delivery);
    }
    onDelivery(delivery);
  };
  const contextFor = contextFactory({
    variables: input.variables, scenario: input.scenario.name, runId: input.runId, now: input.now,
    addressColumns: addressColumns(input.channels).map((c) => c.name),
  });

  for (const contact of input.contacts) {
    if (!selected(contact)) continue;
    plan.recipients += 1;
    const context = contextFor(contact);
    const channels = input.channels.filter((c) => contact.addresses[c.name]);
    for (const channel of channels) {
      const unsuitable = channel.unsuitable?.(contact);
      if (unsuitable) {
        const instead = input.strategy === 'first' ? channels.filter((c) => !c.unsuitable?.(contact)).map((c) => c.name) : [];
        const where = `contacts line ${contact.line}`;
        if (instead.length > 0) {
          keep(plan.notes, { where, message: `${unsuitable}, so no ${channel.name}: tried on ${instead.join(', ')} instead.`, group: 'contacts' });
          continue;
        }
        plan.unsuitable += 1;
        keep(plan.warnings, { where, message: `${unsuitable}: the ${channel.name} message will fail there; fix the contact (the other channels still go out).`, group: 'contacts' });
      }
      emit(renderDelivery(input, channel, contact, contact.addresses[channel.name]!, context, problems, shared));
    }
    if (channels.length === 0) plan.unreachable.push(contact);
  }
  for (const channel of input.channels) {
    const to = input.broadcasts[channel.name];
    if (!to) continue;
    const everyone: Contact = {
      line: 0, name: to, role: '', groups: ['broadcast'], locale: input.defaultLocale, extra: {}, key: `broadcast:${channel.name}`,
      columns: {}, addresses: { [channel.name]: to },
    };
    emit(renderDelivery(input, channel, everyone, to, contextFor(everyone), problems, shared), true);
  }
  if (plan.recipients === 0 && problems.size === 0) {
    problems.add({ where: '--group/--contact', message: 'the plan selects nobody; check the group and contact filters.', group: 'plan' });
  }
  if (plan.recipients > 0 && plan.messages === 0 && problems.size === 0) {
    problems.add({
      where: '--channels',
      message: `none of the ${plan.recipients} selected contacts has an address on ${input.channels.map((c) => c.name).join(', ')}; choose other channels.`,
      group: 'plan',
    });
  }
  plan.problems = problems.list();
  for (const list of [plan.notes, plan.warnings]) {
    const more = omitted.get(list) ?? 0;
    if (more > 0) list.push({ where: 'contacts', message: `and ${more.toLocaleString('en-US')} more rows like these (notify contacts check lists every row).`, group: 'contacts' });
  }
  return plan;

  /**
   * Per-row notes and warnings are kept up to a point: a list with 150,000 landlines
   * would otherwise hold (and print) 150,000 sentences that say the same thing.
   */
  function keep(list: Problem[], problem: Problem): void {
    if (list.length < KEPT_PER_ROW_NOTICES) list.push(problem);
    else omitted.set(list, (omitted.get(list) ?? 0) + 1);
  }
}

/** Per-row notes or warnings listed by a plan; the rest are counted. */
export const KEPT_PER_ROW_NOTICES = 200;

function count(plan: Plan, delivery: Delivery, broadcast: boolean): void {
  let summary = plan.channels.get(delivery.channel);
  if (!summary) plan.channels.set(delivery.channel, (summary = { messages: 0, people: 0, maxSmsSegments: 0, ucs2: 0 }));
  plan.messages += 1;
  summary.messages += 1;
  if (broadcast) summary.broadcastTo = delivery.message.to;
  else summary.people += 1;
  if (delivery.sms) {
    summary.maxSmsSegments = Math.max(summary.maxSmsSegments, delivery.sms.segments);
    if (delivery.sms.encoding === 'UCS-2') summary.ucs2 += 1;
  }
}

/** Who the plan targets: a test for each contact as the list streams by (the filters' own problems are said now). */
function selectRecipients(input: PlanInput, problems: ProblemList): (contact: Contact) => boolean {
  const known = new Set(input.knownGroups ?? [...input.contacts].flatMap((c) => c.groups));
  const checkGroups = (groups: string[], where: string) => {
    for (const g of groups.filter((g) => !known.has(g))) {
      problems.add({ where, message: `no contact is in group "${g}" (groups in the list: ${[...known].sort().join(', ') || 'none'}).`, group: 'plan' });
    }
  };
  checkGroups(input.scenario.groups, `${input.scenario.name}/scenario.yaml`);
  checkGroups(input.groups, '--group');

  const inAny = (c: Contact, groups: string[]) => groups.length === 0 || c.groups.some((g) => groups.includes(g));
  let byName: NameSelection | undefined;
  if (input.contactNames.length > 0) {
    byName = selectByName(input.contactNames, Array.from(input.contacts, (c) => c.name));
    for (const problem of byName.problems) problems.add(problem);
  }
  return (c) => inAny(c, input.scenario.groups) && inAny(c, input.groups) && (!byName || byName.matches(c));
}

function renderDelivery(
  input: PlanInput, channel: Channel, contact: Contact, to: string, contextFor: ContextFor, problems: ProblemList,
  shared: { renders: PlanRenders; templateFor: TemplateFor },
): Delivery | undefined {
  const { scenario } = input;
  const file = shared.templateFor(channel.name, contact.groups, contact.locale);
  if (!file) {
    problems.add({
      where: `${scenario.name}/${channel.name}`,
      message: `no template for locale "${contact.locale}" (contact ${contact.name}); add ${channel.name}.${contact.locale}.hbs or a generic ${channel.name}.hbs to the scenario.`,
      group: 'templates',
    });
    return undefined;
  }
  const body = shared.renders.render(file, 'body', channel.escape, contact.locale, () => contextFor(channel.escape));
  if (!body.ok) return void problems.add(body.problem);

  const id = deliveryId(input.runId, contact.key, channel.name);
  const message: Rendered = { deliveryId: id, channel: channel.name, to, text: body.value, locale: contact.locale };
  if (channel.subject) {
    const subject = shared.renders.render(file, 'subject', undefined, contact.locale, () => contextFor(undefined));
    if (!subject.ok) return void problems.add(subject.problem);
    message.subject = subject.value;
  }
  if (channel.html) {
    const htmlFile = shared.templateFor(channel.name, contact.groups, contact.locale, true);
    if (htmlFile) {
      const html = shared.renders.render(htmlFile, 'body', escapeHtml, contact.locale, () => contextFor(escapeHtml));
      if (!html.ok) return void problems.add(html.problem);
      message.html = html.value;
    }
  }
  for (const problem of channel.check(message, input.limits)) {
    problems.add({ ...problem, where: file.path, group: 'limits' });
  }
  return {
    id, channel: channel.name, message, template: file.path, locale: contact.locale,
    contact: { key: contact.key, name: contact.name, ...(contact.line > 0 && { line: contact.line }) },
    ...(channel.measure && { sms: channel.measure(message.text) }),
  };
}

/**
 * Problems de-duplicated by place and kind: a template missing a variable fails the same
 * way for ten thousand contacts and should be said once, with a count.
 */
class ProblemList {
  private readonly byKey = new Map<string, Problem & { count: number }>();
  get size() {
    return this.byKey.size;
  }
  add(problem: Problem) {
    const key = `${problem.where}\0${problem.message.replace(/\d+/g, '#')}`;
    const existing = this.byKey.get(key);
    if (existing) existing.count += 1;
    else this.byKey.set(key, { ...problem, count: 1 });
  }
  list(): Problem[] {
    return [...this.byKey.values()].map(({ count, ...p }) =>
      count > 1 ? { ...p, message: `${p.message} (${count} messages)` } : p,
    );
  }
}
