/**
 * The emergency contact list: the canonical CSV of design.md → validated contacts.
 * Every bad row is reported with its line number; nothing is dropped silently. The same
 * person listed twice (same phone or same email) is merged and reached once.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Parser, type Options } from 'csv-parse';
import { UserError } from '../errors.js';
import type { AddressColumn, Channel } from './channel.js';
import { Column } from './column.js';
import { HashedKeys } from './hashed-keys.js';
import { TextList } from './text-list.js';
import { phoneColumn } from './phone.js';
import { nameKey } from './select.js';
import type { Contact, Problem } from './types.js';

/** The canonical CSV written by `contacts import` (design.md); channels may read more columns (signal…). */
export const CONTACT_COLUMNS = ['name', 'role', 'groups', 'phone', 'email', 'slack', 'telegram', 'locale'] as const;

/** Address rules shared with `contacts import`, so what it writes, this reads. */
export const EMAIL = /^[^\s@"<>(),;:]+@[^\s@"<>(),;:]+\.[^\s@"<>(),;:]{2,}$/;
export const SLACK = /^(?:[UWCGD][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]*)$/;
export const TELEGRAM = /^-?\d{1,20}$/;
const LOCALE = /^[a-z]{2}$/;

export interface ContactOptions {
  defaultRegion: string;
  defaultLocale: string;
  /** The channel registry: which columns hold addresses, and which channel reads which. */
  channels: readonly Channel[];
}

export interface ContactList {
  contacts: Contact[];
  /** Rows that could not be used; a plan is refused while there are any (unless --skip-invalid). */
  invalid: Problem[];
  /** Notices that change nothing the user must fix (merged duplicates…). */
  notices: Problem[];
}

/**
 * A contact list read as a stream, for lists of any size: a first pass over the file
 * validates every row and finds the same person listed twice (keeping only hashes of their
 * phones, emails and names, not the rows), and each iteration of `contacts` reads the file
 * again, yielding each person with their later rows merged in. Only people with such
 * duplicate rows are held in memory — and the whole list when it is small (KEEP_READ_BYTES).
 */
export interface ContactStream {
  /** Every valid person in file order (a large list is read again: refused if it changed since the first pass). */
  contacts: Iterable<Contact>;
  /** How many people `contacts` yields. */
  count: number;
  /** People per group. */
  groupSizes: Record<string, number>;
  /** Columns other than the canonical and address ones (`{{contact.<column>}}`). */
  extraColumns: string[];
  /** The languages people read. */
  locales: string[];
  invalid: Problem[];
  notices: Problem[];
  /** SHA-256 (hex) of the bytes checked: every later pass must read the same (and the audit header names it). */
  sha256: string;
}

export function readContacts(path: string, options: ContactOptions): ContactList {
  const stream = openContacts(path, options);
  return { contacts: [...stream.contacts], invalid: stream.invalid, notices: stream.notices };
}

/** The contact list at `path`, validated whole now and read again, a row at a time, for each use. */
export function openContacts(path: string, options: ContactOptions): ContactStream {
  let start: Buffer;
  try {
    start = readStart(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `${path} does not exist; pass the contact list with --contacts FILE or set NOTIFY_CONTACTS.`
        : code === 'EISDIR'
          ? `${path} is a folder, not a CSV file; pass the contact list file itself, e.g. --contacts ${join(path, 'contacts.csv')}.`
          : `${path} cannot be read (${code}); check its permissions.`,
    );
  }
  // A NUL byte never occurs in UTF-8 or Windows-1252 text: this is a program, an image or a
  // workbook (.xlsx is a zip). UTF-16 text (Excel's "Unicode Text") is full of them but has a BOM.
  const utf16 = (start[0] === 0xff && start[1] === 0xfe) || (start[0] === 0xfe && start[1] === 0xff);
  if (!utf16 && start.includes(0)) {
    throw new UserError(
      `${path} is a binary file, not a CSV; give the contact list as CSV text (in Excel: Save As → CSV UTF-8), or convert an export with "notify contacts import".`,
    );
  }
  const notUtf8 = () => new UserError(
    `${basename(path)} is not UTF-8 (probably a Windows/Excel export), so accents would be garbled; convert it with: notify contacts import ${basename(path)} -o contacts.csv`,
  );
  return streamContacts(() => fileChunks(path), basename(path), options, notUtf8);
}

/** A contact list already in memory (what `contacts import` writes, tests). */
export function parseContacts(text: string, fileName: string, options: ContactOptions): ContactList {
  const stream = streamContacts(() => [Buffer.from(text)], fileName, options);
  return { contacts: [...stream.contacts], invalid: stream.invalid, notices: stream.notices };
}

/** Bytes read at a time: the list is never read whole. */
const CHUNK_BYTES = 8 * 1024;
/**
 * A list up to this size (~12,000 people) is kept as the first pass read it, and later
 * passes use those people instead of reading the file again: for a small list the second
 * read was a tenth of a send's time to first message, and it saves nothing.
 */
const KEEP_READ_BYTES = 1024 * 1024;

/** The first bytes of a file (to tell text from a binary file); a folder fails with EISDIR. */
function readStart(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).isDirectory()) throw Object.assign(new Error(`${path} is a folder`), { code: 'EISDIR' });
    const buffer = Buffer.alloc(8192);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, null));
  } finally {
    closeSync(fd);
  }
}

