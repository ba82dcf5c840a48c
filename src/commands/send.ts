/** `notify <scenario>`: plan, confirm, send (or dry-run), record, report. */
import type { DeliverySource } from '../core/dispatch.js';
import { Journal, journalPath, plannedDelivery, type JournalEntry, type RecordPlace, type RunTuning } from '../core/journal.js';
import { UserError } from '../errors.js';
import { printBlastRadius, printNotices, printPlanSummary, printPreviews } from '../format.js';
import { createOutput, type Output } from '../output.js';
import type { BlastRadius } from '../core/blast-radius.js';
import type { ChannelLimits } from '../core/dispatch.js';
import { blastRadius, type BlastFlags } from './blast.js';
import { auditHeader, redactVariables } from './audit-header.js';
import { confirmSend, countFlag } from './confirm.js';
import { execute } from './execute.js';
import { givenTuning, parseTuning, type TuningFlags } from './tuning.js';
import { DEFAULT_PRIORITY, describeMissing, parseChannelList, unconfigured } from '../channels/index.js';
import type { ChannelName } from '../core/types.js';
import type { Delivery } from '../core/plan.js';
import { findScenario, loadInputs, planScenario, type Inputs, type PlanFlags, type Prepared } from './prepare.js';
import type { Scenario } from '../core/templates.js';

export interface SendFlags extends PlanFlags, TuningFlags, BlastFlags {
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  mask?: boolean;
  strategy?: string;
  priority?: string;
  statusPage?: string;
  confirmThreshold?: string;
  expectCount?: string;
  /** Send through workers: a redis:// URL, or true for $NOTIFY_QUEUE_URL (see src/queue/). */
  queue?: string | boolean;
  detach?: boolean;
}

export async function send(scenarioName: string, flags: SendFlags): Promise<number> {
  const live = !flags.dryRun;
  const strategy = parseStrategy(flags);
  countFlag('--confirm-threshold', flags.confirmThreshold); // bad flags fail before planning
  countFlag('--expect-count', flags.expectCount);
  const tuning = parseTuning(flags);
  // A dry run never touches the queue, nor even reads its URL.
  const queue = live ? await queueFor(flags, strategy.kind) : undefined;
  // Planned and reviewed in a function of its own: the contact list and the plan's lists
  // (recipients, warnings) are let go before the first send, instead of living as long as it.
  const { journal, config, runId, channels, radius, statusPage } = await planAndReview(scenarioName, flags, live, strategy, tuning.limits, queue !== undefined);
  const out = createOutput({ ci: config.ci, mask: flags.mask ?? false });
  const readDelivery = (place: RecordPlace) => plannedDelivery(journal.read(place) as Extract<JournalEntry, { kind: 'planned' }>);
  // Where each planned record is, by channel: from the run state (typed arrays), not a list of places.
  const planned = [...channels.keys()];
  const source: DeliverySource = strategy.kind === 'all'
    ? new Map(planned.map((channel) => [channel, lazily(plannedPlaces(journal, channel), readDelivery)]))
    : planned.flatMap((channel) => [...plannedPlaces(journal, channel)].map(readDelivery)); // --strategy first needs each person's channels together
  const totals = new Map([...channels].map(([channel, summary]) => [channel, summary.messages]));
  if (queue) {
    const { sendQueued } = await import('../queue/commands.js');
    return sendQueued(queue, source as Map<ChannelName, Iterable<Delivery>>, {
      config, journal, runId, strategy, out, json: flags.json ?? false, ...tuning, totals, detach: flags.detach ?? false,
    });
  }
  const { exitCode } = await execute(source, {
    config, journal, runId, dryRun: !live, strategy, out, json: flags.json ?? false, ...tuning,
    ...(!live && { jsonExtra: { blastRadius: radius } }),
  }, totals);
  if (flags.statusPage) await updateStatusPage(out, flags.statusPage, statusPage, live);
  return exitCode;
}

