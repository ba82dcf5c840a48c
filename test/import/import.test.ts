/**
 * importContacts over the fixture exports: exact rows, counts and line numbers; and what
 * it writes is read back by readContacts (the rules a send uses) without a complaint.
 */
import { CHANNEL_LIST } from '../../src/channels/index.js';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readContacts } from '../../src/core/contacts.js';
import { importContacts, writeCanonical, type ImportResult } from '../../src/core/import.js';
import { UserError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/import');
const HEADER = ['name', 'role', 'groups', 'phone', 'email', 'slack', 'telegram', 'locale'];

function fromFixture(name: string, region = 'FR'): Promise<ImportResult> {
  return importContacts(() => createReadStream(join(FIXTURES, name)), { fileName: name, region });
}

/** An in-memory file, cut into small chunks so that multi-byte characters and CRLF straddle them. */
function fromBytes(bytes: Uint8Array | string, options: { chunk?: number; region?: string; map?: { header: string; field: 'name' | 'phone' }[] } = {}) {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  const size = options.chunk ?? 3;
  const chunks = () => Readable.from(Array.from({ length: Math.ceil(buffer.length / size) }, (_, i) => buffer.subarray(i * size, (i + 1) * size)));
  return importContacts(chunks, { fileName: 'in.csv', region: options.region ?? 'FR', ...(options.map && { map: options.map }) });
}

async function written(result: ImportResult): Promise<{ path: string; text: string }> {
  const path = join(tempDir(), 'contacts.csv');
  await writeCanonical(result, createWriteStream(path));
  return { path, text: readFileSync(path, 'utf8') };
}

describe('an Excel (French) export: ";", Windows-1252, no BOM, CRLF', () => {
  it('decodes the accents, joins Prénom + Nom, and accounts for every row', async () => {
    const { summary, header, rows } = await fromFixture('excel-fr.csv');
    expect(summary.encoding).toBe('windows-1252');
    expect(summary.delimiter).toBe(';');
    expect(header).toEqual([...HEADER, 'societe']);
    expect(rows).toEqual([
      ['Élodie Marchand', 'Directrice', 'cellule de crise|direction|astreinte', '+33639981234', 'elodie.marchand@example.com', '', '', 'fr', 'ACME'],
      ['Jérôme Cœur', '=HYPERLINK("http://example.com/x";"clic")', 'staff', '+33639981235', '', '', '', 'en', 'Dupont; Fils'],
      ['Hélène Crépin', '', 'vip|staff', '+33199001234', 'helene.crepin@example.com', '', '', 'fr', 'Siège\nParis'],
      ['Anaïs Lefèvre', '', 'staff', '', '', '', '', '', ''],
    ]);
    expect(summary.rows).toEqual({ read: 7, written: 4, merged: 1, rejected: 2 });
    expect(summary.rejected).toEqual([
      { line: 4, message: 'the name is empty; every contact needs a name.' },
      { line: 5, message: 'François Nœl: phone "06 12" is not a valid number for region FR; write it in international form like +33 6 12 34 56 78.' },
    ]);
    // Line 10, not 9: Hélène's "Siège\nParis" cell spans lines 7-8 and line 9 is blank.
    expect(summary.merged).toEqual([
      { line: 10, into: 2, message: 'Élodie M.: same phone as line 2 (Élodie Marchand); merged into it, adding groups astreinte.' },
    ]);
    expect(summary.warnings).toEqual([
      { message: "the file is not UTF-8; it was read as Windows-1252 (Excel's usual CSV encoding): check that accents look right." },
      { line: 11, message: 'Anaïs Lefèvre has no phone, email, Slack or Telegram; kept, but cannot be reached until one is added.' },
    ]);
    expect(summary.columns).toEqual([
      { column: 1, header: 'Prénom', field: 'name', note: 'joined into one name: Prénom + Nom' },
      { column: 2, header: 'Nom', field: 'name', note: 'joined into one name: Prénom + Nom' },
      { column: 3, header: 'Portable', field: 'phone' },
      { column: 4, header: 'E-mail', field: 'email' },
      { column: 5, header: 'Équipe', field: 'groups' },
      { column: 6, header: 'Fonction', field: 'role' },
      { column: 7, header: 'Langue', field: 'locale' },
      { column: 8, header: 'Société', variable: 'societe' },
    ]);
  });

  it('writes a file a spreadsheet cannot run, and readContacts reads it back', async () => {
    const result = await fromFixture('excel-fr.csv');
    const { path, text } = await written(result);
    expect(text).toBe(
      '\uFEFFname,role,groups,phone,email,slack,telegram,locale,societe\n' +
        'Élodie Marchand,Directrice,cellule de crise|direction|astreinte,+33639981234,elodie.marchand@example.com,,,fr,ACME\n' +
        `Jérôme Cœur,"'=HYPERLINK(""http://example.com/x"";""clic"")",staff,+33639981235,,,,en,Dupont; Fils\n` +
        'Hélène Crépin,,vip|staff,+33199001234,helene.crepin@example.com,,,fr,"Siège\nParis"\n' +
        'Anaïs Lefèvre,,staff,,,,,,\n',
    );
    const list = readContacts(path, { defaultRegion: 'FR', defaultLocale: 'fr', channels: CHANNEL_LIST });
    expect(list.invalid).toEqual([]);
    expect(list.notices).toEqual([]);
    expect(list.contacts.map((c) => [c.name, c.columns.phone, c.groups, c.locale, c.extra])).toEqual([
      ['Élodie Marchand', '+33639981234', ['cellule de crise', 'direction', 'astreinte'], 'fr', { societe: 'ACME' }],
      ['Jérôme Cœur', '+33639981235', ['staff'], 'en', { societe: 'Dupont; Fils' }],
      ['Hélène Crépin', '+33199001234', ['vip', 'staff'], 'fr', { societe: 'Siège\nParis' }],
      ['Anaïs Lefèvre', undefined, ['staff'], 'fr', { societe: '' }],
    ]);
    expect(list.contacts[1]!.role).toBe(`'=HYPERLINK("http://example.com/x";"clic")`);
  });
});

describe('a Google Sheets export: ",", UTF-8 with BOM, multi-line cells', () => {
  it('normalises UK numbers with --region GB, keeps chat ids, merges by email', async () => {
    const { summary, header, rows } = await fromFixture('google-sheets.csv', 'GB');
    expect(summary.encoding).toBe('utf-8');
    expect(header).toEqual([...HEADER, 'notes']);
    expect(rows).toEqual([
      ['Ava Thompson', 'Crisis lead', 'staff|crisis-team|board', '+447700900123', 'ava.thompson@example.co.uk', 'U0AVA1', '100000001', 'en', 'On call\nweekends'],
      ['Ben Carter', '', 'vip', '+447700900124', 'ben@example.co.uk', '#crisis-room', '-100200300', 'en', ''],
      ['Chloé Martin', '', 'staff', '+33639981240', 'chloe@example.fr', '', '', 'fr', 'Bureau 2\nÉtage 3\nAile B'],
      ['=1+2', '', '', '', 'gus@example.com', '', '', '', ''],
    ]);
    expect(summary.rows).toEqual({ read: 8, written: 4, merged: 1, rejected: 3 });
    expect(summary.rejected.map((r) => r.line)).toEqual([8, 9, 11]);
    expect(summary.rejected[0]!.message).toBe('Dan Evans: phone "07700 9001" is not a valid number for region GB; write it in international form like +33 6 12 34 56 78.');
    expect(summary.merged).toEqual([{
      line: 10, into: 2,
      message: 'Ava T.: same email as line 2 (Ava Thompson); merged into it, adding groups board; line 2\'s values kept over notes "Second row for Ava".',
    }]);
  });

  it('neutralises "=1+2" but keeps +44… phones and the -100… chat id usable', async () => {
    const { path, text } = await written(await fromFixture('google-sheets.csv', 'GB'));
    expect(text.split('\n')[3]).toBe('Ben Carter,,vip,+447700900124,ben@example.co.uk,#crisis-room,-100200300,en,');
    expect(text).toContain("\n'=1+2,,,,gus@example.com,,,,\n");
    const list = readContacts(path, { defaultRegion: 'FR', defaultLocale: 'fr', channels: CHANNEL_LIST });
    expect(list.invalid).toEqual([]);
    expect(list.contacts.map((c) => [c.name, c.columns.phone ?? '', c.columns.telegram ?? ''])).toEqual([
      ['Ava Thompson', '+447700900123', '100000001'],
      ['Ben Carter', '+447700900124', '-100200300'],
      ['Chloé Martin', '+33639981240', ''],
      ["'=1+2", '', ''],
    ]);
  });
});

describe('other exports', () => {
  it('a tab-separated file with trailing empty columns and blank lines; a header-less column with data is kept', async () => {
    const { summary, header, rows } = await fromFixture('tabs.tsv');
    expect(summary.delimiter).toBe('\t');
    expect(header).toEqual([...HEADER, 'column_5']);
    expect(rows).toEqual([
      ['Ivy Park', '', 'ops', '+33639981250', 'ivy@example.com', '', '', '', ''],
      ['Jack Lee', '', 'ops', '+33639981251', '', '', '', '', 'badge 42'],
    ]);
    expect(summary.rows).toEqual({ read: 2, written: 2, merged: 0, rejected: 0 });
    expect(summary.columns.at(-1)).toEqual({ column: 5, header: '', variable: 'column_5', note: 'no header, but some rows have values in it' });
  });

  it('multi-line quoted cells: line numbers are those of the source file', async () => {
    const { summary, rows } = await fromFixture('multiline.csv');
    expect(rows.map((r) => [r[0], r[3], r[8]])).toEqual([
      ['Kim Le', '+33639981260', '1 rue de la Paix\n75002 Paris'],
      ['Lou', '+33639981261', '3 place\ndu Marché\nLyon'],
    ]);
    expect(summary.rejected).toEqual([
      { line: 8, message: 'Max: phone "12" is not a valid number for region FR; write it in international form like +33 6 12 34 56 78.' },
    ]);
  });

  it('decides the encoding on the whole file: a Windows-1252 é after 2,000 plain rows still survives', async () => {
    const plain = Array.from({ length: 2000 }, (_, i) => `P${i};+33 1 99 00 ${String(i).padStart(4, '0').replace(/(..)(..)/, '$1 $2')}`);
    const text = ['Nom;Tel', ...plain, 'Hélène;06 39 98 12 34', ''].join('\r\n');
    const { summary, rows } = await fromBytes(Buffer.from(text, 'latin1'), { chunk: 4096 });
    expect(summary.encoding).toBe('windows-1252');
    expect(rows.at(-1)).toEqual(['Hélène', '', '', '+33639981234', '', '', '', '']);
    expect(summary.rows.written).toBe(2001);
  });

  it('refuses a file that mixes encodings rather than garble it', async () => {
    const bytes = Buffer.concat([Buffer.from('\uFEFFNom;Tél\nÉlodie;0639981234\n'), Buffer.from('Hélène;0639981235\n', 'latin1')]);
    await expect(fromBytes(bytes)).rejects.toThrow(
      new UserError('in.csv starts like a UTF-8 file but has bytes that are not UTF-8 (two encodings mixed); open it in the spreadsheet and export it again as "CSV UTF-8".'),
    );
  });

  it('copes with UTF-8 characters and CRLF cut across chunks', async () => {
    const { summary, rows } = await fromBytes('Nom;Tél\r\nÉlodie Œuvré;06 39 98 12 34\r\n"Zoë\r\nX";06 39 98 12 35\r\nBad;1\r\n', { chunk: 1 });
    expect(summary.encoding).toBe('utf-8');
    expect(rows.map((r) => r[0])).toEqual(['Élodie Œuvré', 'Zoë X']);
    expect(summary.rejected.map((r) => r.line)).toEqual([5]);
  });

  it('reads old Mac Excel files, whose lines end in CR alone', async () => {
    const { rows, summary } = await fromBytes('Nom;Tel\r"A\rB";0639981234\rC;06 12\r');
    expect(rows).toEqual([['A B', '', '', '+33639981234', '', '', '', '']]);
    expect(summary.rejected.map((r) => r.line)).toEqual([4]);
  });

  it('reads UTF-16 (Excel "Unicode Text": tabs, UTF-16LE with BOM)', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Nom\tPortable\r\nÉlodie\t06 39 98 12 34\r\n', 'utf16le')]);
    const { summary, rows } = await fromBytes(bytes);
    expect(summary.encoding).toBe('utf-16le');
    expect(rows).toEqual([['Élodie', '', '', '+33639981234', '', '', '', '']]);
  });

  it('honours Excel\'s "sep=" first line and skips empty ";;;" rows', async () => {
    const { rows, summary } = await fromBytes('sep=,\nNom,Tel;fixe\n,\nA,06 39 98 12 34\n');
    expect(rows).toEqual([['A', '', '', '+33639981234', '', '', '', '']]);
    expect(summary.rows.read).toBe(1);
  });

  it('uses --map when the headers say nothing', async () => {
    const { rows } = await fromBytes('Qui,Numéro perso\nAnn,06 39 98 12 34\n', { map: [{ header: 'qui', field: 'name' }, { header: 'Numéro perso', field: 'phone' }] });
    expect(rows).toEqual([['Ann', '', '', '+33639981234', '', '', '', '']]);
  });

  it('merges on phone or email, names both lines, and never gives one email to two rows', async () => {
    const { summary, rows } = await fromBytes(
      'name,phone,email,groups\nAnn,0639981234,,a\nAnn B,,ann@x.fr,b\nAnnie,+33639981234,ann@x.fr,c\nAnn C,,ANN@x.fr,d\n',
    );
    expect(rows).toEqual([
      ['Ann', '', 'a|c', '+33639981234', '', '', '', ''],
      ['Ann B', '', 'b|d', '', 'ann@x.fr', '', '', ''],
    ]);
    expect(summary.rows).toEqual({ read: 4, written: 2, merged: 2, rejected: 0 });
    expect(summary.merged).toEqual([
      { line: 4, into: 2, message: 'Annie: same phone as line 2 (Ann); merged into it, adding groups c; its email is that of line 3 (Ann B), which stays separate.' },
      { line: 5, into: 3, message: 'Ann C: same email as line 3 (Ann B); merged into it, adding groups d.' },
    ]);
  });
});

