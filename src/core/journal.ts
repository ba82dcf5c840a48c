/**
 * The journal: one JSON Lines file per run under `.notify/runs/<run-id>.jsonl` (mode
 * 0600), the only ledger of who was told what. Records are written with a direct
 * `writeSync` before the next step starts: "attempting" before a send and the outcome
 * after it, so a crash leaves an exact account and a resume never re-sends what was
 * delivered. During a send, the records of one event-loop turn go out in one write at the
 * end of the turn (`endOfTurn`), and a send starts only once its "attempting" record is
 * on disk (`written()`): one system call per turn instead of two per message.
 *
 * Every record carries `seq`, its number in the run (1, 2, 3…). Sequence numbers rather
 * than a per-line checksum, because what must never happen is a record vanishing without
 * a word, and a checksum cannot see a line that is gone:
 * - a garbled line already fails to parse; what parsing cannot see is a line *missing*
 *   (deleted, or two lines glued together by a lost newline) — a gap in the numbers shows it;
 * - a crash tears the record being written; the next writer (resume) starts a fresh line
 *   and gives its first record the same number, so a torn line that was written past is
 *   told apart from a damaged one: the numbers go on without a gap, nothing was lost;
 * - the number says where a damaged record stood: inside the plan (lines 2…), it was a
 *   planned message, so a lost delivery is counted even when its text is unreadable;
 * - it costs a few bytes per record and no hashing on the hot path of a large send.
 * Journals written before `seq` existed still read: their records are counted instead.
 *
 * Every record after the run record also carries `prev`, the hash of the line before it
 * (96 bits of SHA-256, src/core/chain.ts), when the run record has an `audit` header (who
 * ran it, the hashes of the inputs, the command line). Numbers and chain complement each
 * other: `seq` is for the reader that must go on — report and resume tell a torn line
 * from a lost one and count what a damaged record was about, without hashing anything;
 * `prev` is for the auditor who must prove nothing was edited — a record changed, deleted,
 * inserted or moved, with its number rewritten to match, still breaks the chain at a line
 * `notify audit verify` names. A resume links its first record to the last record read,
 * so a torn line it writes past is outside the chain, as it is outside the numbering.
 * Journals from before the chain are read as before (`notify audit verify`: "no audit chain").
 *
 * Records are compact: a planned record holds who, channel, address, template and the
 * digest of the rendered message (no time of its own: the plan is written in one pass at
 * the run record's time); a live run keeps the messages themselves once each in the
 * message store beside the journal (src/core/message-store.ts), read back and checked
 * against the digest before sending. A dry run keeps digests only and writes no
 * "attempting" (nothing can be half-sent through the outbox).
 *
 * Journals are read as a stream, a line at a time (`journalItems`), never whole: a dry
 * run of hundreds of thousands of contacts writes hundreds of megabytes.
 */
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join, sep } from 'node:path';
import { UserError } from '../errors.js';
import { digestInput, linkHash, type MessageBody } from './chain.js';
import { DeliveryTable, type RecordPlace } from './delivery-table.js';
import { LineBuffer } from './line-buffer.js';
import { MessageStore, storePathFor, type BodyPlace } from './message-store.js';
import type { Delivery } from './plan.js';
import { resolveRun, runsDirProblem } from './runs.js';
import type { ChannelName, Receipt } from './types.js';

export { journalPath, listRuns, resolveRun, RUNS_DIR } from './runs.js';

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
  /** Sent with --status-page: this run is news for the public status page. Absent: it is not. */
  publish?: boolean;
  /** The pace flags as typed, when any was given: a resume goes at the same pace unless told otherwise. */
  tuning?: RunTuning;
  /** People per group in the contact list at the time, so the next run can tell a list that grew or shrank. */
  groupSizes?: Record<string, number>;
  /**
   * The audit header (absent in journals written before the audit chain): present means every
   * record after this one carries `prev`, the hash of the record before it.
   */
  audit?: AuditHeader;
}

/** `--rate`, `--concurrency`, `--max-attempts`, `--attempt-timeout`, as typed (src/commands/tuning.ts reads them). */
export interface RunTuning {
  rate?: string[];
  concurrency?: string[];
  maxAttempts?: string;
  attemptTimeout?: string;
}

/** Who ran a run, on what: written once, in the run record, and covered by the chain. */
export interface AuditHeader {
  /** Format of the chain: 1 = `prev` is linkHash (src/core/chain.ts) of the previous line. */
  chain: 1;
  user: string;
  host: string;
  /** The commit checked out in the git repository holding the templates (or the contacts), if any. */
  git?: { repo: string; commit: string; dirty?: boolean };
  /** The command line as typed (after `notify`), secrets replaced by "[redacted]". */
  argv: string[];
  /** SHA-256 (hex) of the inputs: the contacts file, every template file, the variables. */
  inputs: {
    contacts?: { file: string; sha256: string };
    templates: { dir: string; sha256: string; files: number };
    variables: string;
  };
  /** Where the copy of the inputs is kept (relative to the runs folder), when one is. */
  snapshot?: string;
}

