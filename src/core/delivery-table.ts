/**
 * The state of every delivery of a run, compactly: typed arrays indexed by the delivery's
 * ordinal (its place in the plan) instead of one object per delivery. A dry run of
 * 100,000 contacts has 400,000 deliveries; as objects (state, delivery, contact, place,
 * id string, map entry) they held about 600 bytes each and the run state alone went past
 * 200 MB. Here a delivery costs about 35 bytes: status, attempts, flags, channel, contact
 * ordinal, reason index, where its planned record is, and its id (24 hex characters kept
 * as three 32-bit words in an open-addressing table; other ids fall back to a Map).
 *
 * A dry run never looks a delivery up by id (its one `checked` record settles them all), so
 * its ids are not kept (`deferIds`): about 12 bytes a delivery, 38 MB for a million contacts
 * instead of 150. Should a record ask for an id after all (a dry run resumed), the ids are
 * read back from the planned records, once, and kept from then on.
 *
 * What is not kept: the contact's name and line and the address (`to`). They are in the
 * planned record, and are read back from the journal file when asked for (a report's
 * failures and people not reached, a resume's deliveries) — few, compared with all of them.
 * Deliveries folded without a place in a file (`replay` of records in memory) keep them
 * in a side table.
 *
 * People are numbered, not named: the plan writes a contact's deliveries one after the
 * other, so a planned record with the same key as the one before is the same person, and
 * the key itself is read back from the file when asked for.
 *
 * `get`, `values`, `keys` and iteration give `DeliveryState` objects made on demand, so
 * readers use it like the Map it replaces; they are snapshots (change the state by
 * appending records to the journal, as always).
 */
import { UserError } from '../errors.js';
import { Column, CHUNK_BITS } from './column.js';
import type { ChannelName } from './types.js';

export type DeliveryStatus = 'pending' | 'attempting' | 'delivered' | 'failed' | 'skipped';
const STATUSES: DeliveryStatus[] = ['pending', 'attempting', 'delivered', 'failed', 'skipped'];
const STATUS_CODE: Record<DeliveryStatus, number> = { pending: 0, attempting: 1, delivered: 2, failed: 3, skipped: 4 };

export interface RecordPlace {
  offset: number;
  length: number;
}

/** What the state keeps of a delivery: enough to report it. The message itself stays in the file. */
export interface DeliveryInfo {
  id: string;
  channel: ChannelName;
  contact: { key: string; name: string; line?: number };
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
  /** Where its planned record is in the file (set when read from a file, to send it again). */
  place?: RecordPlace;
  /**
   * A record about it is damaged (this line): unless a later record settles it, its
   * outcome is unknown — it is "attempting", as if the process had died mid-send.
   */
  damagedLine?: number;
}

/** Reads a planned record back from the journal (its line, parsed). */
export type RecordReader = (place: RecordPlace) => object | undefined;
type PlannedFields = { id?: string; to?: string; message?: { to?: string }; contact?: DeliveryInfo['contact'] };

const UNCERTAIN = 1;
const DUPLICATED = 2;
/** The place came from reading the file (readRun): shown in the state, for resume. */
const PLACE_SHOWN = 4;
const BROADCAST = 8;

/** A place kept aside (a record of 64 KB or more, or far from the others of its chunk). */
const FAR = 0xffff;

type IdWords = [number, number, number];

/** A delivery id of 24 lowercase hex characters as three 32-bit words (other ids: undefined). */
function idWords(id: string): IdWords | undefined {
  if (id.length !== 24) return undefined;
  const words: IdWords = [hexWord(id, 0), hexWord(id, 8), hexWord(id, 16)];
  return words[0] < 0 || words[1] < 0 || words[2] < 0 ? undefined : words;
}

/** Eight hex digits from `from` as a number (-1 if one is not 0-9 or a-f): no regex and no slices, once per planned delivery. */
function hexWord(id: string, from: number): number {
  let word = 0;
  for (let i = from; i < from + 8; i++) {
    const c = id.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (digit < 0) return -1;
    word = word * 16 + digit;
  }
  return word;
}