async function planAndReview(
  scenarioName: string, flags: SendFlags, live: boolean, strategy: ReturnType<typeof parseStrategy>, limits: Record<string, ChannelLimits>, queued: boolean,
) {
  const inputs = loadInputs(flags, { live, strategy: strategy.kind });
  const scenario = findScenario(inputs.templates, scenarioName);

  // Only a live send given --status-page is news for the public page (a dry run told nobody).
  const publish = live && flags.statusPage !== undefined;
  const { prepared, journal } = recordPlan(inputs, scenario, live, strategy, { publish, tuning: givenTuning(flags) });
  if (publish && (inputs.groups.length > 0 || inputs.contactNames.length > 0)) {
    prepared.notices.push({
      where: '--status-page',
      message: 'this send is narrowed with --group/--contact and will still be published on the status page, as asked; leave --status-page out for a test send.',
    });
  }
  let radius: BlastRadius;
  try {
    radius = await review(prepared, flags, live, limits, queued);
  } catch (error) {
    journal.discard(); // nothing was sent: no run to remember
    throw error;
  }
  journal.rename(journalPath(prepared.runId));
  for (const c of prepared.plan.unreachable) {
    journal.append({
      kind: 'unreachable', contact: { key: c.key, name: c.name, line: c.line },
      reason: `no address on ${prepared.channels.map((ch) => ch.name).join(', ')}`,
    });
  }
  return {
    journal, config: prepared.config, runId: prepared.runId, channels: prepared.plan.channels, radius,
    statusPage: { locale: prepared.config.defaultLocale, templatesDir: prepared.templates.dir },
  };
}

/**
 * Plan and record in one pass: each delivery is written to the journal as it is rendered,
 * under a temporary name (kept once the plan is valid and confirmed, deleted otherwise),
 * and only its place in the file is remembered. Sending reads the messages back from
 * there, so a plan of any size is never held in memory.
 */
function recordPlan(
  inputs: Inputs, scenario: Scenario, live: boolean, strategy: ReturnType<typeof parseStrategy>, { publish, tuning }: { publish: boolean; tuning?: RunTuning },
) {
  let journal: Journal | undefined;
  try {
    const prepared = planScenario(inputs, scenario, {
      live,
      onStart: ({ runId, variables }) => {
        // A live run keeps its rendered messages beside the journal, to send (and resend) them.
        journal = new Journal(`${journalPath(runId)}.partial`, undefined, { messages: live });
        journal.append({
          kind: 'run', runId, scenario: scenario.name, dryRun: !live,
          contactsFile: inputs.source.path, templatesDir: inputs.templates.dir,
          channels: inputs.channels.map((c) => c.name), strategy: strategy.kind,
          ...(strategy.kind === 'first' && { priority: strategy.priority }),
          variables: redactVariables(variables),
          ...(publish && { publish: true }),
          ...(tuning && { tuning }),
          groupSizes: inputs.contacts.groupSizes,
          audit: auditHeader({
            config: inputs.config, contactsFile: inputs.source.path, templatesDir: inputs.templates.dir, variables, contactsSha256: inputs.contacts.sha256,
          }),
        });
      },
      onDelivery: (delivery) => void journal!.appendPlanned(delivery, { buffered: true }),
    });
    return { prepared, journal: journal! };
  } catch (error) {
    journal?.discard();
    throw error;
  }
}

/** Read records back one at a time, as the channel asks for them. */
function* lazily<T>(places: Iterable<RecordPlace>, read: (place: RecordPlace) => T): Generator<T> {
  for (const place of places) yield read(place);
}

/** Where the planned records of one channel are, in plan order (a scan of the compact run state). */
function* plannedPlaces(journal: Journal, channel: ChannelName): Generator<RecordPlace> {
  const table = journal.state.states;
  for (let i = 0; i < table.size; i++) {
    if (table.channelOf(i) !== channel) continue;
    const place = table.placeOf(i);
    if (place) yield place;
  }
}