/**
 * A planned message as the journal keeps it: who, on which channel and address, with
 * which template, and the digest of the rendered message. In a live run the text is in
 * the message store beside the journal (`body`: where); journals written before the
 * compact format hold the whole `message` instead.
 */
export type PlannedRecord = Omit<Delivery, 'message' | 'sms'> & {
  to?: string;
  digest?: string;
  body?: BodyPlace;
  message?: Delivery['message'];
  sms?: Delivery['sms'];
};

export type JournalEntry = (
  | ({ kind: 'run'; at: string } & RunInfo)
  | ({ kind: 'planned'; at?: string } & PlannedRecord)
  | { kind: 'attempting'; at: string; id: string; attempt: number }
  | { kind: 'delivered'; at: string; id: string; attempt: number; receipt: Receipt }
  | {
      kind: 'failed'; at: string; id: string; attempt: number; reason: string; retryable: boolean; final: boolean;
      /** The request may have reached the provider (timeout, reset): a re-send may duplicate. */
      outcomeUnknown?: boolean;
    }
  | { kind: 'skipped'; at: string; id: string; reason: string }
  /**
   * A dry run checked every message planned above it; none was sent. One record for the
   * whole plan rather than one "delivered" per message: the outbox cannot fail, and a
   * million-contact dry run would otherwise double its journal to say nothing new.
   */
  | { kind: 'checked'; at: string; messages: number }
  /** A targeted person with no address on any selected channel: missed unless recorded. */
  | { kind: 'unreachable'; at: string; contact: { key: string; name: string; line?: number }; reason: string }
  | { kind: 'finished'; at: string; interrupted: boolean }
  // Roll calls (notify rollcall, report --refresh): folded by core/rollcall.ts, small on purpose.
  /** A reply heard on a channel; `contact` is the person's key when the sender is known. `cursor`: where the channel's next poll starts. */
  | { kind: 'reply'; at: string; channel: ChannelName; providerId: string; contact?: string; text: string; answer?: string; optOut?: true; cursor?: string; sentAt: string }
  /** A final status the provider gave later: `undelivered`/`failed` make an accepted message not delivered. */
  | { kind: 'receipt'; at: string; id: string; status: 'delivered' | 'undelivered' | 'failed'; code?: string; reason?: string }
  /** A reminder sent (or not: `failed`) to a silent person; `id` is its own delivery id, `number` counts from 1. */
  | { kind: 'reminder'; at: string; id: string; contact: string; channel: ChannelName; to: string; number: number; providerId?: string; failed?: string }
  /** The escalate_to contact told that `contact` stays silent. */
  | { kind: 'escalation'; at: string; id: string; contact: string; notified: string; channel: ChannelName; to: string; providerId?: string; failed?: string }
) & {
  /** Number of the record in its run, from 1 (absent in journals written before it existed). */
  seq?: number;
  /** Hash of the record before it (every record after an audit run record; src/core/chain.ts). */
  prev?: string;
};

/** A record as `readJournal` gives it back: planned records with their message restored. */
export type ReadBackEntry =
  | Exclude<JournalEntry, { kind: 'planned' }>
  | (Extract<JournalEntry, { kind: 'planned' }> & { message: Delivery['message'] });

type WithoutStamp<T> = T extends unknown ? Omit<T, 'at' | 'seq' | 'prev'> : never;
export type NewEntry = WithoutStamp<JournalEntry>;

/** Buffered records are written in chunks of about this size. */
const FLUSH_BYTES = 16 * 1024;
/** Planned records are read back this many bytes at a time. */
const READ_AHEAD_BYTES = 64 * 1024;
/** Windows kept: more than the channels that read side by side. */
const READ_AHEAD_WINDOWS = 16;

/** Where one record sits in the journal file, to read it back without holding it in memory. */
export type { RecordPlace } from './delivery-table.js';