export class DeliveryTable {
  private n = 0;
  private readonly status = new Column((n) => new Uint8Array(n));
  private readonly attempts = new Column((n) => new Uint16Array(n));
  private readonly flags = new Column((n) => new Uint8Array(n));
  private readonly channel = new Column((n) => new Uint8Array(n));
  private readonly contact = new Column((n) => new Uint32Array(n));
  private readonly reason = new Column((n) => new Uint32Array(n)); // 0 = none, else index + 1 into reasons
  /**
   * Where its planned record is: the offset from the first record placed in its chunk of
   * ordinals (records of a chunk are close together) and the length; 0 = no place, FAR =
   * one that does not fit (kept in `farPlaces`).
   */
  private readonly offset = new Column((n) => new Uint32Array(n));
  private readonly length = new Column((n) => new Uint16Array(n));
  private readonly bases: number[] = [];
  private readonly farPlaces = new Map<number, RecordPlace>();
  /** Ids of 24 hex characters, as three 32-bit words per ordinal. */
  private readonly idWords = new Column((n) => new Uint32Array(n), 3);
  /** Open addressing: slot → ordinal + 1 (0 = empty). */
  private slots = new Uint32Array(4096);
  /** Other ids (older journals, tests): id → ordinal; and ordinal → id. */
  private otherIds = new Map<string, number>();
  private otherById = new Map<number, string>();
  private channels: ChannelName[] = [];
  /** People numbered so far, and the key of the last one. */
  private people = 0;
  private lastKey: string | undefined;
  /** Ids are kept and indexed as deliveries are added (false: read back on first lookup). */
  private indexed = true;
  private reasons: string[] = [];
  private reasonIndex = new Map<string, number>();
  private damaged = new Map<number, number>();
  /** Deliveries without a place in a file: what cannot be read back. */
  private inMemory = new Map<number, DeliveryInfo>();

  /** How a planned record is read back from its file (set by the journal or by readRun). */
  reader: RecordReader | undefined;

  get size(): number {
    return this.n;
  }

  /**
   * Keep no ids until one is looked up (a dry run): from then on they are read back from
   * the planned records. Until then an id planned twice has two ordinals; the later one
   * is the one found.
   */
  deferIds(): void {
    if (this.n === 0) this.indexed = false;
  }

  /** Add a planned delivery; returns its ordinal (an id planned twice keeps its first ordinal, updated). */
  add(info: DeliveryInfo, place: RecordPlace | undefined, showPlace: boolean): number {
    if (!this.indexed && !place) this.indexIds(); // an id that is in no file cannot be read back: keep them all
    const words = this.indexed ? idWords(info.id) : undefined;
    let i = this.indexed ? this.ordinal(info.id, words) : undefined;
    if (i === undefined) {
      i = this.n++;
      this.ensure(this.n);
      if (this.indexed) this.storeId(info.id, i, words);
    }
    this.status.set(i, 0);
    this.attempts.set(i, 0);
    this.reason.set(i, 0);
    this.damaged.delete(i);
    this.flags.set(i, (showPlace && place ? PLACE_SHOWN : 0) | (info.contact.key.startsWith('broadcast:') ? BROADCAST : 0));
    let c = this.channels.indexOf(info.channel);
    if (c === -1) c = this.channels.push(info.channel) - 1;
    this.channel.set(i, c);
    if (info.contact.key !== this.lastKey) {
      this.people += 1;
      this.lastKey = info.contact.key;
    }
    this.contact.set(i, this.people - 1);
    if (place) {
      this.setPlace(i, place);
      this.inMemory.delete(i);
    } else {
      this.length.set(i, 0);
      this.farPlaces.delete(i);
      this.inMemory.set(i, info);
    }
    return i;
  }

  private setPlace(i: number, place: RecordPlace): void {
    const base = (this.bases[i >>> CHUNK_BITS] ??= place.offset);
    const delta = place.offset - base;
    this.farPlaces.delete(i);
    if (delta >= 0 && delta <= 0xffffffff && place.length > 0 && place.length < FAR) {
      this.offset.set(i, delta);
      this.length.set(i, place.length);
    } else {
      this.length.set(i, FAR);
      this.farPlaces.set(i, place);
    }
  }