function* fileChunks(path: string): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      if (read === 0) return;
      yield buffer.subarray(0, read);
    }
  } finally {
    closeSync(fd);
  }
}

const HAS_PHONE = 1;
const HAS_EMAIL = 2;
/** Their own phone (not a merged row's) is a landline. */
const LANDLINE = 4;

/** What the first pass keeps of each person: small numbers, and the rows merged into them. */
interface Index {
  /** Person (by ordinal, in file order) → the line of their first row, and their name. */
  lines: Column;
  names: TextList;
  /** Person → index of their set of groups in `groupSets`. */
  groupSetOf: Column;
  groupSets: string[][];
  groupSetIds: Map<string, number>;
  /** Person → HAS_PHONE | HAS_EMAIL | LANDLINE. */
  reachedAt: Column;
  /** Each person's phone as the first pass parsed it: the digits of its E.164 form (0: none). */
  phones: Column;
  invalidLines: Set<number>;
  /** Later rows of the same person, by the person's ordinal; and the lines of those rows. */
  twins: Map<number, Contact[]>;
  twinLines: Set<number>;
  /** Lines whose person has another key than toContact gives: a namesake with neither phone nor email (`name:…#2`). */
  keyOfLine: Map<number, string>;
}

function streamContacts(chunks: () => Iterable<Buffer>, fileName: string, options: ContactOptions, notUtf8?: () => UserError): ContactStream {
  const columns = addressColumns(options.channels);
  const known = new Set<string>([...CONTACT_COLUMNS, ...columns.map((c) => c.name)]);
  const stream: ContactStream = { contacts: [], count: 0, groupSizes: {}, extraColumns: [], locales: [], invalid: [], notices: [], sha256: '' };
  const index: Index = {
    lines: new Column((n) => new Uint32Array(n)), names: new TextList(), groupSetOf: new Column((n) => new Uint32Array(n)), groupSets: [], groupSetIds: new Map(),
    reachedAt: new Column((n) => new Uint8Array(n)), phones: new Column((n) => new Float64Array(n)), invalidLines: new Set(), twins: new Map(), twinLines: new Set(), keyOfLine: new Map() };
  const setId = (groups: string[]) => {
    const key = groups.join('|');
    let id = index.groupSetIds.get(key);
    if (id === undefined) index.groupSetIds.set(key, (id = index.groupSets.push(groups) - 1));
    return id;
  };
  // Only hashes of the addresses and names (hashed-keys.ts): a million of each as strings
  // held over 100 MB. A merge is confirmed against the rows themselves in the second pass.
  const byPhone = new HashedKeys();
  const byEmail = new HashedKeys();
  const byName = new HashedKeys();
  const nameKeys = new HashedKeys();
  /**
   * A person with neither phone nor email is known by name (`name:jean martin`). Two such
   * namesakes are two people (a warning says so): the second becomes `name:jean martin#2`,
   * or they would share delivery ids, and the second would be taken for the first and
   * never messaged. The same file always gives the same keys (a roll call reads it again).
   */
  const uniqueNameKey = (key: string) => {
    let unique = key;
    for (let n = 2; nameKeys.get(unique) !== undefined; n++) unique = `${key}#${n}`;
    nameKeys.set(unique, 0);
    return unique;
  };
  const locales = new Set<string>();
  const digest = createHash('sha256');
  const decoder = notUtf8 && new TextDecoder('utf-8', { fatal: true });
  let header: string[] | undefined;
  let kept: Contact[] | undefined = [];
  let bytesRead = 0;

  // First pass: every row checked, duplicates found; only the index above is kept (and the
  // people themselves while the list is small).
  for (const { record, line } of csvRecords(chunks, fileName, columns, (chunk) => {
    digest.update(chunk);
    try {
      decoder?.decode(chunk, { stream: true });
    } catch {
      throw notUtf8!();
    }
    bytesRead += chunk.length;
    if (bytesRead > KEEP_READ_BYTES) kept = undefined;
  })) {
    header ??= Object.keys(record);
    const result = toContact(record, line, options, columns);
    if (typeof result === 'string') {
      stream.invalid.push({ where: `${fileName}:${line}`, message: result, group: 'contacts' });
      index.invalidLines.add(line);
      continue;
    }
    const { phone, email } = result.columns;
    const twin = (phone ? byPhone.get(phone) : undefined) ?? (email ? byEmail.get(email) : undefined);
    if (twin !== undefined) {
      const twins = index.twins.get(twin) ?? [];
      if (twins.length === 0) index.twins.set(twin, twins);
      twins.push(result);
      index.twinLines.add(line);
      index.groupSetOf.set(twin, setId([...new Set([...index.groupSets[index.groupSetOf.get(twin)]!, ...result.groups])]));
      // What the merged person is now reached at (their own phone and email win).
      const reachedAt = index.reachedAt.get(twin);
      if (phone && !(reachedAt & HAS_PHONE)) byPhone.set(phone, twin);
      if (email && !(reachedAt & HAS_EMAIL)) byEmail.set(email, twin);
      index.reachedAt.set(twin, reachedAt | (phone ? HAS_PHONE : 0) | (email ? HAS_EMAIL : 0));
      stream.notices.push({ where: `${fileName}:${line}`, message: `same person as line ${index.lines.get(twin)} (${index.names.at(twin)}); merged and reached once.`, group: 'contacts' });
      continue;
    }
    if (!phone && !email) {
      const key = uniqueNameKey(result.key);
      if (key !== result.key) index.keyOfLine.set(line, (result.key = key));
    }
    const ordinal = stream.count++;
    kept?.push(result);
    for (const column of [index.lines, index.groupSetOf, index.reachedAt, index.phones]) column.ensure(stream.count);
    index.lines.set(ordinal, line);
    index.names.push(result.name);
    index.groupSetOf.set(ordinal, setId(result.groups));
    index.reachedAt.set(ordinal, (phone ? HAS_PHONE : 0) | (email ? HAS_EMAIL : 0) | (result.landline ? LANDLINE : 0));
    if (phone) {
      index.phones.set(ordinal, Number(phone.slice(1)));
      byPhone.set(phone, ordinal);
    }
    if (email) byEmail.set(email, ordinal);
    locales.add(result.locale);
    const namesake = byName.get(nameKey(result.name));
    if (namesake !== undefined) {
      stream.notices.push({ where: `${fileName}:${line}`, message: namesakeWarning({ line: index.lines.get(namesake), name: index.names.at(namesake), reachedAt: index.reachedAt.get(namesake) }, result), group: 'contacts' });
    } else {
      byName.set(nameKey(result.name), ordinal);
    }
  }
  try {
    decoder?.decode();
  } catch {
    throw notUtf8!();
  }
  if (stream.count === 0 && stream.invalid.length === 0) {
    throw new UserError(`${fileName} has a header but no contacts; add one row per person.`);
  }
  for (let ordinal = 0; ordinal < stream.count; ordinal++) {
    for (const g of index.groupSets[index.groupSetOf.get(ordinal)]!) stream.groupSizes[g] = (stream.groupSizes[g] ?? 0) + 1;
  }
  stream.extraColumns = (header ?? []).filter((c) => c && !known.has(c));
  stream.locales = [...locales];
  stream.sha256 = digest.digest('hex');
  const checked = stream.sha256;
  stream.contacts = kept
    ? kept.flatMap((contact, ordinal) => withTwins(contact, index.twins.get(ordinal), options.channels))
    : { [Symbol.iterator]: () => eachContact(chunks, fileName, options, columns, index, checked) };
  return stream;
}