export class Journal {
  private fd: number | undefined;
  /** Bytes in the file (and in `pending`): where the next record will start. */
  private size: number;
  /** Records accepted with `buffered` or `endOfTurn` and not written yet. */
  private readonly pending = new LineBuffer(() => this.fd, FLUSH_BYTES);
  /** The end-of-turn write to come, when `endOfTurn` records wait for it. */
  private turn: Promise<void> | undefined;
  /** Why an end-of-turn write failed: no record is accepted after it. */
  private failure: unknown;
  /** The number the next record gets: one after the last one read or written. */
  private nextSeq: number;
  /** Hash of the last record written (or read): the next record's `prev`; undefined = no chain. */
  private prev: string | undefined;
  /** The rendered messages of a live run (src/core/message-store.ts). */
  private readonly store: MessageStore;
  /** What the records written so far say, kept up to date as they are appended. */
  readonly state: Replayed;
  /**
   * `messages`: keep the rendered messages beside the journal (a live send); a dry run
   * needs only their digests. An existing store is opened for reading whatever this says.
   */
  constructor(public path: string, previous: Replayed = replay([]), { messages = false } = {}) {
    this.state = previous;
    // Who and where of a delivery are read back from its planned record when a report asks.
    previous.states.reader = (place) => {
      if (this.fd === undefined) return readRecordAt(this.path, place);
      return parseRecord(this.rawLine(place));
    };
    this.nextSeq = (previous.lastSeq ?? previous.records) + 1;
    try {
      mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
      this.fd = openSync(path, 'a+', 0o600);
      this.store = new MessageStore(storePathFor(path), { create: messages });
    } catch (error) {
      // Without its ledger a run must not start: nothing could be resumed or reported.
      const problem = runsDirProblem(join(path, '..', '..', '..'));
      throw new UserError(
        problem
          ? `${problem}; nothing was sent.`
          : `Cannot write the run journal ${path} (${(error as NodeJS.ErrnoException).code}); run notify from a folder you can write to; nothing was sent.`,
      );
    }
    const tornLastLine = endsMidLine(path);
    this.size = statSync(path).size;
    // A crash can cut the last line short; the reader skips it, but a record appended
    // right behind it would be glued to it and skipped too. Start on a fresh line.
    if (tornLastLine) this.size += writeSync(this.fd, '\n');
    // Going on with a chained journal: the next record links to the last one read.
    if (previous.run?.audit && previous.lastPlace) this.prev = linkHash(this.rawLine(previous.lastPlace));
  }

  /**
   * Write one record. `buffered` lets records gather into larger writes — only for the
   * plan, which counts for nothing until the file is renamed after confirmation, and for
   * a dry run's outcomes (nothing was sent). `endOfTurn` writes the record with the others
   * of this event-loop turn, in one write before the next turn: for a send's records,
   * where whoever must know it is on disk awaits `written()` (an "attempting" record before
   * its request leaves). Every other record is on disk before append returns, and flushes
   * what waits first. Records keep their order in the file whichever way they are written.
   */
  append(entry: NewEntry, { buffered = false, endOfTurn = false } = {}): RecordPlace {
    if (this.fd === undefined) throw new Error(`journal ${this.path} is closed`);
    if (this.failure !== undefined) throw this.failure;
    // Planned records carry no time: they are written in one pass, at the time of the run record.
    const at = entry.kind === 'planned' ? undefined : new Date().toISOString();
    const seq = this.nextSeq++;
    let record: JournalEntry;
    let json: string;
    if ('at' in entry || 'seq' in entry || 'prev' in entry) {
      // A record relayed as it is (a worker's, through the queue): its own fields win, in place.
      record = { ...(at && { at }), seq, ...(this.prev !== undefined && { prev: this.prev }), ...entry } as JournalEntry;
      json = JSON.stringify(record);
    } else {
      // The same line, without building a second object per record: the stamp, then the entry.
      json = `{${at ? `"at":"${at}",` : ''}"seq":${seq},${this.prev !== undefined ? `"prev":${JSON.stringify(this.prev)},` : ''}${JSON.stringify(entry).slice(1)}`;
      record = entry as JournalEntry;
    }
    // The run record of a new journal starts the chain when it carries the audit header.
    if (this.prev !== undefined || (entry.kind === 'run' && entry.audit)) this.prev = linkHash(json);
    const place = { offset: this.size, length: this.pending.addLine(json) };
    this.size += place.length;
    if (endOfTurn) this.endTurn();
    else if (!buffered) this.flush();
    apply(this.state, record, place, false);
    this.state.lastSeq = Math.max(this.state.lastSeq ?? 0, seq);
    return place;
  }

  /**
   * Record a planned delivery, compactly: its rendered message goes to the message store
   * (live runs) and the record keeps the digest and where the text is.
   */
  appendPlanned(delivery: Delivery, options: { buffered?: boolean } = {}): RecordPlace {
    const { message, template } = delivery;
    const body: MessageBody = { text: message.text };
    if (message.subject !== undefined) body.subject = message.subject;
    if (message.html !== undefined) body.html = message.html;
    const { digest, place } = this.stored(delivery.channel, body);
    const dir = this.state.run?.templatesDir;
    return this.append({
      kind: 'planned', id: delivery.id, channel: delivery.channel, locale: delivery.locale, contact: delivery.contact,
      template: dir && template.startsWith(dir) && template[dir.length] === sep ? template.slice(dir.length + 1) : template,
      to: message.to, digest, ...(place && { body: place }),
    }, options);
  }

  /** Per channel, the last message recorded: people sharing a template share its text (core/render.ts). */
  private readonly recorded = new Map<ChannelName, MessageBody & { digest: string; place?: BodyPlace }>();

  /** A message's digest, and (a live run) its place in the message store: made once for people who share it. */
  private stored(channel: ChannelName, body: MessageBody): { digest: string; place?: BodyPlace } {
    const last = this.recorded.get(channel);
    if (last && last.text === body.text && last.subject === body.subject && last.html === body.html) return last;
    const input = digestInput(body);
    const entry = this.store.exists ? { ...body, ...this.store.put(body, input) } : { ...body, digest: linkHash(input) };
    this.recorded.set(channel, entry);
    return entry;
  }