  private capacity = 0;

  private ensure(size: number): void {
    if (size <= this.capacity) return;
    this.capacity = (((size - 1) >>> CHUNK_BITS) + 1) << CHUNK_BITS;
    for (const column of [this.status, this.attempts, this.flags, this.channel, this.contact, this.reason, this.offset, this.length, this.idWords]) {
      column.ensure(this.capacity);
    }
  }

  private storeId(id: string, i: number, words: IdWords | undefined): void {
    if (!words) {
      this.otherIds.set(id, i);
      this.otherById.set(i, id);
      return;
    }
    for (let k = 0; k < 3; k++) this.idWords.set(i, words[k]!, k);
    // Keep the table at most half full.
    if ((this.n - this.otherIds.size) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.insertSlot(i);
  }

  private insertSlot(i: number): void {
    const mask = this.slots.length - 1;
    let s = this.idWords.get(i) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = i + 1;
  }

  private rehash(size: number): void {
    this.slots = new Uint32Array(size);
    for (let i = 0; i < this.n; i++) if (!this.otherById.has(i)) this.insertSlot(i);
  }

  /**
   * Deferred ids, read back from the planned records and indexed. From the last record
   * back, so that an id planned twice is found at its later ordinal, the one later records
   * settle. (Deferred, nothing was stored: every delivery has its place in the file.)
   */
  private indexIds(): void {
    this.indexed = true;
    let size = 4096;
    while (size < this.n * 2) size *= 2;
    this.slots = new Uint32Array(size);
    for (let i = this.n - 1; i >= 0; i--) {
      const id = this.readId(i);
      const words = idWords(id);
      if (words) for (let k = 0; k < 3; k++) this.idWords.set(i, words[k]!, k);
      else this.otherById.set(i, id);
      if (this.ordinal(id, words) !== undefined) continue; // planned again later: found there
      if (words) this.insertSlot(i);
      else this.otherIds.set(id, i);
    }
  }

  private readId(i: number): string {
    const place = this.placeOf(i);
    const record = place && this.reader ? (this.reader(place) as PlannedFields | undefined) : undefined;
    if (typeof record?.id !== 'string') {
      throw new UserError(`The journal changed while it was being read (planned message ${i + 1} can no longer be read back); run the command again.`);
    }
    return record.id;
  }

  /** The ordinal of a delivery id, if it was planned. */
  ordinal(id: string, words = idWords(id)): number | undefined {
    if (!this.indexed) this.indexIds();
    if (!words) return this.otherIds.get(id);
    const [a, b, c] = words;
    const mask = this.slots.length - 1;
    for (let s = a & mask; this.slots[s] !== 0; s = (s + 1) & mask) {
      const i = this.slots[s]! - 1;
      if (this.idWords.get(i) === a && this.idWords.get(i, 1) === b && this.idWords.get(i, 2) === c) return i;
    }
    return undefined;
  }

  idOf(i: number): string {
    const other = this.otherById.get(i);
    if (other !== undefined) return other;
    if (!this.indexed) return this.readId(i);
    const hex = (w: number) => w.toString(16).padStart(8, '0');
    return hex(this.idWords.get(i)) + hex(this.idWords.get(i, 1)) + hex(this.idWords.get(i, 2));
  }

  // ── the fold's steps ──
  statusOf(i: number): DeliveryStatus {
    return STATUSES[this.status.get(i)]!;
  }
  setStatus(i: number, status: DeliveryStatus): void {
    this.status.set(i, STATUS_CODE[status]);
  }
  attemptsOf(i: number): number {
    return this.attempts.get(i);
  }
  setAttempts(i: number, attempts: number): void {
    this.attempts.set(i, Math.min(attempts, 0xffff));
  }
  isUncertain(i: number): boolean {
    return (this.flags.get(i) & UNCERTAIN) !== 0;
  }
  setUncertain(i: number): void {
    this.flags.set(i, this.flags.get(i) | UNCERTAIN);
  }
  isDuplicated(i: number): boolean {
    return (this.flags.get(i) & DUPLICATED) !== 0;
  }
  setDuplicated(i: number, value: boolean): void {
    this.flags.set(i, value ? this.flags.get(i) | DUPLICATED : this.flags.get(i) & ~DUPLICATED);
  }
  isBroadcast(i: number): boolean {
    return (this.flags.get(i) & BROADCAST) !== 0;
  }
  reasonOf(i: number): string | undefined {
    const r = this.reason.get(i);
    return r === 0 ? undefined : this.reasons[r - 1];
  }
  setReason(i: number, reason: string | undefined): void {
    if (reason === undefined) {
      this.reason.set(i, 0);
      return;
    }
    let r = this.reasonIndex.get(reason);
    if (r === undefined) {
      r = this.reasons.push(reason);
      this.reasonIndex.set(reason, r);
    }
    this.reason.set(i, r);
  }
  damagedLineOf(i: number): number | undefined {
    return this.damaged.get(i);
  }
  setDamagedLine(i: number, line: number): void {
    if (!this.damaged.has(i)) this.damaged.set(i, line);
  }
  channelOf(i: number): ChannelName {
    return this.channels[this.channel.get(i)]!;
  }
  /** Same number, same person (broadcasts included: each is its own "contact"). */
  contactOf(i: number): number {
    return this.contact.get(i);
  }
  /** How many people the deliveries are for (numbered 0 … people - 1 by `contactOf`). */
  get peopleCount(): number {
    return this.people;
  }
  placeOf(i: number): RecordPlace | undefined {
    const length = this.length.get(i);
    if (length === 0) return undefined;
    if (length === FAR) return this.farPlaces.get(i);
    return { offset: this.bases[i >>> CHUNK_BITS]! + this.offset.get(i), length };
  }

  /** Who and where, read back from the planned record when it is not kept in memory. */
  infoOf(i: number): DeliveryInfo {
    const kept = this.inMemory.get(i);
    if (kept) return kept;
    const channel = this.channelOf(i);
    const place = this.placeOf(i);
    let record: PlannedFields | undefined;
    try {
      record = place && this.reader ? (this.reader(place) as PlannedFields | undefined) : undefined;
    } catch {
      record = undefined;
    }
    const id = this.indexed ? this.idOf(i) : typeof record?.id === 'string' ? record.id : (this.otherById.get(i) ?? `#${i}`);
    const contact = record?.contact && record.id === id ? record.contact : { key: `delivery:${id}`, name: `unknown recipient (delivery ${id})` };
    return { id, channel, contact: { key: contact.key, name: contact.name, ...(contact.line !== undefined && { line: contact.line }) }, to: record?.to ?? record?.message?.to ?? '' };
  }

  /** The state of one delivery, as an object (made on demand). */
  stateAt(i: number): DeliveryState {
    const reason = this.reasonOf(i);
    const damagedLine = this.damagedLineOf(i);
    const place = (this.flags.get(i) & PLACE_SHOWN) !== 0 ? this.placeOf(i) : undefined;
    const state: DeliveryState = {
      delivery: this.infoOf(i), status: this.statusOf(i), attempts: this.attemptsOf(i),
      uncertain: this.isUncertain(i), mayBeDuplicated: this.isDuplicated(i),
      ...(place && { place }),
      reason,
      ...(damagedLine !== undefined && { damagedLine }),
    };
    return state;
  }

  // ── the Map-like interface readers use ──
  get(id: string): DeliveryState | undefined {
    const i = this.ordinal(id);
    return i === undefined ? undefined : this.stateAt(i);
  }
  has(id: string): boolean {
    return this.ordinal(id) !== undefined;
  }
  *keys(): Generator<string> {
    for (let i = 0; i < this.n; i++) yield this.idOf(i);
  }
  *values(): Generator<DeliveryState> {
    for (let i = 0; i < this.n; i++) yield this.stateAt(i);
  }
  *entries(): Generator<[string, DeliveryState]> {
    for (let i = 0; i < this.n; i++) yield [this.idOf(i), this.stateAt(i)];
  }
  [Symbol.iterator](): Generator<[string, DeliveryState]> {
    return this.entries();
  }
}
