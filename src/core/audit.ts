/**
 * Checking a run's audit trail: every record after the run record carries `prev`, the
 * hash of the line before it (src/core/chain.ts), so an edited, deleted, inserted or moved
 * record breaks the chain at a line that can be named. Read as a stream, one line at a time.
 *
 * How a break is told apart (the record at line L does not link to the record before it, P):
 * - L's number follows P's: P was changed after it was written (or L's link was);
 * - L's number skips ahead: records are missing before L (deleted, or moved further down);
 * - L's number goes back: L is out of order (moved, or lines swapped).
 * A line that is not a record is "changed" unless it is what a crash leaves: the start of
 * a record, cut short, on the last line (torn) — or a torn line that a resume wrote past,
 * whose next record links to the record before the torn one. Torn is reported, never tampered.
 */
import { existsSync } from 'node:fs';
import { linkHash } from './chain.js';
import { journalLines, looksTorn, type AuditHeader, type RunInfo } from './journal.js';

export interface ChainBreak {
  /** Line of the journal file (1-based). */
  line: number;
  problem: 'changed' | 'missing' | 'out-of-order' | 'not-a-record' | 'no-run-record';
  message: string;
}

export interface ChainCheck {
  /** false: written before the audit chain existed ("no audit chain"): nothing to verify. */
  chained: boolean;
  run?: RunInfo;
  records: number;
  /** The first break, if any: everything after it is unproven. */
  broken?: ChainBreak;
  /** Lines cut short by a crash (the last line, or one a resume wrote past): expected, not tampering. */
  torn: number[];
  /** Hash of the last record: keep it outside the machine to prove later that nothing was rewritten. */
  head?: string;
}

export function verifyChain(path: string): ChainCheck {
  const check: ChainCheck = { chained: false, records: 0, torn: [] };
  let prev: { hash: string; seq: number; line: number } | undefined;
  let pending: { line: number; raw: Parameters<typeof looksTorn>[0] }[] = [];
  const fail = (b: ChainBreak) => {
    check.broken = b;
    return check;
  };
  for (const raw of journalLines(path)) {
    const record = raw.bytes ? parse(raw.bytes) : undefined;
    if (!prev) {
      // Line 1: the run record, which says whether the journal is chained.
      if (!record || record.kind !== 'run') {
        return fail({ line: raw.line, problem: 'no-run-record', message: `line ${raw.line} is not the run record a journal starts with` });
      }
      const audit = record.audit as AuditHeader | undefined;
      if (!audit || audit.chain !== 1) return check;
      check.chained = true;
      check.run = record as unknown as RunInfo;
      check.records = 1;
      prev = { hash: linkHash(raw.bytes!), seq: Number(record.seq), line: raw.line };
      continue;
    }
    if (!record) {
      pending.push({ line: raw.line, raw });
      continue;
    }
    const seq = Number(record.seq);
    if (pending.length > 0) {
      // Torn lines a resume wrote past: the record after them links to the one before them.
      const writtenPast = record.prev === prev.hash && seq === prev.seq + 1 && pending.every((p) => looksTorn(p.raw, seq));
      if (!writtenPast) return fail({ line: pending[0]!.line, problem: 'not-a-record', message: `line ${pending[0]!.line} is not a record: it was changed (or garbled) after it was written` });
      check.torn.push(...pending.map((p) => p.line));
      pending = [];
    }
    if (record.prev !== prev.hash) {
      if (seq === prev.seq + 1) {
        return fail({ line: prev.line, problem: 'changed', message: `line ${prev.line} was changed after it was written (line ${raw.line} recorded another hash for it)` });
      }
      if (seq > prev.seq + 1) {
        return fail({ line: raw.line, problem: 'missing', message: `records are missing before line ${raw.line} (record ${prev.seq + 1} expected, ${seq} found): deleted or moved` });
      }
      return fail({ line: raw.line, problem: 'out-of-order', message: `line ${raw.line} is out of order (record ${seq} after record ${prev.seq}): lines were moved` });
    }
    if (seq !== prev.seq + 1) {
      // The link holds but the number does not: the number itself was edited.
      return fail({ line: raw.line, problem: 'changed', message: `line ${raw.line} was changed after it was written (record ${seq} where ${prev.seq + 1} belongs)` });
    }
    check.records += 1;
    prev = { hash: linkHash(raw.bytes!), seq, line: raw.line };
  }
  if (pending.length > 0) {
    const last = pending.at(-1)!;
    const torn = looksTorn(last.raw, (prev?.seq ?? 0) + 1);
    const bad = pending.slice(0, pending.length - (torn ? 1 : 0));
    if (bad.length > 0) return fail({ line: bad[0]!.line, problem: 'not-a-record', message: `line ${bad[0]!.line} is not a record: it was changed (or garbled) after it was written` });
    if (torn) check.torn.push(last.line);
  }
  check.head = prev?.hash;
  return check;
}

function parse(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface InputCheck {
  what: string;
  file: string;
  /** same: the file still has the hash the run recorded; changed; gone. */
  state: 'same' | 'changed' | 'gone';
}

/** Compare the input hashes of the run record with files as they are now (or as a snapshot keeps them). */
export function checkInputs(
  audit: AuditHeader,
  hashers: { file(path: string): string; tree(dir: string): { sha256: string } },
): InputCheck[] {
  const out: InputCheck[] = [];
  const { contacts, templates } = audit.inputs;
  if (contacts) {
    out.push({ what: 'contacts', file: contacts.file, state: !existsSync(contacts.file) ? 'gone' : hashers.file(contacts.file) === contacts.sha256 ? 'same' : 'changed' });
  }
  out.push({ what: 'templates', file: templates.dir, state: !existsSync(templates.dir) ? 'gone' : hashers.tree(templates.dir).sha256 === templates.sha256 ? 'same' : 'changed' });
  return out;
}
