/**
 * `notify resume <run-id>`: finish a run from its journal. Delivered messages are never
 * sent again. A message left "attempting" (crash, kill) has an unknown outcome: a crisis
 * message twice beats a missed one, so it is re-sent (same delivery id, so the same
 * Twilio idempotency token and email Message-ID) and flagged "may be duplicated" — unless
 * --skip-unknown.
 *
 * A journal with damaged lines is not guessed at: resume refuses unless --ignore-damaged,
 * and then the messages those lines concern are unknown (sent again like any unknown
 * outcome), while a planned message that cannot be read is reported as not sent.
 */
import { describeMissing, unconfigured } from '../channels/index.js';
import { loadConfig } from '../config.js';
import type { DeliverySource, Strategy } from '../core/dispatch.js';
import { Journal, plannedDelivery, readRun, resolveRun, type DeliveryState } from '../core/journal.js';
import type { Delivery } from '../core/plan.js';
import { buildReport } from '../core/report.js';
import { displayPath } from '../core/templates.js';
import type { ChannelName } from '../core/types.js';
import { UserError } from '../errors.js';
import { printDamage } from '../format.js';
import { createOutput } from '../output.js';
import { confirmSend } from './confirm.js';
import { execute } from './execute.js';
import { describeTuning, parseTuning, resumeTuning, type TuningFlags } from './tuning.js';
import { keepHeapNearLive } from '../heap.js';

export interface ResumeFlags extends TuningFlags {
  yes?: boolean;
  json?: boolean;
  skipUnknown?: boolean;
  retryFailed?: boolean;
  ignoreDamaged?: boolean;
  queue?: string | boolean;
}

