/**
 * The rendered messages of a live run, beside its journal: `.notify/runs/<run-id>.messages`
 * (mode 0600). The journal's planned records stay small (who, channel, template, the
 * message's digest and where its text sits here); the text itself is written once here,
 * and read back by place when the message is sent or resent. Why a separate file and not
 * the text in each record: a plan of 400,000 messages wrote gigabytes of journal, which
 * every report and resume then had to read through.
 *
 * Identical messages are stored once (an SMS that does not name its reader is the same
 * for thousands of people): the last few thousand digests are remembered, so the table
 * stays small however large the list.
 *
 * Format: each message as its digest reads it (`digestInput`: every part after its length),
 * then a newline; its digest, the planned record's `digest`, is the hash of that. Stores
 * written before hold one JSON array `[text, subject|null, html|null]` per line, read as
 * well. A dry run keeps no store: nothing will be sent from it.
 */
import { closeSync, existsSync, fsyncSync, openSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { LineBuffer } from './line-buffer.js';
import { digestInput, fromDigestInput, legacyMessageDigest, linkHash, messageDigest, type MessageBody } from './chain.js';

/** Digests remembered for de-duplication (then the table starts afresh). */
const DEDUPE_ENTRIES = 4096;
const FLUSH_BYTES = 256 * 1024;

export type BodyPlace = [offset: number, length: number];

/** `<run>.jsonl` → `<run>.messages`; `<run>.jsonl.partial` → `<run>.messages.partial`. */
export function storePathFor(journalPath: string): string {
  return journalPath.replace(/\.jsonl(\.partial)?$/, '.messages$1');
}

export class MessageStore {
  private fd: number | undefined;
  private size = 0;
  private readonly pending = new LineBuffer(() => this.fd, FLUSH_BYTES);
  private seen = new Map<string, BodyPlace>();

  constructor(public path: string, { create = false } = {}) {
    if (!create && !existsSync(path)) return;
    this.fd = openSync(path, create ? 'a+' : 'r', 0o600);
  }

  get exists(): boolean {
    return this.fd !== undefined;
  }

  /** Store a message (or find it stored already); `input` is its `digestInput`, when already made. */
  put(body: MessageBody, input = digestInput(body)): { digest: string; place: BodyPlace } {
    // Encoded once, for the digest and the file (a message is mostly its HTML: encoding it cost more than hashing it).
    const bytes = this.pending.stage(input);
    const digest = linkHash(bytes);
    const known = this.seen.get(digest);
    if (known) return { digest, place: known };
    const place: BodyPlace = [this.size, this.pending.commit(bytes)];
    this.size += place[1];
    if (this.seen.size >= DEDUPE_ENTRIES) this.seen.clear();
    this.seen.set(digest, place);
    return { digest, place };
  }

  flush(): void {
    this.pending.flush();
  }

  /** The message at `place`, or undefined when it is missing or not what `digest` says. */
  get(place: BodyPlace, digest: string): MessageBody | undefined {
    if (this.fd === undefined) return undefined;
    this.flush();
    const [offset, length] = place;
    const buffer = Buffer.alloc(length);
    const read = readSync(this.fd, buffer, 0, length, offset);
    const stored = buffer.toString('utf8', 0, read).replace(/\n$/, '');
    if (!stored.startsWith('[')) {
      const body = fromDigestInput(stored);
      return body && linkHash(stored) === digest ? body : undefined;
    }
    try {
      const [text, subject, html] = JSON.parse(stored) as [string, string | null, string | null];
      const body: MessageBody = { text, ...(subject !== null && { subject }), ...(html !== null && { html }) };
      return messageDigest(body) === digest || legacyMessageDigest(body) === digest ? body : undefined;
    } catch {
      return undefined;
    }
  }

  rename(path: string): void {
    this.flush();
    if (this.fd !== undefined) renameSync(this.path, path);
    this.path = path;
  }

  discard(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    unlinkSync(this.path);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    fsyncSync(this.fd); // resume reads the messages from here: they must survive a power cut
    closeSync(this.fd);
    this.fd = undefined;
  }
}
