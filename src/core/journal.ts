/**
 * The journal: one JSON Lines file per run under `.notify/runs/<run-id>.jsonl` (mode
 * 0600), the only ledger of who was told what. Each record is written with a direct
 * `writeSync` before the next step starts: "attempting" before a send and the outcome
 * after it, so a crash leaves an exact account and a resume never re-sends what was
 * delivered.
 */
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Delivery } from './plan.js';
import type { ChannelName, Receipt } from './types.js';

export interface RunInfo {
  runId: string;
  scenario: string;
  dryRun: boolean;
  contactsFile: string;
  templatesDir: string;
  channels: ChannelName[];
  strategy: 'all' | 'first';
  /** Channel order for --strategy first. */
  priority?: ChannelName[];
  variables: Record<string, string>;
}

export type JournalEntry =
  | ({ kind: 'run'; at: string } & RunInfo)
  | ({ kind: 'planned'; at: string } & Delivery)
  | { kind: 'attempting'; at: string; id: string; attempt: number }
  | { kind: 'delivered'; at: string; id: string; attempt: number; receipt: Receipt }
  | {
      kind: 'failed'; at: string; id: string; attempt: number; reason: string; retryable: boolean; final: boolean;
      /** The request may have reached the provider (timeout, reset): a re-send may duplicate. */
      outcomeUnknown?: boolean;
    }
  | { kind: 'skipped'; at: string; id: string; reason: string }
  /** A targeted person with no address on any selected channel: missed unless recorded. */
  | { kind: 'unreachable'; at: string; contact: { key: string; name: string; line?: number }; reason: string }
  | { kind: 'finished'; at: string; interrupted: boolean };

type WithoutTime<T> = T extends unknown ? Omit<T, 'at'> : never;
export type NewEntry = WithoutTime<JournalEntry>;

export const RUNS_DIR = join('.notify', 'runs');
/** Buffered records are written in chunks of about this size. */
const FLUSH_BYTES = 64 * 1024;

export function journalPath(runId: string, cwd = process.cwd()): string {
  return join(cwd, RUNS_DIR, `${runId}.jsonl`);
}

/** Where one record sits in the journal file, to read it back without holding it in memory. */
export interface RecordPlace {
  offset: number;
  length: number;
}

export class Journal {
  private fd: number | undefined;
  /** Bytes in the file (and in `pending`): where the next record will start. */
  private size: number;
  /** Records accepted with `buffered` and not written yet. */
  private pending: string[] = [];
  private pendingBytes = 0;
  /** What the records written so far say, kept up to date as they are appended. */
  readonly state: Replayed;
  constructor(public path: string, previous: Replayed = replay([])) {
    this.state = previous;
    try {
      mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
      this.fd = openSync(path, 'a+', 0o600);
    } catch (error) {
      // Without its ledger a run must not start: nothing could be resumed or reported.
      throw new UserError(
        `Cannot write the run journal ${path} (${(error as NodeJS.ErrnoException).code}); run notify from a folder you can write to; nothing was sent.`,
      );
    }
    const tornLastLine = endsMidLine(path);
    this.size = statSync(path).size;
    // A crash can cut the last line short; readJournal skips it, but a record appended
    // right behind it would be glued to it and skipped too. Start on a fresh line.
    if (tornLastLine) this.size += writeSync(this.fd, '\n');
  }

  /**
   * Write one record. `buffered` lets records gather into larger writes — only for the
   * plan, which counts for nothing until the file is renamed after confirmation; every
   * other record is on disk before append returns, and flushes the buffer first.
   */
  append(entry: NewEntry, { buffered = false } = {}): RecordPlace {
    if (this.fd === undefined) throw new Error(`journal ${this.path} is closed`);
    const record = { at: new Date().toISOString(), ...entry } as JournalEntry;
    const line = JSON.stringify(record) + '\n';
    const place = { offset: this.size, length: Buffer.byteLength(line) };
    this.size += place.length;
    if (buffered) {
      this.pending.push(line);
      this.pendingBytes += place.length;
      if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    } else {
      this.flush();
      writeSync(this.fd, line);
    }
    apply(this.state, record);
    return place;
  }