  /**
   * Resolves once every record appended so far is on disk (at once when nothing waits);
   * rejects when writing them failed.
   */
  written(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.turn) return this.turn;
    this.flush(); // `buffered` records, when any wait with no end-of-turn write to come
    return Promise.resolve();
  }

  /** Write what waits at the end of this event-loop turn (setImmediate runs after the turn's I/O callbacks). */
  private endTurn(): void {
    if (this.turn) return;
    unflushed.add(this);
    this.turn = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.turn = undefined;
        try {
          this.flush();
          resolve();
        } catch (error) {
          // A send awaiting written() must not go out; later appends say why.
          this.failure = error;
          reject(error);
        }
      });
    });
    this.turn.catch(() => {}); // the failure is reported to whoever awaits written() and by append
  }

  /** Write what waits, now. */
  private flush(): void {
    unflushed.delete(this);
    this.pending.flush();
  }

  /** At process.exit (a second Ctrl-C): the records of the turn still go to disk. */
  flushAtExit(): void {
    try {
      this.flush();
    } catch {
      // exiting anyway; the journal reader copes with a record that is not there
    }
  }

  /**
   * Bytes read ahead: sending reads planned records back in plan order, next to each other.
   * One window per reader at least (each channel reads its own records, at its own pace), so
   * a fast channel and a slow one do not evict each other's window on every record.
   */
  private readonly ahead: { offset: number; bytes: Buffer }[] = [];

  private rawLine(place: RecordPlace): Buffer {
    // A record still waiting to be written is written first (planned records, read back
    // while sending, were written before the first send: reading them flushes nothing).
    if (place.offset + place.length > this.size - this.pending.length) this.flush();
    let buffer: Buffer;
    let read: number;
    const cached = this.ahead.find((w) => place.offset >= w.offset && place.offset + place.length <= w.offset + w.bytes.length);
    if (cached) {
      // Records are only ever appended: bytes once written never change, so a cached chunk stays true.
      const start = place.offset - cached.offset;
      buffer = cached.bytes.subarray(start, start + place.length);
      read = place.length;
    } else if (place.length < READ_AHEAD_BYTES / 4) {
      const chunk = Buffer.allocUnsafe(READ_AHEAD_BYTES);
      const got = readSync(this.fd!, chunk, 0, READ_AHEAD_BYTES, place.offset);
      this.ahead.push({ offset: place.offset, bytes: chunk.subarray(0, got) });
      if (this.ahead.length > READ_AHEAD_WINDOWS) this.ahead.shift();
      buffer = chunk.subarray(0, Math.min(got, place.length));
      read = buffer.length;
    } else {
      buffer = Buffer.alloc(place.length);
      read = readSync(this.fd!, buffer, 0, place.length, place.offset);
    }
    let end = read;
    while (end > 0 && (buffer[end - 1] === 0x0a || buffer[end - 1] === 0x0d)) end -= 1;
    return buffer.subarray(0, end);
  }

  /**
   * Read back a record of this journal (written by it, or found by `readRun`). A planned
   * record comes back with its message, read from the message store and checked against
   * its digest: what is sent is what was checked, or nothing is.
   */
  read(place: RecordPlace): JournalEntry {
    if (this.fd === undefined) throw new Error(`journal ${this.path} is closed`);
    const record = JSON.parse(this.rawLine(place).toString('utf8')) as JournalEntry;
    if (record.kind !== 'planned' || record.message) return record;
    let body: MessageBody | undefined;
    if (record.body) {
      body = this.store.get(record.body, record.digest ?? '');
      if (!body) {
        throw new UserError(
          `The message for ${record.contact.name} on ${record.channel} in ${storePathFor(this.path)} is missing or differs from the one checked (digest ${record.digest}); it was not sent.`,
        );
      }
    }
    record.message = {
      deliveryId: record.id, channel: record.channel, to: record.to ?? '', locale: record.locale, ...(body ?? { text: '' }),
    };
    return record;
  }

  /** Move the file (a plan is recorded under a temporary name until it is confirmed). */
  rename(path: string): void {
    this.flush();
    renameSync(this.path, path);
    this.store.rename(storePathFor(path));
    this.path = path;
  }

  /** Close and delete: the plan was refused or not confirmed, and nothing was sent. */
  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    unlinkSync(this.path);
    this.store.discard();
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    this.store.close();
    fsyncSync(this.fd); // the process may end right after: make the ledger survive a power cut too
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Journals with end-of-turn records not written yet. process.exit (a second Ctrl-C stops at
 * once) runs no more turns: the 'exit' handler writes them, so the journal still holds every
 * outcome that came back.
 */
const unflushed = new Set<Journal>();
process.on('exit', () => {
  for (const journal of unflushed) journal.flushAtExit();
});

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