/** Second and later passes: the same rows again, twins merged into the first row of each person. */
function* eachContact(
  chunks: () => Iterable<Buffer>, fileName: string, options: ContactOptions, columns: AddressColumn[], index: Index, checked: string,
): Generator<Contact> {
  const digest = createHash('sha256');
  let ordinal = 0;
  for (const { record, line } of csvRecords(chunks, fileName, columns, (chunk) => digest.update(chunk))) {
    if (index.twinLines.has(line) || index.invalidLines.has(line)) continue;
    const digits = index.phones.get(ordinal);
    const known = digits === 0 ? undefined : { value: `+${digits}`, ...((index.reachedAt.get(ordinal) & LANDLINE) !== 0 && { landline: true }) };
    const contact = toContact(record, line, options, columns, { known });
    if (typeof contact === 'string') continue; // the file changed: said after the last row
    contact.key = index.keyOfLine.get(line) ?? contact.key;
    yield* withTwins(contact, index.twins.get(ordinal), options.channels);
    ordinal += 1;
  }
  if (digest.digest('hex') !== checked) {
    throw new UserError(`${fileName} changed while it was being read; nothing was sent. Wait until it is saved, then run the command again.`);
  }
}

/**
 * The CSV records of a list, with the line each starts on, read chunk by chunk (the
 * parser keeps nothing: each record is handed over as it is read).
 */
