/**
 * A spreadsheet export (Excel, Google Sheets, LibreOffice; French or English headers;
 * `,` `;` or tab; UTF-8, UTF-16 or Windows-1252) → the canonical contacts CSV of design.md.
 *
 * No row is dropped or changed silently: every row read is written, merged into an earlier
 * row (same phone or email) or rejected with its line number and reason, and every column
 * is either mapped to a field or kept as a template variable. No file access here: the
 * command opens the file, and writes the result atomically.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { UserError } from '../errors.js';
import { CONTACT_COLUMNS, EMAIL as EMAIL_ADDRESS, SLACK as SLACK_ID, sniffDelimiter, splitGroups, TELEGRAM as TELEGRAM_ID } from './contacts.js';

export { sniffDelimiter };
import { toE164 } from './phone.js';

export type Field = (typeof CONTACT_COLUMNS)[number];
export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

const NAME = 0, GROUPS = 2, PHONE = 3, EMAIL = 4, TELEGRAM = 6;
const HOW_TO_EXPORT = 'export the spreadsheet as CSV (Excel: File > Save As > "CSV UTF-8"; Google Sheets: File > Download > CSV) and import that file';

// ── bytes → text ─────────────────────────────────────────────────────────────

/** File signatures of what people export instead of a CSV. */
const SIGNATURES: [bytes: number[], what: string][] = [
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive, probably an Excel (.xlsx) or LibreOffice (.ods) workbook'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an old Excel (.xls) workbook'],
  [[0x7b, 0x5c, 0x72, 0x74, 0x66], 'an RTF document'],
];

/**
 * What the first bytes tell for sure: a byte order mark, or that this is not text at all.
 * Without a BOM the encoding is decided later, over the whole file (see importContacts).
 */
export function sniffBytes(head: Uint8Array): { encoding?: Encoding; notCsv?: string } {
  const starts = (bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts([0xef, 0xbb, 0xbf])) return { encoding: 'utf-8' };
  if (starts([0xff, 0xfe])) return { encoding: 'utf-16le' }; // Excel's "Unicode Text"
  if (starts([0xfe, 0xff])) return { encoding: 'utf-16be' };
  const known = SIGNATURES.find(([bytes]) => starts(bytes));
  if (known) return { notCsv: known[1] };
  if (head.subarray(0, 8192).includes(0)) return { notCsv: 'a binary file (it contains NUL bytes)' };
  return {};
}

/** The decoded start of a file, when it is plainly some other text format. */
export function sniffText(start: string): string | undefined {
  const text = start.trimStart();
  if (/^\{\s*["}]|^\[\s*[[{"\]\d]/.test(text)) return 'a JSON file';
  if (text.startsWith('<')) return 'an HTML or XML file (a web page saved instead of the CSV export?)';
  return undefined;
}

/**
 * Whether the whole file is valid UTF-8. Streams through a strict decoder and keeps
 * nothing: about 50 ms per 10 MB, so it costs little to read the file once more after it.
 */
async function isUtf8(source: Readable): Promise<boolean> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of source) decoder.decode(chunk as Uint8Array, { stream: true });
    decoder.decode();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return false;
    throw error;
  } finally {
    source.destroy();
  }
}

/**
 * Decodes as it streams, and turns CRLF and lone CR (old Mac Excel) into LF. Line numbers
 * are counted by csv-parse, which counts them right only when rows end in LF: with CRLF a
 * newline inside a quoted cell is counted twice.
 */
async function* decode(bytes: AsyncIterable<Uint8Array>, encoding: Encoding): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding); // drops the BOM, if any (ignoreBOM defaults to false)
  let carry = ''; // a CR ending a chunk may be the first half of a CRLF
  for await (const chunk of bytes) {
    let text = carry + decoder.decode(chunk, { stream: true });
    carry = text.endsWith('\r') ? '\r' : '';
    if (carry) text = text.slice(0, -1);
    if (text) yield text.replace(/\r\n?/g, '\n');
  }
  const tail = (carry + decoder.decode()).replace(/\r\n?/g, '\n');
  if (tail) yield tail;
}

// ── header → fields ──────────────────────────────────────────────────────────