  private flush(): void {
    if (this.pending.length === 0 || this.fd === undefined) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Read back a record this journal wrote. */
  read(place: RecordPlace): JournalEntry {
    if (this.fd === undefined) throw new Error(`journal ${this.path} is closed`);
    this.flush();
    const buffer = Buffer.alloc(place.length);
    readSync(this.fd, buffer, 0, place.length, place.offset);
    return JSON.parse(buffer.toString('utf8')) as JournalEntry;
  }

  /** Move the file (a plan is recorded under a temporary name until it is confirmed). */
  rename(path: string): void {
    this.flush();
    renameSync(this.path, path);
    this.path = path;
  }

  /** Close and delete: the plan was refused or not confirmed, and nothing was sent. */
  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    unlinkSync(this.path);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    fsyncSync(this.fd); // the process may end right after: make the ledger survive a power cut too
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function endsMidLine(path: string): boolean {
  if (!existsSync(path)) return false;
  const { size } = statSync(path);
  if (size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** The delivery a "planned" record holds (the record minus its own fields). */
export function plannedDelivery(record: Extract<JournalEntry, { kind: 'planned' }>): Delivery {
  const { kind: _kind, at: _at, ...delivery } = record;
  return delivery;
}

/** Read a run's records; a last line cut short by a crash is ignored, not fatal. */
export function readJournal(runId: string, cwd = process.cwd()): JournalEntry[] {
  const path = journalPath(runId, cwd);
  if (!existsSync(path)) {
    const known = listRuns(cwd).slice(-3);
    throw new UserError(`No run "${runId}" in ${RUNS_DIR}/${known.length ? `; recent runs: ${known.join(', ')}` : ''}.`);
  }
  const entries: JournalEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // torn write at the very end of a crashed run
    }
  }
  return entries;
}

export function listRuns(cwd = process.cwd()): string[] {
  const dir = join(cwd, RUNS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => f.slice(0, -6)).sort();
}

export type DeliveryStatus = 'pending' | 'attempting' | 'delivered' | 'failed' | 'skipped';

/** What the state keeps of a delivery: enough to report it. The message itself stays in the file. */
export interface DeliveryInfo {
  id: string;
  channel: ChannelName;
  contact: Delivery['contact'];
  to: string;
}

export interface DeliveryState {
  delivery: DeliveryInfo;
  status: DeliveryStatus;
  attempts: number;
  reason?: string;
  /** An attempt's outcome is unknown (crash mid-send, timeout): a later send may duplicate it. */
  uncertain: boolean;
  /** Delivered after an attempt whose outcome was unknown: it may have arrived twice. */
  mayBeDuplicated: boolean;
}

export interface Replayed {
  run?: RunInfo;
  states: Map<string, DeliveryState>;
  unreachable: Extract<JournalEntry, { kind: 'unreachable' }>[];
  finished: boolean;
}

/** Fold a journal into the current state of each delivery, in plan order. */
export function replay(entries: Iterable<JournalEntry>): Replayed {
  const replayed: Replayed = { states: new Map(), unreachable: [], finished: false };
  for (const entry of entries) apply(replayed, entry);
  return replayed;
}

/** One step of the fold; the writer applies it too, so a live report and a replayed one agree. */
export function apply(replayed: Replayed, entry: JournalEntry): void {
  const state = 'id' in entry ? replayed.states.get(entry.id) : undefined;
  switch (entry.kind) {
    case 'run': {
      const { kind: _k, at: _a, ...info } = entry;
      replayed.run = info;
      break;
    }
    case 'planned': {
      // Kept small on purpose: over 100,000 contacts × 4 channels every byte here counts.
      const delivery = { id: entry.id, channel: entry.channel, contact: entry.contact, to: entry.message.to };
      replayed.states.set(entry.id, { delivery, status: 'pending', attempts: 0, uncertain: false, mayBeDuplicated: false });
      break;
    }
    case 'attempting':
      if (!state) break;
      if (state.status === 'attempting') state.uncertain = true; // the previous attempt never finished
      state.status = 'attempting';
      state.attempts = entry.attempt;
      break;
    case 'delivered':
      if (state) Object.assign(state, { status: 'delivered', reason: undefined, mayBeDuplicated: state.uncertain });
      break;
    case 'failed':
      if (!state) break;
      Object.assign(state, { status: entry.final ? 'failed' : 'pending', reason: entry.reason });
      if (entry.outcomeUnknown) state.uncertain = true;
      break;
    case 'skipped':
      if (state) Object.assign(state, { status: 'skipped', reason: entry.reason });
      break;
    case 'unreachable':
      replayed.unreachable.push(entry);
      break;
    case 'finished':
      replayed.finished = !entry.interrupted;
      break;
  }
}