describe('not a usable export: one sentence', () => {
  it.each([
    ['an empty file', '', 'in.csv is empty;'],
    ['blank lines only', '\r\n\r\n  \n', 'in.csv is empty;'],
    ['a header only', 'Nom;Portable\r\n;\r\n', 'in.csv has a header but no contact rows; add one row per person under the header.'],
    ['JSON', '[{"name":"A"}]', 'in.csv is a JSON file, not a CSV file;'],
    ['a PDF', '%PDF-1.4\n', 'in.csv is a PDF document, not a CSV file;'],
    ['plain text', 'my contacts\nAnn 06 39 98 12 34\n', 'in.csv does not look like a CSV export: its first line "my contacts" has no comma, semicolon or tab between columns;'],
    ['no channel column', 'Nom;Ville\nA;Paris\n', 'in.csv has no phone, email, Slack or Telegram column (its columns are "Nom", "Ville"); say which one holds what with --map, e.g. --map "Ville=phone".'],
    ['an unclosed quote', 'Nom,Tel\nA,0639981234\n"B,0639981235\nC,0639981236\n', 'in.csv:3: a quoted cell that starts on or after this line is never closed'],
  ])('%s', async (_, text, message) => {
    const error = await fromBytes(text, { chunk: 1 << 16 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message.startsWith(message)).toBe(true);
  });
});
