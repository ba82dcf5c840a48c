/** `notify contacts import <file>`: a spreadsheet export → the canonical contacts.csv. */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { CHANNEL_LIST } from '../channels/index.js';
import { loadConfig, type Config } from '../config.js';
import { parseContacts } from '../core/contacts.js';
import { diffContacts, type ContactDiff } from '../core/contacts-diff.js';
import { importContacts, parseMapFlags, writeCanonical, type ImportResult, type ImportSummary } from '../core/import.js';
import { displayPath } from '../core/templates.js';
import { EXIT, UserError } from '../errors.js';
import { createOutput, type Output } from '../output.js';
import { askYesNo, canAsk } from './confirm.js';
import { printDiff, readList, removedShare } from './contacts-diff.js';

/** Dropping more than this share of the people on the list needs --yes: a truncated export must not shrink it silently. */
const MAX_SILENT_REMOVAL = 0.1;

const ENCODING_NAMES = { 'utf-8': 'UTF-8', 'utf-16le': 'UTF-16', 'utf-16be': 'UTF-16', 'windows-1252': 'Windows-1252' } as const;

export interface ContactsImportFlags {
  output: string;
  map?: string[];
  region?: string;
  strict?: boolean;
  force?: boolean;
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export async function contactsImport(file: string, flags: ContactsImportFlags): Promise<number> {
  const config = loadConfig();
  const out = createOutput({ ci: config.ci });
  const region = (flags.region ?? config.defaultRegion).toUpperCase();
  if (!isSupportedCountry(region as CountryCode)) {
    const source = flags.region ? `--region "${flags.region}"` : `NOTIFY_DEFAULT_REGION "${region}"`;
    throw new UserError(`${source} is not a country code; use two letters such as FR, BE, CH or GB.`);
  }
  const map = parseMapFlags(flags.map);
  checkInput(file);
  const target = resolve(flags.output);
  if (!existsSync(dirname(target))) {
    throw new UserError(`-o ${flags.output}: the folder ${displayPath(dirname(target))} does not exist; create it or choose another output.`);
  }
  const replacing = existsSync(target);
  if (replacing && !flags.force && !flags.yes && !flags.dryRun) {
    throw new UserError(`${flags.output} already exists; add --force to replace it (--dry-run shows what would change), or write elsewhere with -o FILE.`);
  }

  const result = await importContacts(() => createReadStream(file), { fileName: file, region, map });
  const { summary } = result;
  printSummary(out, summary);
  const diff = replacing ? await changesTo(target, result, config, out) : undefined;
  if (diff) printDiff(out, diff, `Changes to ${flags.output}`);
  const refused = flags.strict && summary.rows.rejected > 0;
  const write = !refused && !flags.dryRun && summary.rows.written > 0 && (!diff || (await removalAccepted(diff, flags, config.ci)));
  if (write) await writeAtomically(target, result);
  if (flags.json) out.json({ ...summary, output: flags.output, written: write, ...(diff && { diff }) });
  if (flags.dryRun) {
    out.line('--dry-run: nothing was written.');
    return EXIT.ok;
  }

  if (refused) {
    throw new UserError(`--strict: ${summary.rows.rejected} row(s) rejected, so nothing was written; fix them in the spreadsheet (or drop --strict) and import again.`);
  }
  if (!write) throw new UserError(`No row of ${file} could be imported, so nothing was written; fix the rows listed above and import again.`);
  const count = summary.rows.written === 1 ? '1 contact' : `${summary.rows.written} contacts`;
  out.line(`Wrote ${flags.output} (${count}). Check it with: notify contacts check ${flags.output}`);
  return EXIT.ok;
}

/** What replacing the list would change, read back the way a send reads contacts. */
async function changesTo(target: string, result: ImportResult, config: Config, out: Output): Promise<ContactDiff | undefined> {
  let before;
  try {
    before = readList(target, config);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    out.line(`${out.color.yellow('!')} ${displayPath(target)} is not a contact list I can read (${error.message}); it is replaced whole.`);
    return undefined;
  }
  const sink = new PassThrough();
  const written = text(sink);
  await writeCanonical(result, sink);
  const options = { defaultRegion: config.defaultRegion, defaultLocale: config.defaultLocale, channels: CHANNEL_LIST };
  return diffContacts(before, parseContacts(await written, basename(target), options).contacts);
}

/** Fine unless many people would be dropped; then --yes, or a yes on the terminal. */
async function removalAccepted(diff: ContactDiff, flags: ContactsImportFlags, ci: boolean): Promise<boolean> {
  const share = removedShare(diff);
  if (share <= MAX_SILENT_REMOVAL || flags.yes) return true;
  const what = `${diff.removed.length} people (${Math.round(share * 100)} % of the list) would be removed from ${flags.output}`;
  if (canAsk(ci) && (await askYesNo(`${what}. Write it anyway? [y/N] `))) return true;
  throw new UserError(`${what}: a truncated export? Check the file; if the removals are intended, import again with --yes; nothing was written.`);
}

function checkInput(file: string): void {
  let stats;
  try {
    stats = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${file} does not exist; give the path of the CSV exported from the spreadsheet.` : `${file} cannot be read (${code}).`);
  }
  if (stats.isDirectory()) throw new UserError(`${file} is a folder; give the path of the CSV exported from the spreadsheet.`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new UserError(`${file} cannot be read (no permission); check its permissions.`);
  }
}

/**
 * The list holds personal data (0600) and a crash must never leave half a list where the
 * full one was: write a temporary file beside the target, flush it to disk, then rename
 * it over the target in one step.
 */
async function writeAtomically(target: string, result: ImportResult): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    // flush: fsync before close, so the rename never publishes a file still in the page cache.
    await writeCanonical(result, createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true }));
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code) throw new UserError(`Cannot write ${displayPath(target)} (${code}); choose another output with -o FILE.`);
    throw error;
  }
}

function printSummary(out: Output, summary: ImportSummary): void {
  const { color } = out;
  const { file } = summary;
  const separator = summary.delimiter === '\t' ? 'tab' : `"${summary.delimiter}"`;
  out.line(color.bold(`Importing ${file} (${ENCODING_NAMES[summary.encoding]}, ${separator}-separated)`));
  out.line('Columns:');
  const width = Math.max(...summary.columns.map((c) => (c.header || `column ${c.column}`).length));
  for (const c of summary.columns) {
    const what = c.field ? c.field : `kept as variable {{contact.${c.variable}}}`;
    out.line(`  ${(c.header || `column ${c.column}`).padEnd(width)}  → ${what}${c.note ? color.dim(` (${c.note})`) : ''}`);
  }
  for (const w of summary.warnings) out.line(`${color.yellow('!')} ${file}${w.line ? `:${w.line}` : ''}: ${w.message}`);
  if (summary.merged.length > 0) {
    out.line(color.yellow(`Merged duplicates (${summary.merged.length}):`));
    for (const m of summary.merged) out.line(`  ${color.yellow('!')} ${file}:${m.line}: ${m.message}`);
  }
  if (summary.rejected.length > 0) {
    out.line(color.red(`Rejected rows (${summary.rejected.length}), not imported:`));
    for (const r of summary.rejected) out.line(`  ${color.red('✗')} ${file}:${r.line}: ${r.message}`);
  }
  const { read, written, merged, rejected } = summary.rows;
  out.line(`Rows: ${read} read, ${written} written, ${merged} merged, ${rejected} rejected.`);
}