function* csvRecords(
  chunks: () => Iterable<Buffer>, fileName: string, columns: AddressColumn[], onChunk: (chunk: Buffer) => void,
): Generator<{ record: Record<string, string>; line: number }> {
  let parser: ReturnType<typeof csvParser> | undefined;
  const ready: { record: Record<string, string>; line: number }[] = [];
  const fail = (error: unknown) => {
    if (error instanceof UserError) throw error;
    const err = error as { lines?: number; message: string };
    throw new UserError(`${fileName}:${err.lines ?? 1}: this is not a readable CSV file (${err.message}); export it again as CSV.`);
  };
  for (const chunk of chunks()) {
    onChunk(chunk);
    if (!parser) parser = csvParser(chunk, fileName, columns, ready);
    const error = parser.parse(chunk, false);
    if (error) fail(error);
    yield* ready.splice(0);
  }
  parser ??= csvParser(Buffer.alloc(0), fileName, columns, ready); // an empty file: its header is missing
  const error = parser.parse(undefined, true);
  if (error) fail(error);
  yield* ready.splice(0);
}

/**
 * csv-parse's own incremental parser (what its stream and sync APIs both drive), fed
 * synchronously here so that planning stays a plain loop. It hands over each row as an
 * array, made an object here: its `columns` option defines each property one by one and its
 * `on_record` builds an info object per row, a tenth of reading a large list.
 */