/** "Téléphone Portable", "E-mail", "N° tél." → "telephone portable", "e mail", "n tel". */
export function normaliseHeader(header: string): string {
  return header.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

type Target = Field | 'firstName' | 'lastName';

/** Exact header names from real exports, normalised. "Nom" is the last name when a "Prénom" column exists. */
const ALIASES: Record<Target, string[]> = {
  name: ['name', 'full name', 'nom', 'nom complet', 'nom et prenom', 'nom prenom', 'prenom nom', 'prenom et nom', 'display name', 'contact', 'identite'],
  firstName: ['prenom', 'first name', 'firstname', 'given name'],
  lastName: ['nom de famille', 'last name', 'lastname', 'surname', 'family name'],
  phone: [
    'phone', 'telephone', 'tel', 'portable', 'mobile', 'gsm', 'cell', 'cellphone', 'cell phone', 'mobile phone', 'phone number',
    'mobile number', 'numero de telephone', 'numero de portable', 'telephone portable', 'telephone mobile', 'tel portable', 'tel mobile', 'sms',
  ],
  email: ['email', 'e mail', 'mail', 'courriel', 'adresse email', 'adresse e mail', 'adresse mail', 'adresse electronique', 'email address', 'e mail address', 'mel'],
  groups: ['group', 'groups', 'groupe', 'groupes', 'equipe', 'equipes', 'team', 'teams'],
  role: ['role', 'fonction', 'poste', 'job title', 'job', 'position', 'intitule du poste'],
  locale: ['language', 'langue', 'locale', 'lang', 'langue preferee', 'preferred language'],
  slack: ['slack', 'slack id', 'slack member id', 'id slack', 'identifiant slack', 'compte slack'],
  telegram: ['telegram', 'telegram id', 'telegram chat id', 'id telegram', 'identifiant telegram', 'chat id telegram'],
};

/** When no exact name matches: a word in the header ("Tél. portable pro", "Adresse e-mail perso"). */
const WORDS: Partial<Record<Field, RegExp>> = {
  phone: /\b(?:tel|telephone|phone|portable|mobile|gsm|cell|cellulaire)\b/,
  email: /\b(?:email|e mail|courriel)\b/,
  slack: /\bslack\b/,
  telegram: /\btelegram\b/,
};
/** SMS needs a mobile: between two phone columns, the one that says so wins. */
const MOBILE = /\b(?:portable|mobile|gsm|cell|cellulaire|sms)\b/;

const AUTO_ORDER: Field[] = ['phone', 'email', 'slack', 'telegram', 'groups', 'role', 'locale'];

export interface MapOverride {
  header: string;
  field: Field;
}

/** `--map "Portable=phone"` (repeatable). The header may itself contain `=`: the last one splits. */
export function parseMapFlags(flags: string[] = []): MapOverride[] {
  return flags.map((flag) => {
    const eq = flag.lastIndexOf('=');
    const header = flag.slice(0, eq).trim();
    const field = flag.slice(eq + 1).trim().toLowerCase();
    if (eq <= 0 || !header) {
      throw new UserError(`--map "${flag}" must be written "Column header=field", e.g. --map "Portable=phone".`);
    }
    if (!(CONTACT_COLUMNS as readonly string[]).includes(field)) {
      throw new UserError(`--map "${flag}": "${field}" is not a contact field; use one of ${CONTACT_COLUMNS.join(', ')}.`);
    }
    return { header, field: field as Field };
  });
}

export interface ColumnReport {
  /** 1-based position in the source file. */
  column: number;
  header: string;
  field?: Field;
  /** Name in the output file and in templates, {{contact.<variable>}}. */
  variable?: string;
  note?: string;
}

export interface ColumnPlan {
  header: string[];
  /** Source columns joined with a space to make the name ("Prénom Nom"). */
  name: number[];
  /** Source column of each other field, if any. */
  fields: Partial<Record<Field, number>>;
  /** Named columns that are not a field: kept as variables, in source order. */
  variables: { index: number; name: string }[];
  /** Columns mapped or kept; the others (no header) are kept only if a row has data in them. */
  claimed: boolean[];
  report: ColumnReport[];
}

/** Which source column feeds which field: --map first, then the header names. */
export function planColumns(header: string[], overrides: MapOverride[], fileName: string): ColumnPlan {
  const norm = header.map(normaliseHeader);
  const found = header.filter(Boolean).map((h) => `"${h}"`).join(', ');
  const name: number[] = [];
  const fields: Partial<Record<Field, number>> = {};
  const taken = new Map<number, string>(); // column → note for the report

  for (const { header: wanted, field } of overrides) {
    const index = norm.indexOf(normaliseHeader(wanted));
    if (index < 0) throw new UserError(`--map "${wanted}=${field}": ${fileName} has no column "${wanted}"; its columns are ${found}.`);
    if (taken.has(index)) throw new UserError(`--map: column "${wanted}" is mapped twice; map each column once.`);
    if (field === 'name') name.push(index);
    else if (fields[field] !== undefined) throw new UserError(`--map: two columns are mapped to ${field}; keep one (the other is kept as a variable anyway).`);
    else fields[field] = index;
    taken.set(index, '');
  }

  const free = (i: number) => !taken.has(i) && norm[i] !== '';
  const exact = (target: Target) => norm.findIndex((h, i) => free(i) && ALIASES[target].includes(h));
  if (name.length === 0) {
    const first = exact('firstName');
    const last = first >= 0 ? [exact('lastName'), norm.findIndex((h, i) => free(i) && h === 'nom')].find((i) => i >= 0) ?? -1 : -1;
    const full = norm.findIndex((h, i) => free(i) && ALIASES.name.includes(h) && i !== last);
    if (full >= 0) name.push(full);
    else if (first >= 0 && last >= 0) name.push(first, last);
    else if (first >= 0 || exact('lastName') >= 0) name.push(first >= 0 ? first : exact('lastName'));
  }
  const joined = `joined into one name: ${name.map((i) => header[i]).join(' + ')}`;
  for (const i of name) taken.set(i, name.length > 1 ? joined : '');

  const alsoLooksLike = new Map<number, Field>();
  for (const field of AUTO_ORDER) {
    const scores = norm.map((h, i) => {
      if (!free(i)) return 0;
      const score = ALIASES[field].includes(h) ? 2 : WORDS[field]?.test(h) ? 1 : 0;
      return score && field === 'phone' && MOBILE.test(h) ? score + 0.5 : score;
    });
    const best = Math.max(...scores);
    if (best === 0) continue;
    if (fields[field] === undefined) {
      const index = scores.indexOf(best);
      fields[field] = index;
      taken.set(index, '');
    }
    scores.forEach((s, i) => s > 0 && free(i) && !alsoLooksLike.has(i) && alsoLooksLike.set(i, field));
  }

  const fieldOf = new Map(Object.entries(fields).map(([f, i]) => [i, f as Field]));
  const used = new Set<string>(CONTACT_COLUMNS);
  const variables: ColumnPlan['variables'] = [];
  const report: ColumnReport[] = [];
  header.forEach((h, index) => {
    const column = index + 1;
    if (name.includes(index) || fieldOf.has(index)) {
      const note = taken.get(index);
      report.push({ column, header: h, field: name.includes(index) ? 'name' : fieldOf.get(index)!, ...(note && { note }) });
    } else if (norm[index] !== '' || h !== '') {
      const variable = uniqueName(variableName(h, index), used);
      variables.push({ index, name: variable });
      const like = alsoLooksLike.get(index);
      report.push({ column, header: h, variable, ...(like && { note: `also looks like a ${like} column; choose with --map "${h}=${like}"` }) });
    }
  });

  const claimed = header.map((_, i) => name.includes(i) || fieldOf.has(i) || variables.some((v) => v.index === i));
  return { header, name, fields, variables, claimed, report };
}

/** A plan without a channel column, or without a name, cannot import anyone: one sentence, exit 2. */
export function requireColumns(plan: ColumnPlan, fileName: string): void {
  const { header, name, fields } = plan;
  const found = header.filter(Boolean).map((h) => `"${h}"`).join(', ');
  const fieldColumns = new Set(Object.values(fields));
  if ((['phone', 'email', 'slack', 'telegram'] as const).every((f) => fields[f] === undefined)) {
    if (header.length === 1) {
      throw new UserError(
        `${fileName} does not look like a CSV export: its first line "${clip(header[0]!)}" has no comma, semicolon or tab between columns; ${HOW_TO_EXPORT}.`,
      );
    }
    const example = header.find((h, i) => h && !name.includes(i)) ?? 'Column';
    throw new UserError(
      `${fileName} has no phone, email, Slack or Telegram column (its columns are ${found}); say which one holds what with --map, e.g. --map "${example}=phone".`,
    );
  }
  if (name.length === 0) {
    const example = header.find((h, i) => h && !fieldColumns.has(i)) ?? 'Column';
    throw new UserError(`${fileName} has no name column (its columns are ${found}); say which one holds the names with --map, e.g. --map "${example}=name".`);
  }
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A template-friendly name: "Date d'entrée" → date_d_entree; no header → column_7. */
export function variableName(header: string, index: number): string {
  return normaliseHeader(header).replace(/ /g, '_') || `column_${index + 1}`;
}

function uniqueName(wanted: string, used: Set<string>): string {
  let name = wanted;
  for (let n = 2; used.has(name); n++) name = `${wanted}_${n}`;
  used.add(name);
  return name;
}

// ── one row → canonical cells ────────────────────────────────────────────────


/** Language names and codes people type → a two-letter code; undefined if unknown. */
const LANGUAGES: Record<string, string> = {
  francais: 'fr', french: 'fr', fr: 'fr', english: 'en', anglais: 'en', en: 'en', deutsch: 'de', allemand: 'de', german: 'de',
  espanol: 'es', espagnol: 'es', spanish: 'es', italiano: 'it', italien: 'it', italian: 'it', nederlands: 'nl', neerlandais: 'nl',
  dutch: 'nl', portugues: 'pt', portugais: 'pt', portuguese: 'pt',
};

const localeCache = new Map<string, string | undefined>(); // a column holds a handful of distinct values

export function toLocale(raw: string): string | undefined {
  if (localeCache.has(raw)) return localeCache.get(raw);
  const key = normaliseHeader(raw);
  const locale = LANGUAGES[key] ?? /^([a-z]{2})(?: [a-z]{2,4})?$/.exec(key)?.[1]; // fr-FR, en_GB
  if (localeCache.size < 1000) localeCache.set(raw, locale);
  return locale;
}

const FORMULA = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * A cell a spreadsheet would run as a formula gets a leading `'`, shown by no spreadsheet
 * (OWASP "CSV injection"; the characters are those csv-stringify's escape_formulas uses).
 *
 *   =HYPERLINK("http://x")  →  '=HYPERLINK("http://x")
 *   -1+1                    →  '-1+1
 *   @SUM(A1)                →  '@SUM(A1)
 *   Élodie                  →  Élodie
 */
export function neutralise(cell: string): string {
  return FORMULA.test(cell) ? `'${cell}` : cell;
}

type Normalised = { row: string[]; warning?: string } | { reason: string };

/**
 * The canonical cells of one source row (name, role, groups, phone, email, slack, telegram,
 * locale, then the variables), or every reason it cannot be used.
 */
export function normaliseRecord(cells: readonly string[], plan: ColumnPlan, region: string): Normalised {
  const at = (index: number | undefined) => (index === undefined ? '' : (cells[index] ?? '').trim());
  const oneLine = (text: string) => text.replace(/\s+/g, ' ');
  const problems: string[] = [];

  const name = oneLine(plan.name.map(at).filter(Boolean).join(' '));
  if (!name) problems.push('the name is empty; every contact needs a name.');

  const rawPhone = oneLine(at(plan.fields.phone));
  const phone = rawPhone ? toE164(rawPhone, region) : '';
  if (rawPhone && !phone) problems.push(phoneProblem(rawPhone, region));

  const rawEmail = at(plan.fields.email);
  const email = rawEmail.replace(/^mailto:/i, '').replace(/^[^<]*<([^>]*)>$/, '$1').trim().toLowerCase();
  if (email && /[\s,;]/.test(email) && email.split('@').length > 2) {
    problems.push(`email "${rawEmail}" holds several addresses; keep one per cell (put the other in its own column).`);
  } else if (email && (!EMAIL_ADDRESS.test(email) || FORMULA.test(email))) {
    problems.push(`email "${rawEmail}" is not a valid address.`);
  }

  let slack = at(plan.fields.slack);
  if (slack.startsWith('#')) slack = slack.toLowerCase();
  if (slack.startsWith('@')) {
    problems.push(`slack "${slack}" is a display name; use the member id (U…, in the person's Slack profile: ⋮ > Copy member ID).`);
  } else if (slack && !SLACK_ID.test(slack)) {
    problems.push(`slack "${slack}" is neither a member id (U…), a channel id (C…) nor a #channel-name.`);
  }

  const telegram = at(plan.fields.telegram);
  if (telegram.startsWith('@')) {
    problems.push(`telegram "${telegram}" is a username; the bot needs the numeric chat id.`);
  } else if (telegram && !TELEGRAM_ID.test(telegram)) {
    problems.push(`telegram "${telegram}" is not a numeric chat id.`);
  }

  const rawLocale = at(plan.fields.locale);
  const locale = rawLocale ? toLocale(rawLocale) : '';
  if (locale === undefined) problems.push(`language "${rawLocale}" is not one I know; write a two-letter code such as fr or en.`);

  if (problems.length > 0) return { reason: name ? `${name}: ${problems.join(' ')}` : problems.join(' ') };

  const groups = splitGroups(at(plan.fields.groups).replace(/[,/;]/g, '|')).join('|');
  const row = [name, oneLine(at(plan.fields.role)), groups, phone!, email, slack, telegram, locale!, ...plan.variables.map((v) => at(v.index))];
  const reachable = phone || email || slack || telegram;
  return reachable ? { row } : { row, warning: `${name} has no phone, email, Slack or Telegram; kept, but cannot be reached until one is added.` };
}

function phoneProblem(raw: string, region: string): string {
  if (/^[+-]?\d+(?:[.,]\d+)?e\+?\d+$/i.test(raw.replace(/\s/g, ''))) {
    return `phone "${raw}" was turned into a number by the spreadsheet; format the column as Text, type the number again and export again.`;
  }
  if ((raw.match(/\d{2}[\d .-]{6,}/g) ?? []).length > 1) {
    return `phone "${raw}" holds several numbers; keep one per cell (put the other in its own column).`;
  }
  return `phone "${raw}" is not a valid number for region ${region}; write it in international form like +33 6 12 34 56 78.`;
}

// ── duplicates ───────────────────────────────────────────────────────────────

/**
 * Fills what `kept` lacks from `twin` (same person); groups are the union. Returns the
 * columns that gained a value, and the twin's values that differ and were not kept.
 */
export function mergeRow(kept: string[], twin: readonly string[], columnName: (index: number) => string): { added: string[]; differing: string[] } {
  const added: string[] = [];
  const differing: string[] = [];
  for (let k = 1; k < Math.max(kept.length, twin.length); k++) {
    const mine = kept[k] ?? '';
    const theirs = twin[k] ?? '';
    if (!theirs || mine === theirs) continue;
    if (k === GROUPS) {
      const union = [...new Set([...splitGroups(mine), ...splitGroups(theirs)])];
      const fresh = union.filter((g) => !splitGroups(mine).includes(g));
      if (fresh.length > 0) added.push(`groups ${fresh.join('|')}`);
      kept[k] = union.join('|');
    } else if (!mine) {
      kept[k] = theirs;
      added.push(columnName(k));
    } else {
      differing.push(`${columnName(k)} "${theirs}"`);
    }
  }
  return { added, differing };
}

// ── the whole file ───────────────────────────────────────────────────────────

export interface ImportOptions {
  /** How the file is named in messages. */
  fileName: string;
  /** Region for national phone numbers (FR: 06… → +336…). */
  region: string;
  map?: MapOverride[];
}

export interface LineMessage {
  line: number;
  message: string;
}

/** A warning about one row, or (without a line) about the whole file. */
export interface Warning {
  line?: number;
  message: string;
}

export interface ImportSummary {
  file: string;
  encoding: Encoding;
  delimiter: string;
  columns: ColumnReport[];
  rows: { read: number; written: number; merged: number; rejected: number };
  rejected: LineMessage[];
  merged: (LineMessage & { into: number })[];
  warnings: Warning[];
}

export interface ImportResult {
  summary: ImportSummary;
  /** Output header: the canonical columns, then the kept variables. */
  header: string[];
  /** Output rows, not yet neutralised (writeCanonical does it). */
  rows: string[][];
}

/** Opens the file, once per reading (a Windows-1252 file is read twice). */
type ByteSource = () => Readable;

/**
 * Reads the whole export. The encoding is decided over the whole file, not a first chunk:
 * in an Excel export the first accented name may come after thousands of plain-ASCII rows,
 * and a guess from the start would turn its `é` into `�`. So a first pass only checks that
 * every byte is UTF-8 (streaming, nothing kept); if one is not, the file is Windows-1252,
 * what Excel writes for "CSV (separator: semicolon)". A UTF-16 BOM wins over that check.
 *
 * Rows are kept once, as their final canonical cells: a duplicate found at row 90,000 may
 * still add a group to row 3, so nothing can be written before the last row is read. The
 * source text is never held whole (csv-parse streams it) and the output is streamed too.
 */
export async function importContacts(open: ByteSource, options: ImportOptions): Promise<ImportResult> {
  if (await isUtf8(open())) return readOnce(open, options, 'utf-8');
  const result = await readOnce(open, options, 'windows-1252');
  if (result.summary.encoding === 'windows-1252') {
    result.summary.warnings.unshift({
      message: "the file is not UTF-8; it was read as Windows-1252 (Excel's usual CSV encoding): check that accents look right.",
    });
  }
  return result;
}

interface Peeked<T> {
  head: T[];
  rest: AsyncIterator<T>;
  done: boolean;
}

/** Reads from `source` until `enough(chunks so far)`; the chunks are replayed by `replay`. */
async function peek<T>(source: AsyncIterable<T>, enough: (head: T[]) => boolean): Promise<Peeked<T>> {
  const rest = source[Symbol.asyncIterator]();
  const head: T[] = [];
  while (!enough(head)) {
    const next = await rest.next();
    if (next.done) return { head, rest, done: true };
    head.push(next.value);
  }
  return { head, rest, done: false };
}

async function* replay<T>({ head, rest, done }: Peeked<T>): AsyncGenerator<T> {
  yield* head;
  if (done) return;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

async function readOnce(open: ByteSource, options: ImportOptions, assumed: Encoding): Promise<ImportResult> {
  const source = open();
  try {
    return await readFrom(source, options, assumed);
  } finally {
    source.destroy(); // also when stopped early, by a bad header for instance
  }
}

async function readFrom(source: Readable, options: ImportOptions, assumed: Encoding): Promise<ImportResult> {
  const { fileName, region } = options;
  const bytes = await peek<Uint8Array>(source, (head) => head.reduce((n, c) => n + c.length, 0) >= 16);
  const sniffed = sniffBytes(Buffer.concat(bytes.head));
  if (sniffed.notCsv) throw new UserError(`${fileName} is ${sniffed.notCsv}, not a CSV file; ${HOW_TO_EXPORT}.`);
  if (sniffed.encoding === 'utf-8' && assumed !== 'utf-8') {
    throw new UserError(`${fileName} starts like a UTF-8 file but has bytes that are not UTF-8 (two encodings mixed); open it in the spreadsheet and export it again as "CSV UTF-8".`);
  }
  const encoding = sniffed.encoding ?? assumed;

  // The header line decides the delimiter, so read until it is complete.
  const text = await peek(decode(replay(bytes), encoding), (head) => /\S[^\n]*\n/.test(head.join('')));
  const start = text.head.join('');
  if (!start.trim()) throw new UserError(`${fileName} is empty; ${HOW_TO_EXPORT}, with its header row and one row per person.`);
  const other = sniffText(start);
  if (other) throw new UserError(`${fileName} is ${other}, not a CSV file; ${HOW_TO_EXPORT}.`);
  const headerLine = /[^\n]*\S[^\n]*/.exec(start)![0];
  const sep = /^sep=(.)\s*$/i.exec(headerLine); // Excel's "sep=;" first line
  const delimiter = sep ? sep[1]! : sniffDelimiter(headerLine);

  const rows = new RowCollector(fileName, region, options.map ?? [], sep !== null);
  const parser = parse({
    delimiter, record_delimiter: '\n', quote: '"', relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true,
  });
  // Tearing the chain down after an error in onRecord makes the file stream end with an
  // AbortError, which pipeline may report instead of the error that matters: keep ours.
  let stopped: unknown;
  try {
    await pipeline(Readable.from(replay(text)), parser, async (records: AsyncIterable<{ record: string[]; info: { lines: number } }>) => {
      try {
        for await (const { record, info } of records) rows.onRecord(record, info.lines);
      } catch (error) {
        stopped = error;
        throw error;
      }
    });
  } catch (caught) {
    const error = stopped ?? caught;
    // By code, not instanceof: csv-parse ships CommonJS and ESM builds, each with its own class.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      throw new UserError(
        code === 'CSV_QUOTE_NOT_CLOSED'
          ? `${fileName}:${rows.lastLine + 1}: a quoted cell that starts on or after this line is never closed (a " is missing); fix it in the spreadsheet and export again.`
          : `${fileName}:${rows.lastLine + 1}: this is not a readable CSV file (${(error as Error).message}); ${HOW_TO_EXPORT}.`,
      );
    }
    throw error;
  }
  return rows.result(encoding, delimiter);
}

/** Rows as they come: header, then each row normalised, merged or rejected. */
class RowCollector {
  lastLine = 0;
  private plan: ColumnPlan | undefined;
  private readonly rows: string[][] = [];
  /** Source line of each row in `rows`. */
  private readonly lines: number[] = [];
  private readonly byPhone = new Map<string, number>();
  private readonly byEmail = new Map<string, number>();
  /** Header-less columns that hold data, in the order found. */
  private readonly loose: number[] = [];
  private readonly read = { rows: 0, rejected: [] as LineMessage[], merged: [] as ImportSummary['merged'], warnings: [] as Warning[] };

  constructor(
    private readonly fileName: string,
    private readonly region: string,
    private readonly map: MapOverride[],
    private skipSepLine: boolean,
  ) {}

  /** `endLine` is where csv-parse says the record ends; a multi-line cell started it earlier. */
  onRecord(cells: string[], endLine: number): void {
    const line = endLine - cells.reduce((n, cell) => n + countNewlines(cell), 0);
    this.lastLine = endLine;
    if (this.skipSepLine) {
      this.skipSepLine = false;
      return;
    }
    if (cells.every((cell) => cell.trim() === '')) return; // an empty spreadsheet row: ";;;;"
    if (!this.plan) {
      this.plan = planColumns(cells.map((c) => c.trim()), this.map, this.fileName);
      requireColumns(this.plan, this.fileName);
      return;
    }
    this.read.rows++;
    const result = normaliseRecord(cells, this.plan, this.region);
    if ('reason' in result) {
      this.read.rejected.push({ line, message: result.reason });
      return;
    }
    if (result.warning) this.read.warnings.push({ line, message: result.warning });
    const row = result.row;
    for (let j = 0; j < cells.length; j++) {
      if (!this.plan.claimed[j] && cells[j]!.trim() !== '' && !this.loose.includes(j)) this.loose.push(j);
    }
    for (const j of this.loose) row.push((cells[j] ?? '').trim());
    this.add(row, line);
  }

  /** Keeps the row, or merges it into the earlier row with the same phone or email. */
  private add(row: string[], line: number): void {
    const { rows, lines, byPhone, byEmail } = this;
    const samePhone = row[PHONE] ? byPhone.get(row[PHONE]) : undefined;
    const sameEmail = row[EMAIL] ? byEmail.get(row[EMAIL]) : undefined;
    const twin = samePhone ?? sameEmail;
    if (twin === undefined) {
      if (row[PHONE]) byPhone.set(row[PHONE], rows.length);
      if (row[EMAIL]) byEmail.set(row[EMAIL], rows.length);
      rows.push(row);
      lines.push(line);
      return;
    }
    const kept = rows[twin]!;
    // Merged by phone, but its email is another row's: giving that email to this row too
    // would make two rows with one email, so it stays with the other row (and is reported).
    if (sameEmail !== undefined && sameEmail !== twin) row[EMAIL] = '';
    const { added, differing } = mergeRow(kept, row, (k) => this.columnName(k));
    if (kept[PHONE] && !byPhone.has(kept[PHONE])) byPhone.set(kept[PHONE], twin);
    if (kept[EMAIL] && !byEmail.has(kept[EMAIL])) byEmail.set(kept[EMAIL], twin);
    const at = lines[twin]!;
    const same = samePhone === twin && sameEmail === twin ? 'phone and email' : samePhone === twin ? 'phone' : 'email';
    const also = sameEmail !== undefined && sameEmail !== twin
      ? `; its email is that of line ${lines[sameEmail]} (${rows[sameEmail]![NAME]}), which stays separate`
      : '';
    this.read.merged.push({
      line, into: at,
      message:
        `${row[NAME]}: same ${same} as line ${at} (${kept[NAME]}); merged into it` +
        (added.length ? `, adding ${added.join(', ')}` : '') +
        (differing.length ? `; line ${at}'s values kept over ${differing.join(', ')}` : '') + also + '.',
    });
  }

  private columnName(k: number): string {
    const variables = this.plan!.variables;
    if (k < CONTACT_COLUMNS.length) return CONTACT_COLUMNS[k]!;
    if (k < CONTACT_COLUMNS.length + variables.length) return variables[k - CONTACT_COLUMNS.length]!.name;
    return `column ${this.loose[k - CONTACT_COLUMNS.length - variables.length]! + 1}`;
  }

  result(encoding: Encoding, delimiter: string): ImportResult {
    const { plan, fileName, read, rows, loose } = this;
    if (!plan) throw new UserError(`${fileName} is empty; ${HOW_TO_EXPORT}, with its header row and one row per person.`);
    if (read.rows === 0) throw new UserError(`${fileName} has a header but no contact rows; add one row per person under the header.`);
    const width = CONTACT_COLUMNS.length + plan.variables.length + loose.length;
    if (loose.length > 0) for (const row of rows) while (row.length < width) row.push(''); // rows read before a column showed up
    const used = new Set<string>([...CONTACT_COLUMNS, ...plan.variables.map((v) => v.name)]);
    const looseNames = loose.map((j) => uniqueName(`column_${j + 1}`, used));
    const columns: ColumnReport[] = [
      ...plan.report,
      ...loose.map((j, k) => ({ column: j + 1, header: '', variable: looseNames[k]!, note: 'no header, but some rows have values in it' })),
    ].sort((a, b) => a.column - b.column);
    return {
      summary: {
        file: fileName, encoding, delimiter, columns,
        rows: { read: read.rows, written: rows.length, merged: read.merged.length, rejected: read.rejected.length },
        rejected: read.rejected, merged: read.merged, warnings: read.warnings,
      },
      header: [...CONTACT_COLUMNS, ...plan.variables.map((v) => v.name), ...looseNames],
      rows,
    };
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Streams the canonical file: UTF-8 with a BOM (so Excel shows the accents when the list
 * is opened again), `,`-separated, LF line ends, every cell that could run as a formula
 * neutralised — except phone (always E.164, `+33…`) and telegram (a chat id; group ids are
 * negative numbers), whose values are validated and must stay usable by the tool.
 */
export async function writeCanonical(result: Pick<ImportResult, 'header' | 'rows'>, sink: Writable): Promise<void> {
  const width = result.header.length;
  function* records() {
    yield result.header;
    for (const row of result.rows) {
      const out = new Array<string>(width);
      for (let k = 0; k < width; k++) {
        const cell = row[k] ?? '';
        out[k] = k === PHONE || k === TELEGRAM ? cell : neutralise(cell);
      }
      yield out;
    }
  }
  await pipeline(Readable.from(records()), stringify({ bom: true, record_delimiter: 'unix' }), sink);
}
