/**
 * What a roll-call poll sends, besides reading: the next channel of a person whose message
 * was reported undelivered (--strategy first), reminders to the silent (--remind-after,
 * --max-reminders), and one escalation per silent person to their `escalate_to` contact
 * (--escalate-after). Every send is recorded in the run's journal, so a restarted watch
 * never reminds or escalates twice.
 */
import { channelNamed, DEFAULT_PRIORITY } from '../channels/index.js';
import type { Transport } from '../core/channel.js';
import type { Config } from '../config.js';
import { readContacts } from '../core/contacts.js';
import { dispatch } from '../core/dispatch.js';
import { clockTime, parseDuration } from '../core/duration.js';
import { plannedDelivery, type Journal, type JournalEntry } from '../core/journal.js';
import { buildPlan, deliveryId, type Delivery } from '../core/plan.js';
import { DEFAULT_RETRY } from '../core/retry.js';
import { lastContact, type Person, type RollCallState } from '../core/rollcall.js';
import type { Scenario, TemplateSet } from '../core/templates.js';
import type { ChannelName, Contact, Rendered } from '../core/types.js';
import { UserError } from '../errors.js';
import type { Output } from '../output.js';
import type { Pollers } from './rollcall-poll.js';
import { DEFAULT_LIMITS } from './tuning.js';
import { CHANNEL_LIST } from '../channels/index.js';

export interface FollowUpFlags {
  remindAfter?: string;
  maxReminders?: string;
  escalateAfter?: string;
}

export interface FollowUpPlan {
  remindAfterMs?: number;
  maxReminders: number;
  escalateAfterMs?: number;
}

const DEFAULT_MAX_REMINDERS = 2;
const SEND_TIMEOUT_MS = 60_000;
/** Without a reminder template: the original message, marked. */
const REMINDER_PREFIX: Record<string, string> = { fr: 'RAPPEL — ', en: 'REMINDER — ' };

export function parseFollowUp(flags: FollowUpFlags): FollowUpPlan {
  const duration = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) throw new UserError(`${flag} ${value} is not a duration; write it like 10m or 1h.`);
    return ms;
  };
  const max = flags.maxReminders === undefined ? DEFAULT_MAX_REMINDERS : Number(flags.maxReminders);
  if (!Number.isInteger(max) || max < 0 || max > 20) throw new UserError(`--max-reminders ${flags.maxReminders} must be a whole number from 0 to 20.`);
  const remindAfterMs = duration('--remind-after', flags.remindAfter);
  const escalateAfterMs = duration('--escalate-after', flags.escalateAfter);
  return { maxReminders: max, ...(remindAfterMs !== undefined && { remindAfterMs }), ...(escalateAfterMs !== undefined && { escalateAfterMs }) };
}

export interface FollowUpContext {
  state: RollCallState;
  scenario: Scenario;
  templates: TemplateSet;
  journal: Journal;
  pollers: Pollers;
  config: Config;
  plan: FollowUpPlan;
  out: Output;
  now?: number;
}

/** Send what is due; returns how many messages went out (or were tried). */
export async function followUp(ctx: FollowUpContext): Promise<number> {
  const run = ctx.state.replayed.run;
  if (!run) return 0;
  const priority = [...(run.priority ?? []), ...DEFAULT_PRIORITY, ...CHANNEL_LIST.map((c) => c.name)];
  const transports = new Map<ChannelName, Promise<Transport>>();
  const transport = (channel: ChannelName) => {
    const polled = ctx.pollers.transports.get(channel);
    if (polled) return Promise.resolve(polled);
    let t = transports.get(channel);
    if (!t) transports.set(channel, (t = channelNamed(channel).connect(ctx.config)));
    return t;
  };
  let sent = 0;
  try {
    sent += await nextChannels(ctx, priority, transport);
    if (ctx.plan.remindAfterMs !== undefined || ctx.plan.escalateAfterMs !== undefined) {
      const contacts = new Map(readContacts(run.contactsFile, { defaultRegion: ctx.config.defaultRegion, defaultLocale: ctx.config.defaultLocale, channels: CHANNEL_LIST }).contacts.map((c) => [c.key, c]));
      if (ctx.plan.remindAfterMs !== undefined) sent += await remind(ctx, priority, transport, contacts);
      if (ctx.plan.escalateAfterMs !== undefined) sent += await escalate(ctx, priority, transport, contacts);
    }
  } finally {
    await Promise.allSettled([...transports.values()].map(async (t) => (await t).close()));
  }
  return sent;
}