/** The delivery a "planned" record holds (read with `Journal.read`, which restores its message). */
export function plannedDelivery(record: Extract<JournalEntry, { kind: 'planned' }>): Delivery {
  const { kind: _kind, at: _at, seq: _seq, prev: _prev, to: _to, digest: _digest, body: _body, message, ...delivery } = record;
  if (!message) throw new Error(`planned record ${record.id} read without its message`);
  return { ...delivery, message };
}

// ───────────────────────────── reading, as a stream ─────────────────────────────

/** Bytes read at a time. */
const CHUNK_BYTES = 1024 * 1024;
/** A line longer than this is damage: it is skipped, never turned into one string. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** How much of an over-long line is kept to tell what it was. */
const HEAD_BYTES = 4096;

export interface RawLine {
  /** 1-based, counting every line of the file (as `sed -n <line>p` does). */
  line: number;
  offset: number;
  /** Bytes, newline included. */
  length: number;
  /** The line without its newline; undefined when it is longer than MAX_LINE_BYTES. */
  bytes: Buffer | undefined;
  /** The start of an over-long line. */
  head?: Buffer;
}

/** The non-blank lines of a file, read a chunk at a time. */
export function* journalLines(path: string): Generator<RawLine> {
  const fd = openSync(path, 'r');
  try {
    let parts: Buffer[] = [];
    let partsBytes = 0;
    let oversized: Buffer | undefined; // the head of a line that grew past the limit
    let lineStart = 0;
    let position = 0;
    let line = 0;
    const finish = (tail: Buffer, withNewline: boolean): RawLine | undefined => {
      line += 1;
      const length = partsBytes + tail.length + (withNewline ? 1 : 0);
      let raw: RawLine;
      if (oversized || partsBytes + tail.length > MAX_LINE_BYTES) {
        const head = oversized ?? Buffer.concat([...parts, tail]).subarray(0, HEAD_BYTES);
        raw = { line, offset: lineStart, length, bytes: undefined, head };
      } else {
        const bytes = parts.length ? Buffer.concat([...parts, tail]) : tail;
        raw = { line, offset: lineStart, length, bytes };
      }
      lineStart += length;
      parts = [];
      partsBytes = 0;
      oversized = undefined;
      return raw.bytes && isBlank(raw.bytes) ? undefined : raw;
    };
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, position);
      if (read === 0) break;
      position += read;
      const data = chunk.subarray(0, read);
      let from = 0;
      for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, from)) {
        const raw = finish(data.subarray(from, nl), true);
        if (raw) yield raw;
        from = nl + 1;
      }
      if (from < read) {
        const rest = data.subarray(from);
        if (!oversized && partsBytes + rest.length > MAX_LINE_BYTES) {
          oversized = Buffer.concat([...parts, rest]).subarray(0, HEAD_BYTES);
          parts = [];
        } else if (!oversized) {
          parts.push(rest);
        }
        partsBytes += rest.length;
      }
    }
    if (partsBytes > 0) {
      const raw = finish(Buffer.alloc(0), false);
      if (raw) yield raw;
    }
  } finally {
    closeSync(fd);
  }
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/** A line that is not a record, or records missing, found while reading a journal. */
export interface Damage {
  /** Line of the file (1-based), as `sed -n <line>p` shows it. */
  line: number;
  problem: 'unreadable' | 'missing' | 'out-of-order';
  /**
   * What the line held, as far as can be told: from its text when that still shows it,
   * else from where it stands (line 1 is the run record, lines inside the plan are planned messages).
   */
  kind?: JournalEntry['kind'];
  /** The delivery it was about, when its id can still be read. */
  id?: string;
  /** The person, when a damaged planned (or unreachable) record still shows them. */
  contact?: { key?: string; name?: string; line?: number };
  channel?: ChannelName;
  /** "missing": how many records (a gap in the numbers) end before this line. */
  missing?: number;
}

export type JournalItem = { entry: JournalEntry; line: number; place: RecordPlace } | { damage: Damage };

const KINDS = new Set<string>(['run', 'planned', 'attempting', 'delivered', 'failed', 'skipped', 'checked', 'unreachable', 'finished', 'reply', 'receipt', 'reminder', 'escalation']);

/**
 * A journal, record by record in file order, with its damage where it is. A last line
 * cut short by a crash is expected and skipped; so is a torn line that a resume wrote
 * past (the record after it carries the number the torn one would have had). Any other
 * line that is not a record is reported, never silently dropped.
 */