function csvParser(first: Buffer, fileName: string, columns: AddressColumn[], ready: { record: Record<string, string>; line: number }[]) {
  const text = first.toString('utf8').replace(/^\uFEFF/, '');
  const header = firstHeader(text);
  if (!header.includes('name') || !columns.some((c) => header.includes(c.name))) {
    throw new UserError(
      `${fileName}:1: the header must have a "name" column and at least one of ${columns.map((c) => c.name).join(', ')} (expected: ${CONTACT_COLUMNS.join(',')}); to convert another spreadsheet use "notify contacts import".`,
    );
  }
  const api = (new Parser({
    bom: true, delimiter: detectDelimiter(text), skip_empty_lines: true, relax_column_count: true, trim: true,
  } satisfies Options) as unknown as { api: CsvApi }).api;
  let names: string[] | undefined;
  const push = (cells: string[]) => {
    if (!names) {
      names = cells.map((h) => h.trim().toLowerCase());
      return;
    }
    const record: Record<string, string> = {};
    for (let i = 0; i < Math.min(names.length, cells.length); i++) {
      if (names[i] === '__proto__') Object.defineProperty(record, '__proto__', { value: cells[i], enumerable: true, writable: true, configurable: true });
      else record[names[i]!] = cells[i]!;
    }
    // `lines` is where the record ends: step back over newlines inside its cells.
    let line = api.info.lines;
    for (const cell of cells) for (let i = cell.indexOf('\n'); i !== -1; i = cell.indexOf('\n', i + 1)) line -= 1;
    ready.push({ record, line });
  };
  return { parse: (chunk: Buffer | undefined, end: boolean) => api.parse(chunk, end, push, () => {}) };
}

/** The part of csv-parse's parser used here (`Parser.api`, untyped in its declarations). */
interface CsvApi {
  info: { lines: number };
  parse(chunk: Buffer | undefined, end: boolean, push: (cells: string[]) => void, close: () => void): Error | undefined;
}

/** Picks `;` or `,` (or tab) from the header line, as French Excel exports use `;`. */
export function detectDelimiter(text: string): string {
  return sniffDelimiter(text.slice(0, text.search(/\r?\n|$/)));
}

/** `,` `;` or tab: the one found most often in the header line, outside quotes. */
export function sniffDelimiter(headerLine: string): string {
  const counts = new Map([['\t', 0], [';', 0], [',', 0]]);
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  let best = ',';
  let most = 0;
  for (const [delimiter, count] of counts) {
    if (count > most) [best, most] = [delimiter, count]; // ties keep tab, then `;`, then `,`
  }
  return best;
}

function firstHeader(text: string): string[] {
  const line = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return line.split(detectDelimiter(line)).map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
}

/** Every column some channel reads an address from, once each, in registry order. */
export function addressColumns(channels: readonly Channel[]): AddressColumn[] {
  const byName = new Map<string, AddressColumn>();
  for (const column of channels.flatMap((c) => c.columns)) if (!byName.has(column.name)) byName.set(column.name, column);
  return [...byName.values()];
}

/** Where a contact is reached on each channel: the first of the channel's columns that has a value. */
export function addressesOf(columns: Record<string, string>, channels: readonly Channel[]): Record<string, string> {
  const addresses: Record<string, string> = {};
  for (const channel of channels) {
    for (const column of channel.columns) {
      const value = columns[column.name];
      if (!value) continue;
      addresses[channel.name] = value;
      break;
    }
  }
  return addresses;
}

/** A contact, or the one-sentence reason the row cannot be used. */
/** A phone already parsed (a second pass over the list reuses the first pass's work: parsing is most of a row's cost). */
type KnownPhone = { value: string; landline?: boolean } | undefined;