/** Everything between the plan and the first send: problems, summary, credentials, confirmation. */
async function review(prepared: Prepared, flags: SendFlags, live: boolean, limits: Record<string, ChannelLimits>, queued: boolean): Promise<BlastRadius> {
  const out = createOutput({ ci: prepared.config.ci, mask: flags.mask ?? false });
  const { plan, scenario } = prepared;
  out.line(out.color.bold(`crisis-notify · ${scenario.name}${live ? '' : ' · dry run (nothing will be sent)'}`));
  printNotices(out, prepared.notices);
  if (prepared.problems.length > 0) {
    throw new UserError(`The plan for "${scenario.name}" has ${prepared.problems.length} problem(s); nothing was sent.`, prepared.problems);
  }
  printPlanSummary(out, plan);
  const radius = await blastRadius(prepared, limits, flags);
  printBlastRadius(out, radius);
  // What people will read, before anyone reads it: the lead checks the ETA and the wording here.
  printPreviews(out, plan);
  if (!live) return radius;
  // Through a queue the workers hold the credentials, not this machine.
  const missing = queued ? [] : unconfigured(plan.channels.keys(), prepared.config);
  if (missing.length > 0) {
    const others = [...plan.channels.keys()].filter((c) => !missing.some((m) => m.channel === c));
    throw new UserError(
      `Cannot send: ${describeMissing(missing)}. Set them (or put them in .env)${others.length ? `, or send on the configured channels only with --channels ${others.join(',')}` : ''}; nothing was sent.`,
    );
  }
  await confirmSend(out, {
    yes: flags.yes, ci: prepared.config.ci, messages: plan.messages, people: plan.recipients - plan.unreachable.length,
    channels: plan.channels.size, alternative: ' (or --dry-run to try)',
    threshold: countFlag('--confirm-threshold', flags.confirmThreshold), expectCount: countFlag('--expect-count', flags.expectCount),
  });
  return radius;
}

/** Regenerate the status page from the journal right after the send, so the page and the messages never disagree. */
async function updateStatusPage(out: Output, outDir: string, page: { locale: string; templatesDir: string }, live: boolean): Promise<void> {
  const { writeStatusPage } = await import('../core/status-page.js');
  try {
    const { state, warnings } = await writeStatusPage({ outDir, locale: page.locale, templatesDir: page.templatesDir });
    for (const warning of warnings) out.line(out.color.yellow(`! ${warning}`));
    out.line(`Status page updated in ${outDir} (${state}${live ? '' : '; a dry run is never published'}).`);
  } catch (error) {
    // The messages are out: a page that could not be written must not hide that.
    out.line(out.color.red(`The status page in ${outDir} could not be updated: ${(error as Error).message}`));
  }
}

/** The queue to send through, checked before planning: a bad URL or an unreachable Redis is exit 2, nothing planned. */
async function queueFor(flags: SendFlags, strategy: 'all' | 'first') {
  const { queueFlag } = await import('../queue/commands.js');
  const target = queueFlag(flags.queue, { envByDefault: true });
  if (!target) {
    if (flags.detach) throw new UserError('--detach only makes sense with --queue (workers send while this terminal is gone); add --queue redis://host:6379.');
    return undefined;
  }
  if (strategy === 'first') throw new UserError('--strategy first cannot go through --queue yet (each person\'s channels must be tried in order by one sender); send it without --queue.');
  const { probe } = await import('../queue/connection.js');
  await probe(target);
  return target;
}

function parseStrategy(flags: SendFlags) {
  const kind = flags.strategy ?? 'all';
  if (kind === 'all') return { kind } as const;
  if (kind !== 'first') throw new UserError(`--strategy ${kind} is not a strategy; use "all" (every channel) or "first" (first channel that delivers).`);
  const priority = flags.priority === undefined ? [...DEFAULT_PRIORITY] : parseChannelList(flags.priority, '--priority');
  return { kind, priority } as const;
}