export function* journalItems(path: string): Generator<JournalItem> {
  let lastSeq: number | undefined;
  let records = 0;
  let planEnded = false;
  let pending: { raw: RawLine; records: number; planEnded: boolean }[] = [];
  const expected = () => (lastSeq ?? records) + 1;
  const unreadable = (bad: (typeof pending)[number]): JournalItem => {
    const found = salvage(bad.raw);
    const kind = found.kind ?? (bad.records === 0 ? 'run' : bad.planEnded ? undefined : 'planned');
    return { damage: { line: bad.raw.line, problem: 'unreadable', ...found, ...(kind && { kind }) } };
  };
  for (const raw of journalLines(path)) {
    const entry = raw.bytes && parseRecord(raw.bytes);
    if (!entry) {
      pending.push({ raw, records, planEnded });
      continue;
    }
    const seq = entry.seq;
    // The line(s) before this record were torn by a crash, and the writer after it went on
    // with the number they would have had: nothing is missing.
    const superseded = pending.length > 0 && seq !== undefined && seq === expected() && pending.every((bad) => looksTorn(bad.raw, seq));
    if (!superseded) for (const bad of pending) yield unreadable(bad);
    if (seq !== undefined) {
      const gap = seq - expected() - (superseded ? 0 : pending.length);
      if (gap > 0) yield { damage: { line: raw.line, problem: 'missing', missing: gap, ...(!planEnded && { kind: 'planned' as const }) } };
      if (seq < expected()) {
        yield { damage: { line: raw.line, problem: 'out-of-order', kind: entry.kind, ...('id' in entry && { id: entry.id }) } };
      }
      lastSeq = Math.max(lastSeq ?? 0, seq);
    }
    pending = [];
    records += 1;
    if (entry.kind !== 'run' && entry.kind !== 'planned') planEnded = true;
    yield { entry, line: raw.line, place: { offset: raw.offset, length: raw.length } };
  }
  // The very last line may be torn by a crash mid-write: expected, and harmless (an
  // outcome not recorded leaves its delivery "attempting": unknown, never delivered).
  const last = pending.at(-1);
  const torn = last && looksTorn(last.raw, expected()) ? 1 : 0;
  for (const bad of pending.slice(0, pending.length - torn)) yield unreadable(bad);
}

/** How a record's line starts: with its time, or (planned records, which have none) its number. */
const RECORD_STARTS = ['{"at":"', '{"seq":'];

/**
 * Whether a line that is not a record is what a crash mid-write leaves: the beginning of
 * a record (numbered `seq`, when the number made it to disk), or the zeros a file system
 * can leave after a power cut. Anything else — text in the middle of a line garbled,
 * a line pasted in — is damage.
 */
export function looksTorn(raw: RawLine, seq: number): boolean {
  // eslint-disable-next-line no-control-regex
  const text = (raw.bytes ?? raw.head ?? Buffer.alloc(0)).toString('utf8').replace(/\u0000+$/, '');
  if (!RECORD_STARTS.some((start) => text.startsWith(start) || start.startsWith(text))) return false;
  const numbered = /"seq":(\d+)[,}]/.exec(text);
  return !numbered || Number(numbered[1]) === seq;
}

function parseRecord(bytes: Buffer): JournalEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.kind !== 'string' || !KINDS.has(r.kind)) return undefined;
  if ('seq' in r && !Number.isSafeInteger(r.seq)) return undefined;
  const str = (v: unknown) => typeof v === 'string';
  const obj = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined);
  switch (r.kind) {
    case 'run':
      if (!str(r.runId) || !str(r.scenario)) return undefined;
      break;
    case 'planned':
      if (!str(r.id) || !str(r.channel) || !str(obj(r.contact)?.key) || !(str(r.to) || str(obj(r.message)?.to))) return undefined;
      break;
    case 'attempting':
    case 'delivered':
    case 'failed':
    case 'skipped':
      if (!str(r.id)) return undefined;
      break;
    case 'unreachable':
      if (!str(obj(r.contact)?.key)) return undefined;
      break;
    case 'reply':
      if (!str(r.channel) || !str(r.providerId) || !str(r.text)) return undefined;
      break;
    case 'receipt':
    case 'reminder':
    case 'escalation':
      if (!str(r.id)) return undefined;
      break;
  }
  return value as JournalEntry;
}

/** What a damaged line still shows of itself. */
function salvage(raw: RawLine): Omit<Damage, 'line' | 'problem'> {
  const text = (raw.bytes ?? raw.head ?? Buffer.alloc(0)).toString('utf8');
  const field = (key: string, within = text) => {
    const m = new RegExp(`"${key}":"((?:[^"\\\\]|\\\\.){1,400})"`).exec(within);
    if (!m) return undefined;
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return m[1];
    }
  };
  const kind = field('kind');
  const found: Omit<Damage, 'line' | 'problem'> = {};
  if (kind && KINDS.has(kind)) found.kind = kind as Damage['kind'];
  const id = field('id');
  if (id) found.id = id;
  const channel = field('channel');
  if (channel) found.channel = channel as ChannelName; // any name: the registry lives outside the core
  const contact = /"contact":(\{"key":"(?:[^"\\]|\\.)*"(?:,"name":"(?:[^"\\]|\\.)*")?(?:,"line":\d+)?\})/.exec(text)?.[1];
  if (contact) {
    try {
      const c = JSON.parse(contact) as { key?: string; name?: string; line?: number };
      found.contact = { ...(c.key && { key: c.key }), ...(c.name && { name: c.name }), ...(c.line && { line: c.line }) };
    } catch {
      // nothing more to learn
    }
  }
  return found;
}