export async function resume(input: string, flags: ResumeFlags): Promise<number> {
  keepHeapNearLive();
  const given = parseTuning(flags); // a bad flag fails before anything is read
  const config = loadConfig();
  const out = createOutput({ ci: config.ci });
  const { runId, path } = resolveRun(input);
  if (flags.queue !== undefined) {
    // Through the workers: they hold the credentials and apply the unknown-outcome policy (src/queue/).
    const { queueFlag, resumeQueued } = await import('../queue/commands.js');
    return resumeQueued(queueFlag(flags.queue, { envByDefault: true })!, runId, flags, { config, out, ...given },
      (messages) => confirmSend(out, { yes: flags.yes, ci: config.ci, messages }));
  }
  const replayed = readRun(path);
  if (replayed.damaged.length > 0) {
    printDamage(out, buildReport(runId, displayPath(path), replayed));
    if (!flags.ignoreDamaged) {
      const lines = replayed.damaged.map((d) => d.line);
      throw new UserError(
        `The journal of run ${runId} has ${lines.length} damaged line(s) (${lines.length > 1 ? 'lines' : 'line'} ${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', …' : ''}), so resume cannot tell what they recorded; nothing was sent. ` +
          `Restore ${displayPath(path)} from a backup if you have one, or go on with notify resume ${runId} --ignore-damaged: ` +
          'the messages those lines concern are then treated as unknown (sent again, or skipped with --skip-unknown), and a planned message that cannot be read is listed as not sent.',
      );
    }
  }
  const run = replayed.run;
  if (!run) throw new UserError(`The journal of run ${runId} has no readable run record (line 1); it cannot be resumed.`);
  const tuning = parseTuning(resumeTuning(run.tuning, flags));

  const journal = new Journal(path, replayed);
  // Read from the compact run state, a delivery at a time: only what is left to send
  // becomes an object (a 100,000-contact run holds 400,000 deliveries, mostly delivered).
  const table = replayed.states;
  const reachedBy = new Map<number, ChannelName>(); // person → the channel that reached them first
  for (let i = 0; i < table.size; i++) {
    if (table.statusOf(i) === 'delivered' && !reachedBy.has(table.contactOf(i))) reachedBy.set(table.contactOf(i), table.channelOf(i));
  }
  // Unknown: cut off mid-send by a crash, or an attempt that timed out (or was cut at the
  // end of the Ctrl-C grace) before the run stopped — either may have arrived.
  const unknownOutcome = (s: Pick<DeliveryState, 'status' | 'uncertain'>) => s.status === 'attempting' || (s.status === 'pending' && s.uncertain);
  for (let i = 0; i < table.size; i++) {
    const status = table.statusOf(i);
    if (flags.skipUnknown && unknownOutcome({ status, uncertain: table.isUncertain(i) })) {
      journal.append({ kind: 'skipped', id: table.idOf(i), reason: 'outcome of the last attempt unknown; skipped by --skip-unknown (it may not have arrived)' });
    } else if (run.strategy === 'first' && status === 'pending' && reachedBy.has(table.contactOf(i))) {
      // --strategy first: a run that died between a delivery and the "skipped" records after
      // it leaves the person's other channels pending; they must not stay open forever.
      journal.append({ kind: 'skipped', id: table.idOf(i), reason: `already reached by ${reachedBy.get(table.contactOf(i))}` });
    }
  }
  // --retry-failed: after fixing what made them fail (a token, an address), try those again.
  const todo: DeliveryState[] = [];
  for (let i = 0; i < table.size; i++) {
    const status = table.statusOf(i);
    const left = status === 'pending' || status === 'attempting' || (flags.retryFailed && status === 'failed');
    if (left && (run.strategy === 'all' || !reachedBy.has(table.contactOf(i)))) todo.push(table.stateAt(i));
  }
  if (todo.length === 0) {
    out.line(`Run ${runId}: nothing left to send.`);
  } else {
    const missing = run.dryRun ? [] : unconfigured(new Set(todo.map((s) => s.delivery.channel)), config);
    if (missing.length > 0) throw new UserError(`Cannot resume: ${describeMissing(missing)}; nothing was sent.`);
    const unknown = todo.filter(unknownOutcome).length;
    const failed = todo.filter((s) => s.status === 'failed').length;
    const details = [
      ...(unknown ? [`, ${unknown} of them with an unknown outcome (re-sent; they may arrive twice)`] : []),
      ...(failed ? [`, ${failed} of them failed before`] : []),
    ];
    out.line(`Resuming ${runId}: ${todo.length} message(s) left${details.join('')}.`);
    if (run.tuning) out.line(`At the pace the run was started with: ${describeTuning(run.tuning)} (flags given to resume change it).`);
    if (!run.dryRun) await confirmSend(out, { yes: flags.yes, ci: config.ci, messages: todo.length });
  }
  const strategy: Strategy = run.strategy === 'first' ? { kind: 'first', priority: run.priority ?? [] } : { kind: 'all' };
  // The state keeps no message bodies: each is read back from its planned record, as its
  // channel asks for it (strategy first needs each person's channels together).
  const read = (s: DeliveryState): Delivery => {
    const record = s.place && journal.read(s.place);
    if (record?.kind !== 'planned' || record.id !== s.delivery.id) {
      throw new UserError(`${displayPath(path)} changed while notify was reading it; run notify resume ${runId} again.`);
    }
    return plannedDelivery(record);
  };
  const byChannel = new Map<ChannelName, DeliveryState[]>();
  for (const s of todo) {
    const list = byChannel.get(s.delivery.channel);
    if (list) list.push(s);
    else byChannel.set(s.delivery.channel, [s]);
  }
  const source: DeliverySource = strategy.kind === 'all'
    ? new Map([...byChannel].map(([channel, list]) => [channel, lazily(list, read)]))
    : todo.map(read);
  const totals = new Map([...byChannel].map(([channel, list]) => [channel, list.length]));
  const { exitCode } = await execute(source, {
    config, journal, runId, dryRun: run.dryRun, strategy, out, json: flags.json ?? false, ...tuning,
    previousAttempts: new Map(todo.map((s) => [s.delivery.id, s.attempts])),
  }, totals);
  return exitCode;
}

function* lazily<T, U>(items: T[], read: (item: T) => U): Generator<U> {
  for (const item of items) yield read(item);
}
