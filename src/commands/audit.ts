/**
 * `notify audit verify [RUN]`: is the journal of a run the one notify wrote? Checks the
 * hash chain (exit 1 naming the first bad line) and says whether the inputs the run
 * recorded (contacts, templates) still have the same hashes.
 *
 * `notify audit export RUN --format csv|json`: the after-action timeline for the incident
 * report — time, person, channel, template, outcome, provider id, one row per event.
 * Record kinds this version does not know (replies to a roll call…) are exported too,
 * generically: their kind as the outcome and their other fields as details.
 */
import { writeFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { loadConfig } from '../config.js';
import { checkInputs, verifyChain } from '../core/audit.js';
import { journalLines, listRuns, resolveRun, type JournalEntry } from '../core/journal.js';
import { displayPath } from '../core/templates.js';
import { EXIT, UserError } from '../errors.js';
import { createOutput } from '../output.js';
import { fileSha256, treeSha256 } from './audit-header.js';
import { keepHeapNearLive } from '../heap.js';

function runOf(runId: string | undefined) {
  const latest = runId === undefined ? listRuns().at(-1) : undefined;
  if (runId === undefined && !latest) throw new UserError('No runs yet in .notify/runs/; run a scenario first (e.g. notify outage --dry-run).');
  return resolveRun(runId ?? latest!);
}

export async function auditVerify(runId: string | undefined, flags: { json?: boolean }): Promise<number> {
  keepHeapNearLive();
  const out = createOutput({ ci: loadConfig().ci });
  const { runId: id, path } = runOf(runId);
  const shown = displayPath(path);
  const check = verifyChain(path);
  const inputs = check.run?.audit ? checkInputs(check.run.audit, { file: fileSha256, tree: treeSha256 }) : [];
  if (!check.chained && !check.broken) {
    out.line(`${shown}: no audit chain (written before notify recorded one, or its run record was replaced): its records cannot be verified.`);
  } else if (check.broken) {
    out.line(out.color.red(`${shown}:${check.broken.line}: ${check.broken.message}. The journal is not the one notify wrote from line ${check.broken.line} on.`));
  } else {
    const audit = check.run!.audit!;
    out.line(out.color.green(`${shown}: audit chain intact, ${check.records} records.`));
    out.line(`Run by ${audit.user} on ${audit.host}${audit.git ? `, ${audit.git.repo} at commit ${audit.git.commit.slice(0, 12)}` : ''}: notify ${audit.argv.join(' ')}`);
    out.line(`Last record's hash: ${check.head} (keep it outside this machine — a ticket, a CI log — to prove later that the journal was not rewritten).`);
  }
  for (const line of check.torn) out.line(`Line ${line} was cut short by a crash (torn), not tampered with.`);
  for (const input of inputs) {
    const said = { same: 'unchanged since the run', changed: 'has changed since the run (the hash the run recorded no longer matches)', gone: 'is no longer there' }[input.state];
    out.line(`${input.what} ${displayPath(input.file)}: ${said}.`);
  }
  if (flags.json) {
    out.json({
      runId: id, journal: shown, chained: check.chained, intact: check.chained && !check.broken, records: check.records,
      ...(check.broken && { broken: check.broken }), torn: check.torn, ...(check.head && { head: check.head }), inputs,
    });
  }
  return check.chained && !check.broken ? EXIT.ok : EXIT.failed;
}

export interface TimelineRow {
  time: string;
  event: string;
  person: string;
  channel: string;
  template: string;
  to: string;
  outcome: string;
  provider_id: string;
  attempt: string;
  line: number;
  /** Fields of a record kind this version does not know, as JSON. */
  details: string;
}

const COLUMNS: (keyof TimelineRow)[] = ['time', 'event', 'person', 'channel', 'template', 'to', 'outcome', 'provider_id', 'attempt', 'line', 'details'];

export async function auditExport(runId: string, flags: { format?: string; output?: string }): Promise<number> {
  keepHeapNearLive();
  const format = flags.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw new UserError(`--format ${format} is not a format; use csv or json.`);
  const { path } = resolveRun(runId);
  const rows = [...timeline(path)];
  const text = format === 'json'
    ? JSON.stringify(rows, null, 2) + '\n'
    : stringify(rows, { header: true, columns: COLUMNS });
  if (flags.output) writeFileSync(flags.output, text, { mode: 0o600 });
  else process.stdout.write(text);
  return EXIT.ok;
}

/** One row per event of the run, in journal order; planned messages are named by the events about them. */
export function* timeline(path: string): Generator<TimelineRow> {
  // Who each delivery id is: small strings only (the messages stay in their store).
  const who = new Map<string, { person: string; channel: string; template: string; to: string }>();
  let runAt = '';
  // Raw lines, not journalItems: a record kind this version does not know is exported, not damage.
  for (const raw of journalLines(path)) {
    let entry: JournalEntry & Record<string, unknown>;
    try {
      entry = JSON.parse(raw.bytes!.toString('utf8')) as JournalEntry & Record<string, unknown>;
      if (typeof entry !== 'object' || entry === null || typeof entry.kind !== 'string') throw new Error('not a record');
    } catch {
      yield row({ event: 'unreadable', outcome: `journal line ${raw.line} is not a record (see notify audit verify)`, line: raw.line });
      continue;
    }
    const base = { time: entry.at ?? runAt, event: entry.kind, line: raw.line };
    switch (entry.kind) {
      case 'run':
        runAt = entry.at;
        yield row({ ...base, outcome: `${entry.dryRun ? 'dry run' : 'live'} ${entry.scenario} by ${entry.audit?.user ?? 'unknown'}@${entry.audit?.host ?? 'unknown'}`, details: JSON.stringify({ argv: entry.audit?.argv, git: entry.audit?.git }) });
        break;
      case 'planned':
        who.set(entry.id, { person: entry.contact.name, channel: entry.channel, template: entry.template, to: entry.to ?? entry.message?.to ?? '' });
        break;
      case 'attempting':
        break; // the outcome row says it; an attempt with none left is "attempting" in the report
      case 'delivered':
        yield row({ ...base, ...who.get(entry.id), outcome: 'delivered', provider_id: entry.receipt.providerId, attempt: String(entry.attempt) });
        break;
      case 'failed':
        yield row({ ...base, ...who.get(entry.id), outcome: `${entry.final ? 'failed' : 'failed, retried'}: ${entry.reason}`, attempt: String(entry.attempt) });
        break;
      case 'skipped':
        yield row({ ...base, ...who.get(entry.id), outcome: `skipped: ${entry.reason}` });
        break;
      case 'checked':
        // A dry run's one record for its whole plan: a row per message, as a live run has.
        for (const message of who.values()) yield row({ ...base, ...message, outcome: 'checked (dry run: not sent)' });
        break;
      case 'unreachable':
        yield row({ ...base, person: entry.contact.name, outcome: `unreachable: ${entry.reason}` });
        break;
      case 'finished':
        yield row({ ...base, outcome: entry.interrupted ? 'interrupted' : 'finished' });
        break;
      default: {
        // A kind this version does not know (a roll-call reply…): exported as it is.
        const { at: _at, seq: _seq, prev: _prev, kind: _kind, ...rest } = entry as Record<string, unknown>;
        const id = typeof rest.id === 'string' ? rest.id : undefined;
        const contact = rest.contact as { name?: string } | undefined;
        yield row({
          ...base, ...(id && who.get(id)), ...(contact?.name && { person: contact.name }),
          outcome: String((entry as Record<string, unknown>).kind), details: JSON.stringify(rest),
        });
      }
    }
  }
}

function row(fields: Partial<TimelineRow> & { line: number }): TimelineRow {
  return {
    time: '', event: '', person: '', channel: '', template: '', to: '', outcome: '', provider_id: '', attempt: '', details: '', ...fields,
  };
}