/** Fold a run's journal (found with `resolveRun`) into its state, reading it as a stream. */
export function readRun(path: string): Replayed {
  const replayed = replay([]);
  replayed.states.reader = (place) => readRecordAt(path, place);
  for (const item of journalItems(path)) {
    if ('damage' in item) applyDamage(replayed, item.damage);
    else apply(replayed, item.entry, item.place);
  }
  return replayed;
}

/** One record of a journal file, by place (who and where, for a report): undefined when it is not one. */
function readRecordAt(path: string, place: RecordPlace): JournalEntry | undefined {
  // One descriptor per journal for the life of the process: a report of a large failed run
  // reads tens of thousands of records back, and a journal is never deleted while in use.
  let fd = readers.get(path);
  if (fd === undefined) readers.set(path, (fd = openSync(path, 'r')));
  const buffer = Buffer.alloc(place.length);
  const read = readSync(fd, buffer, 0, place.length, place.offset);
  return parseRecord(buffer.subarray(0, read));
}
const readers = new Map<string, number>();

/**
 * The first record of a journal, and nothing more: enough to know what the run was (a
 * dry run, a published one…) without reading its messages. Undefined when line 1 is not
 * a run record.
 */
export function readRunRecord(path: string): Extract<JournalEntry, { kind: 'run' }> | undefined {
  for (const raw of journalLines(path)) {
    const entry = raw.bytes && parseRecord(raw.bytes);
    return entry && entry.kind === 'run' ? entry : undefined; // the first line, and no further
  }
  return undefined;
}

/**
 * Every record of a run, in memory: for tests and small journals only. Commands fold
 * journals with `readRun` (or walk `journalItems`) instead.
 */
export function readJournal(runId: string, cwd = process.cwd()): ReadBackEntry[] {
  const { path } = resolveRun(runId, cwd);
  const entries: ReadBackEntry[] = [];
  const store = new MessageStore(storePathFor(path));
  for (const item of journalItems(path)) {
    if (!('entry' in item)) continue;
    const { entry } = item;
    // Planned records come back with their message, as Journal.read gives them.
    if (entry.kind === 'planned' && !entry.message) {
      const body = entry.body && entry.digest ? store.get(entry.body, entry.digest) : undefined;
      entry.message = { deliveryId: entry.id, channel: entry.channel, to: entry.to ?? '', locale: entry.locale, ...(body ?? { text: '' }) };
    }
    entries.push(entry as ReadBackEntry);
  }
  store.close();
  return entries;
}

// ───────────────────────────── the state of a run ─────────────────────────────

export type { DeliveryInfo, DeliveryState, DeliveryStatus } from './delivery-table.js';

/** A planned delivery whose record is damaged: it cannot be sent again, but it is never forgotten. */
export interface LostDelivery {
  /** Line of the damaged record (or where the missing ones end). */
  line: number;
  id?: string;
  channel?: ChannelName;
  contact?: Damage['contact'];
  /** A later record (which still names it) says it was delivered. */
  delivered: boolean;
}

export interface Replayed {
  run?: RunInfo;
  /** Every planned delivery's state, compactly (src/core/delivery-table.ts); read it like a Map. */
  states: DeliveryTable;
  unreachable: Extract<JournalEntry, { kind: 'unreachable' }>[];
  finished: boolean;
  /** Records read (damaged lines aside). */
  records: number;
  /** The highest record number read, when the journal has numbers. */
  lastSeq?: number;
  /** Where the last record read from the file is (a resume links its first record to it). */
  lastPlace?: RecordPlace;
  /** Every damaged line or gap, in file order. */
  damaged: Damage[];
  lost: LostDelivery[];
}

/** Fold records into the current state of each delivery, in plan order. */
export function replay(entries: Iterable<JournalEntry>): Replayed {
  const replayed: Replayed = { states: new DeliveryTable(), unreachable: [], finished: false, records: 0, damaged: [], lost: [] };
  for (const entry of entries) apply(replayed, entry);
  return replayed;
}