/** --strategy first: a message reported undelivered reopened the person's next channels; send them now. */
async function nextChannels(ctx: FollowUpContext, priority: ChannelName[], transport: (c: ChannelName) => Promise<Transport>): Promise<number> {
  const run = ctx.state.replayed.run!;
  if (run.strategy !== 'first' || !ctx.state.replayed.finished) return 0;
  const due: Delivery[] = [];
  for (const p of ctx.state.people.values()) {
    if (p.answer || p.deliveries.some((d) => d.status === 'delivered')) continue;
    for (const d of p.deliveries.filter((d) => d.status === 'pending' && d.place)) {
      due.push(plannedDelivery(ctx.journal.read(d.place!) as Extract<JournalEntry, { kind: 'planned' }>));
    }
  }
  if (due.length === 0) return 0;
  ctx.out.line(`Trying the next channel for ${new Set(due.map((d) => d.contact.key)).size} person(s) whose message was not delivered.`);
  await dispatch(due, { kind: 'first', priority }, {
    transport, journal: ctx.journal, retry: DEFAULT_RETRY, limits: DEFAULT_LIMITS, stop: new AbortController().signal, graceMs: 10_000,
  });
  return due.length;
}

const silent = (p: Person) => !p.answer && !p.unreachable && !p.optedOut;

async function remind(ctx: FollowUpContext, priority: ChannelName[], transport: (c: ChannelName) => Promise<Transport>, contacts: Map<string, Contact>): Promise<number> {
  const now = ctx.now ?? Date.now();
  let sent = 0;
  for (const p of ctx.state.people.values()) {
    if (!silent(p) || p.reminders.length >= ctx.plan.maxReminders) continue;
    const last = lastContact(ctx.state, p);
    if (!last || now - Date.parse(last.at) < ctx.plan.remindAfterMs!) continue;
    // Their channels that can still work, in priority order; the next one after the last used.
    const usable = [...new Set(p.deliveries.filter((d) => d.status !== 'failed').map((d) => d.delivery.channel))]
      .sort((a, b) => priority.indexOf(a) - priority.indexOf(b));
    if (usable.length === 0) continue;
    const at = usable.indexOf(last.channel);
    const channel = usable.length === 1 ? usable[0]! : usable[(at + 1) % usable.length]!;
    const delivery = p.deliveries.find((d) => d.delivery.channel === channel)!;
    const number = p.reminders.length + 1;
    const id = deliveryId(`${ctx.state.runId}:reminder:${number}`, p.key, channel);
    const message = renderFor(ctx, ctx.scenario.reminder, contacts.get(p.key), channel, id)
      ?? prefixed(ctx, delivery.place ? plannedDelivery(ctx.journal.read(delivery.place) as Extract<JournalEntry, { kind: 'planned' }>) : undefined, id);
    if (!message) continue;
    const outcome = await sendOne(transport, channel, message);
    ctx.journal.append({ kind: 'reminder', id, contact: p.key, channel, to: message.to, number, ...outcome });
    ctx.out.line(`Reminder ${number} to ${p.name} by ${channel}${outcome.failed ? ` failed: ${outcome.failed}` : ''}.`);
    sent += 1;
  }
  return sent;
}