function toContact(record: Record<string, string>, line: number, options: ContactOptions, columns: AddressColumn[], phone?: { known: KnownPhone }): Contact | string {
  const cell = (column: string) => (record[column] ?? '').trim();
  const name = cell('name');
  if (!name) return 'the name is empty; every contact needs a name.';

  const values: Record<string, string> = {};
  let landline = false;
  for (const column of columns) {
    const raw = cell(column.name);
    if (!raw) continue;
    const parsed = phone && column === phoneColumn && phone.known ? phone.known : column.parse(raw, options);
    if (typeof parsed === 'string') return parsed;
    values[column.name] = parsed.value;
    if (parsed.landline) landline = true;
  }
  const locale = (cell('locale') || options.defaultLocale).toLowerCase();
  if (!LOCALE.test(locale)) return `locale "${cell('locale')}" is not a two-letter language code such as fr or en.`;

  const known = knownColumns(columns);
  const extra: Record<string, string> = {};
  for (const column in record) {
    if (!known.has(column) && column) extra[column] = record[column]!;
  }
  const groups = groupsOf(cell('groups'));
  const key = values.phone ?? values.email ?? `name:${name.toLowerCase()}`;
  return {
    line, name, role: cell('role'), groups, locale, extra, key,
    columns: values, addresses: addressesOf(values, options.channels), ...(landline && { landline: true }),
  };
}

/** The canonical and address columns: every other column is an extra one (`{{contact.<column>}}`). */
const knownByColumns = new WeakMap<AddressColumn[], Set<string>>();
function knownColumns(columns: AddressColumn[]): Set<string> {
  let known = knownByColumns.get(columns);
  if (!known) knownByColumns.set(columns, (known = new Set([...CONTACT_COLUMNS, ...columns.map((c) => c.name)])));
  return known;
}

/**
 * A groups cell as a list, the same list for the same cell: a list of 100,000 people has
 * a few dozen distinct cells. (Lists are never changed in place; a merge makes a new one.)
 */
const groupLists = new Map<string, string[]>();
function groupsOf(cell: string): string[] {
  let groups = groupLists.get(cell);
  if (!groups) {
    if (groupLists.size >= 10_000) groupLists.clear();
    groupLists.set(cell, (groups = splitGroups(cell)));
  }
  return groups;
}

export function splitGroups(cell: string): string[] {
  return [...new Set(cell.split('|').map((g) => g.trim().toLowerCase()).filter(Boolean))];
}

/**
 * Two rows with one name but another phone or email are counted as two people; usually one
 * is a stale row (an old number), and the person gets messages at an address they left.
 * (A row with the same phone or email as the first would have been merged: an address
 * differs when this row has one, or when only the first row has one.)
 */
function namesakeWarning(first: { line: number; name: string; reachedAt: number }, other: Contact): string {
  const differs = [(other.columns.phone || first.reachedAt & HAS_PHONE) && 'phone', (other.columns.email || first.reachedAt & HAS_EMAIL) && 'email'].filter(Boolean).join(' and ');
  return `same name as line ${first.line} (${first.name}) but another ${differs || 'address'}: both rows will be messaged as two people; if one is out of date, remove it.`;
}

/**
 * A person with their later rows merged in. A row taken for the same person shares a phone
 * or an email with them; one that does not had only the hash of one (hashed-keys.ts: about
 * one list in 30 million) and is reached as the person it is.
 */
function withTwins(contact: Contact, twins: Contact[] | undefined, channels: readonly Channel[]): Contact[] {
  const people = [contact];
  for (const twin of twins ?? []) {
    const { phone, email } = contact.columns;
    if ((phone && twin.columns.phone === phone) || (email && twin.columns.email === email)) mergeInto(contact, twin, channels);
    else people.push(twin);
  }
  return people;
}

/** Fill what the first row lacks from the duplicate; groups are the union. */
function mergeInto(kept: Contact, twin: Contact, channels: readonly Channel[]): void {
  if (!kept.columns.phone && twin.columns.phone && twin.landline) kept.landline = true;
  kept.columns = { ...twin.columns, ...kept.columns };
  kept.addresses = addressesOf(kept.columns, channels);
  kept.groups = [...new Set([...kept.groups, ...twin.groups])];
  kept.extra = { ...twin.extra, ...kept.extra };
}