/** One step of the fold; the writer applies it too, so a live report and a replayed one agree. */
export function apply(replayed: Replayed, entry: JournalEntry, place?: RecordPlace, showPlace = true): void {
  replayed.records += 1;
  if (entry.seq !== undefined) replayed.lastSeq = Math.max(replayed.lastSeq ?? 0, entry.seq);
  if (place && showPlace) replayed.lastPlace = place;
  const table = replayed.states;
  const ownId = entry.kind === 'planned' || entry.kind === 'reminder' || entry.kind === 'escalation'; // ids that are not of a planned delivery
  const i = 'id' in entry && !ownId ? table.ordinal(entry.id) : undefined;
  if ('id' in entry && i === undefined && !ownId && replayed.lost.length > 0) return applyToLost(replayed, entry);
  switch (entry.kind) {
    case 'run': {
      const { kind: _k, at: _a, seq: _s, ...info } = entry;
      replayed.run = info;
      // A dry run's deliveries are all settled by its one `checked` record: no id is looked up.
      if (info.dryRun && info.strategy === 'all') table.deferIds();
      break;
    }
    case 'planned': {
      // Kept small on purpose (typed arrays): over 1,000,000 contacts × 4 channels every byte here counts.
      const delivery = { id: entry.id, channel: entry.channel, contact: entry.contact, to: entry.to ?? entry.message?.to ?? '' };
      table.add(delivery, place, showPlace);
      break;
    }
    case 'attempting':
      if (i === undefined) break;
      if (table.statusOf(i) === 'attempting') table.setUncertain(i); // the previous attempt never finished
      table.setStatus(i, 'attempting');
      table.setAttempts(i, entry.attempt);
      break;
    case 'delivered':
      // (A dry run records no "attempting" before it: the attempt count comes from here.)
      if (i === undefined) break;
      // An attempt started (or left unknown by a damaged record) and a later attempt, with
      // no "attempting" of its own (a dry run writes none), delivered: it may be the second.
      if (table.statusOf(i) === 'attempting' && entry.attempt > table.attemptsOf(i)) table.setUncertain(i);
      table.setStatus(i, 'delivered');
      table.setReason(i, undefined);
      table.setDuplicated(i, table.isUncertain(i));
      table.setAttempts(i, entry.attempt);
      break;
    case 'failed':
      if (i === undefined) break;
      table.setStatus(i, entry.final ? 'failed' : 'pending');
      table.setReason(i, entry.reason);
      if (entry.outcomeUnknown) table.setUncertain(i);
      break;
    case 'skipped':
      if (i === undefined) break;
      table.setStatus(i, 'skipped');
      table.setReason(i, entry.reason);
      break;
    case 'checked':
      for (let d = 0; d < table.size; d++) {
        if (table.statusOf(d) !== 'pending') continue;
        table.setStatus(d, 'delivered');
        table.setAttempts(d, 1);
      }
      break;
    case 'unreachable':
      replayed.unreachable.push(entry);
      break;
    case 'finished':
      replayed.finished = !entry.interrupted;
      break;
    case 'receipt':
      if (i !== undefined && entry.status !== 'delivered') reopenAfterLoss(replayed, i, entry.reason ?? entry.status);
      break;
  }
}

/**
 * An accepted message the provider later reported lost (an SMS `undelivered`): it is not
 * delivered. With --strategy first the person's next channels, skipped because this one
 * "reached" them, are due again — for the next roll-call poll or `notify resume`.
 */
function reopenAfterLoss(replayed: Replayed, i: number, reason: string): void {
  const table = replayed.states;
  table.setStatus(i, 'failed');
  table.setReason(i, reason);
  if (replayed.run?.strategy !== 'first') return;
  const contact = table.contactOf(i);
  for (let other = 0; other < table.size; other++) {
    if (table.contactOf(other) === contact && table.statusOf(other) === 'skipped' && table.reasonOf(other)?.startsWith('already reached by')) {
      table.setStatus(other, 'pending');
      table.setReason(other, undefined);
    }
  }
}

/**
 * A record about a delivery never seen planned, in a journal whose plan is damaged: it
 * is about a lost delivery — the one whose id the damaged line still shows, or else one
 * whose id could not be read.
 */
function applyToLost(replayed: Replayed, entry: Extract<JournalEntry, { id: string }>): void {
  const lost = replayed.lost.find((l) => l.id === entry.id) ?? replayed.lost.find((l) => l.id === undefined);
  if (!lost) return;
  lost.id = entry.id;
  if (entry.kind === 'delivered') lost.delivered = true;
}

/** A damaged line, where it stands in the fold: the deliveries it may have been about become unknown. */
export function applyDamage(replayed: Replayed, damage: Damage): void {
  replayed.damaged.push(damage);
  if (damage.problem === 'out-of-order') return; // the record itself was read
  const i = damage.id ? replayed.states.ordinal(damage.id) : undefined;
  if (i !== undefined) {
    replayed.states.setDamagedLine(i, damage.line);
    if (replayed.states.statusOf(i) !== 'delivered') replayed.states.setStatus(i, 'attempting');
    return;
  }
  if (damage.kind === 'planned') {
    const count = damage.missing ?? 1;
    for (let i = 0; i < count; i++) {
      replayed.lost.push({
        line: damage.line, delivered: false,
        ...(count === 1 && damage.id && { id: damage.id }),
        ...(damage.channel && { channel: damage.channel }),
        ...(damage.contact && { contact: damage.contact }),
      });
    }
  } else if (damage.kind === 'unreachable') {
    const { key = `damaged:${damage.line}`, name = `unknown person (journal line ${damage.line})`, line } = damage.contact ?? {};
    replayed.unreachable.push({
      kind: 'unreachable', at: '', contact: { key, name, ...(line && { line }) },
      reason: `no address on the selected channels (journal line ${damage.line} is damaged)`,
    });
  }
}
