/**
 * `notify resume <run-id>`: finish a run from its journal. Delivered messages are never
 * sent again. A message left "attempting" (crash, kill) has an unknown outcome: a crisis
 * message twice beats a missed one, so it is re-sent (same delivery id, so the same
 * Twilio idempotency token and email Message-ID) and flagged "may be duplicated" — unless
 * --skip-unknown.
 */
import { describeMissing, unconfigured } from '../channels/index.js';
import { loadConfig } from '../config.js';
import type { Strategy } from '../core/dispatch.js';
import { Journal, journalPath, plannedDelivery, readJournal, replay, type DeliveryState } from '../core/journal.js';
import { UserError } from '../errors.js';
import { createOutput } from '../output.js';
import { confirmSend } from './confirm.js';
import { execute } from './execute.js';
import { parseTuning, type TuningFlags } from './tuning.js';

export async function resume(
  runId: string, flags: TuningFlags & { yes?: boolean; json?: boolean; skipUnknown?: boolean; retryFailed?: boolean; queue?: string | boolean },
): Promise<number> {
  const tuning = parseTuning(flags);
  const config = loadConfig();
  const out = createOutput({ ci: config.ci });
  if (flags.queue !== undefined) {
    // Through the workers: they hold the credentials and apply the unknown-outcome policy (src/queue/).
    const { queueFlag, resumeQueued } = await import('../queue/commands.js');
    return resumeQueued(queueFlag(flags.queue, { envByDefault: true })!, runId, flags, { config, out, ...tuning },
      (messages) => confirmSend(out, { yes: flags.yes, ci: config.ci, messages }));
  }
  const entries = readJournal(runId);
  const replayed = replay(entries);
  const run = replayed.run;
  if (!run) throw new UserError(`The journal of run ${runId} has no run record; it cannot be resumed.`);

  const journal = new Journal(journalPath(runId), replayed);
  const states = [...replayed.states.values()];
  const reached = new Set(states.filter((s) => s.status === 'delivered').map((s) => s.delivery.contact.key));
  // Unknown: cut off mid-send by a crash, or an attempt that timed out (or was cut at the
  // end of the Ctrl-C grace) before the run stopped — either may have arrived.
  const unknownOutcome = (s: DeliveryState) => s.status === 'attempting' || (s.status === 'pending' && s.uncertain);
  for (const s of states.filter((s) => unknownOutcome(s) && flags.skipUnknown)) {
    journal.append({ kind: 'skipped', id: s.delivery.id, reason: 'outcome of the last attempt unknown; skipped by --skip-unknown (it may not have arrived)' });
  }
  // --strategy first: a run that died between a delivery and the "skipped" records after
  // it leaves the person's other channels pending; they must not stay open forever.
  for (const s of states.filter((s) => run.strategy === 'first' && s.status === 'pending' && reached.has(s.delivery.contact.key))) {
    const by = states.find((o) => o.status === 'delivered' && o.delivery.contact.key === s.delivery.contact.key)!.delivery.channel;
    journal.append({ kind: 'skipped', id: s.delivery.id, reason: `already reached by ${by}` });
  }
  // --retry-failed: after fixing what made them fail (a token, an address), try those again.
  const todo = states
    .filter((s) => s.status === 'pending' || s.status === 'attempting' || (flags.retryFailed && s.status === 'failed'))
    .filter((s) => run.strategy === 'all' || !reached.has(s.delivery.contact.key));
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
    if (!run.dryRun) await confirmSend(out, { yes: flags.yes, ci: config.ci, messages: todo.length });
  }
  const strategy: Strategy = run.strategy === 'first' ? { kind: 'first', priority: run.priority ?? [] } : { kind: 'all' };
  // The state keeps no message bodies: take the deliveries left to send from their records.
  const left = new Set(todo.map((s) => s.delivery.id));
  const deliveries = entries.flatMap((e) => (e.kind === 'planned' && left.has(e.id) ? [plannedDelivery(e)] : []));
  const { exitCode } = await execute(deliveries, {
    config, journal, runId, dryRun: run.dryRun, strategy, out, json: flags.json ?? false, ...tuning,
    previousAttempts: new Map(todo.map((s) => [s.delivery.id, s.attempts])),
  });
  return exitCode;
}