async function escalate(ctx: FollowUpContext, priority: ChannelName[], transport: (c: ChannelName) => Promise<Transport>, contacts: Map<string, Contact>): Promise<number> {
  const now = ctx.now ?? Date.now();
  const template = ctx.scenario.escalation;
  let sent = 0;
  for (const p of ctx.state.people.values()) {
    if (!silent(p) || p.escalation) continue;
    const first = p.deliveries.map((d) => ctx.state.accepted.get(d.delivery.id)?.at).filter((a): a is string => Boolean(a)).sort()[0];
    if (!first || now - Date.parse(first) < ctx.plan.escalateAfterMs!) continue;
    const contact = contacts.get(p.key);
    const target = contact?.extra.escalate_to?.trim();
    if (!contact || !target) continue;
    if (!template) throw new UserError(`--escalate-after needs escalation templates: add ${ctx.scenario.dir}/escalation/ (see the drill scenario).`);
    const managers = [...contacts.values()].filter((c) => c.key !== p.key && (c.name.toLowerCase() === target.toLowerCase() || c.groups.includes(target.toLowerCase())));
    if (managers.length === 0) {
      ctx.out.line(ctx.out.color.yellow(`! ${p.name}: escalate_to "${target}" is neither a contact's name nor a group; fix the contacts file.`));
      continue;
    }
    const tried = [...new Set([...p.deliveries.filter((d) => d.status === 'delivered').map((d) => d.delivery.channel), ...p.reminders.map((r) => r.channel)])];
    const variables = {
      person: p.name, since: clockTime(new Date(first), now), tried: tried.join(', ') || 'none', phone: contact.columns.phone ?? '—',
    };
    for (const manager of managers) {
      const channel = Object.keys(manager.addresses).sort((a, b) => priority.indexOf(a) - priority.indexOf(b))[0];
      if (!channel) continue;
      const id = deliveryId(`${ctx.state.runId}:escalation`, `${p.key}\0${manager.key}`, channel);
      const message = renderFor(ctx, template, manager, channel, id, variables);
      if (!message) continue;
      const outcome = await sendOne(transport, channel, message);
      ctx.journal.append({ kind: 'escalation', id, contact: p.key, notified: manager.key, channel, to: message.to, ...outcome });
      ctx.out.line(`Escalation: ${manager.name} told by ${channel} that ${p.name} is silent${outcome.failed ? ` (failed: ${outcome.failed})` : ''}.`);
      sent += 1;
    }
  }
  return sent;
}

/** Render a follow-up template for one person on one channel, or undefined (no template, or a problem — said). */
function renderFor(ctx: FollowUpContext, scenario: Scenario | undefined, contact: Contact | undefined, channel: ChannelName, id: string, extra: Record<string, string> = {}): Rendered | undefined {
  if (!scenario || !contact || !contact.addresses[channel]) return undefined;
  const run = ctx.state.replayed.run!;
  let rendered: Delivery | undefined;
  const plan = buildPlan({
    runId: ctx.state.runId, scenario, templates: ctx.templates, contacts: [contact], channels: [channelNamed(channel)],
    variables: { ...run.variables, ...extra }, groups: [], contactNames: [], broadcasts: {}, strategy: 'all',
    limits: { maxSmsSegments: 10 }, now: new Date(ctx.now ?? Date.now()), defaultLocale: ctx.config.defaultLocale,
  }, (d) => (rendered = d));
  if (plan.problems.length > 0 || !rendered) {
    const why = plan.problems[0];
    if (why) ctx.out.line(ctx.out.color.yellow(`! ${why.where}: ${why.message}`));
    return undefined;
  }
  return { ...rendered.message, deliveryId: id };
}

function prefixed(ctx: FollowUpContext, original: Delivery | undefined, id: string): Rendered | undefined {
  if (!original) return undefined;
  const prefix = REMINDER_PREFIX[original.locale] ?? REMINDER_PREFIX[ctx.config.defaultLocale] ?? REMINDER_PREFIX.en!;
  const m = original.message;
  return { ...m, deliveryId: id, text: prefix + m.text, ...(m.subject && { subject: prefix + m.subject }) };
}

async function sendOne(transport: (c: ChannelName) => Promise<Transport>, channel: ChannelName, message: Rendered): Promise<{ providerId?: string; failed?: string }> {
  try {
    const t = await transport(channel);
    const receipt = await t.send(message, AbortSignal.timeout(SEND_TIMEOUT_MS));
    return { providerId: receipt.providerId };
  } catch (error) {
    return { failed: (error as Error).message };
  }
}
