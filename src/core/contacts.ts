/**
 * The emergency contact list: the canonical CSV of design.md → validated contacts.
 * Every bad row is reported with its line number; nothing is dropped silently. The same
 * person listed twice (same phone or same email) is merged and reached once.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { UserError } from '../errors.js';
import type { AddressColumn, Channel } from './channel.js';
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

export function readContacts(path: string, options: ContactOptions): ContactList {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
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
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (!utf16 && bytes.subarray(0, 8192).includes(0)) {
    throw new UserError(
      `${path} is a binary file, not a CSV; give the contact list as CSV text (in Excel: Save As → CSV UTF-8), or convert an export with "notify contacts import".`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(
      `${basename(path)} is not UTF-8 (probably a Windows/Excel export), so accents would be garbled; convert it with: notify contacts import ${basename(path)} -o contacts.csv`,
    );
  }
  return parseContacts(text, basename(path), options);
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

export function parseContacts(text: string, fileName: string, options: ContactOptions): ContactList {
  const header = firstHeader(text);
  const columns = addressColumns(options.channels);
  if (!header.includes('name') || !columns.some((c) => header.includes(c.name))) {
    throw new UserError(
      `${fileName}:1: the header must have a "name" column and at least one of ${columns.map((c) => c.name).join(', ')} (expected: ${CONTACT_COLUMNS.join(',')}); to convert another spreadsheet use "notify contacts import".`,
    );
  }

  const list: ContactList = { contacts: [], invalid: [], notices: [] };
  const byPhone = new Map<string, Contact>();
  const byEmail = new Map<string, Contact>();
  const byName = new Map<string, Contact>();
  // Each record is taken as the parser reads it (on_record), so the parsed rows of a large
  // list (and their line info) are never all in memory beside the contacts made from them.
  const take = (record: Record<string, string>, lines: number) => {
    // `lines` is where the record ends: step back over newlines inside its cells.
    const line = lines - Object.values(record).reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0);
    const where = `${fileName}:${line}`;
    const result = toContact(record, line, options, columns);
    if (typeof result === 'string') {
      list.invalid.push({ where, message: result, group: 'contacts' });
      return;
    }
    const { phone, email } = result.columns;
    const twin = (phone && byPhone.get(phone)) || (email && byEmail.get(email));
    if (twin) {
      mergeInto(twin, result, options.channels);
      list.notices.push({ where, message: `same person as line ${twin.line} (${twin.name}); merged and reached once.`, group: 'contacts' });
    } else {
      const namesake = byName.get(nameKey(result.name));
      if (namesake) list.notices.push({ where, message: namesakeWarning(namesake, result), group: 'contacts' });
      else byName.set(nameKey(result.name), result);
      list.contacts.push(result);
    }
    const kept = twin || result;
    if (kept.columns.phone) byPhone.set(kept.columns.phone, kept);
    if (kept.columns.email) byEmail.set(kept.columns.email, kept);
  };
  try {
    parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      delimiter: detectDelimiter(text.replace(/^\uFEFF/, '')),
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      on_record: (record: Record<string, string>, context: { lines: number }) => {
        take(record, context.lines);
        return null; // nothing kept by the parser
      },
    });
  } catch (error) {
    const err = error as { lines?: number; message: string };
    throw new UserError(`${fileName}:${err.lines ?? 1}: this is not a readable CSV file (${err.message}); export it again as CSV.`);
  }
  if (list.contacts.length === 0 && list.invalid.length === 0) {
    throw new UserError(`${fileName} has a header but no contacts; add one row per person.`);
  }
  return list;
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
    const value = channel.columns.map((c) => columns[c.name]).find(Boolean);
    if (value) addresses[channel.name] = value;
  }
  return addresses;
}

/** A contact, or the one-sentence reason the row cannot be used. */
function toContact(record: Record<string, string>, line: number, options: ContactOptions, columns: AddressColumn[]): Contact | string {
  const cell = (column: string) => (record[column] ?? '').trim();
  const name = cell('name');
  if (!name) return 'the name is empty; every contact needs a name.';

  const values: Record<string, string> = {};
  let landline = false;
  for (const column of columns) {
    const raw = cell(column.name);
    if (!raw) continue;
    const parsed = column.parse(raw, options);
    if (typeof parsed === 'string') return parsed;
    values[column.name] = parsed.value;
    if (parsed.landline) landline = true;
  }
  const locale = (cell('locale') || options.defaultLocale).toLowerCase();
  if (!LOCALE.test(locale)) return `locale "${cell('locale')}" is not a two-letter language code such as fr or en.`;

  const known = new Set<string>([...CONTACT_COLUMNS, ...columns.map((c) => c.name)]);
  const extra: Record<string, string> = {};
  for (const [column, value] of Object.entries(record)) {
    if (!known.has(column) && column) extra[column] = value;
  }
  const groups = splitGroups(cell('groups'));
  const key = values.phone ?? values.email ?? `name:${name.toLowerCase()}`;
  return {
    line, name, role: cell('role'), groups, locale, extra, key,
    columns: values, addresses: addressesOf(values, options.channels), ...(landline && { landline: true }),
  };
}

export function splitGroups(cell: string): string[] {
  return [...new Set(cell.split('|').map((g) => g.trim().toLowerCase()).filter(Boolean))];
}

/**
 * Two rows with one name but another phone or email are counted as two people; usually one
 * is a stale row (an old number), and the person gets messages at an address they left.
 */
function namesakeWarning(first: Contact, other: Contact): string {
  const differs = [other.columns.phone !== first.columns.phone && 'phone', other.columns.email !== first.columns.email && 'email'].filter(Boolean).join(' and ');
  return `same name as line ${first.line} (${first.name}) but another ${differs || 'address'}: both rows will be messaged as two people; if one is out of date, remove it.`;
}

/** Fill what the first row lacks from the duplicate; groups are the union. */
function mergeInto(kept: Contact, twin: Contact, channels: readonly Channel[]): void {
  if (!kept.columns.phone && twin.columns.phone && twin.landline) kept.landline = true;
  kept.columns = { ...twin.columns, ...kept.columns };
  kept.addresses = addressesOf(kept.columns, channels);
  kept.groups = [...new Set([...kept.groups, ...twin.groups])];
  kept.extra = { ...twin.extra, ...kept.extra };
}
