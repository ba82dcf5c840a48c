/** The pure parts of `contacts import`, one line per case. */
import { describe, expect, it } from 'vitest';
import {
  mergeRow, neutralise, normaliseHeader, normaliseRecord, parseMapFlags, planColumns, requireColumns,
  sniffBytes, sniffDelimiter, sniffText, toLocale, variableName,
} from '../../src/core/import.js';
import { UserError } from '../../src/errors.js';

const bytes = (...values: (number | string)[]) =>
  new Uint8Array(values.flatMap((v) => (typeof v === 'string' ? [...Buffer.from(v, 'latin1')] : [v])));

describe('sniffBytes', () => {
  it.each([
    ['UTF-8 BOM', bytes(0xef, 0xbb, 0xbf, 'name'), { encoding: 'utf-8' }],
    ['UTF-16LE BOM', bytes(0xff, 0xfe, 'n', 0), { encoding: 'utf-16le' }],
    ['UTF-16BE BOM', bytes(0xfe, 0xff, 0, 'n'), { encoding: 'utf-16be' }],
    ['no BOM', bytes('Nom;T', 0xe9, 'l'), {}],
    ['PDF', bytes('%PDF-1.7'), { notCsv: 'a PDF document' }],
    ['xlsx', bytes('PK', 3, 4, 20, 0), { notCsv: 'a zip archive, probably an Excel (.xlsx) or LibreOffice (.ods) workbook' }],
    ['xls', bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1), { notCsv: 'an old Excel (.xls) workbook' }],
    ['NUL bytes', bytes('ab', 0, 'cd'), { notCsv: 'a binary file (it contains NUL bytes)' }],
  ])('%s', (_, head, expected) => expect(sniffBytes(head)).toEqual(expected));
});

describe('sniffText', () => {
  it.each([
    ['[{"name": "A"}]', 'a JSON file'],
    ['  {\n "contacts": []}', 'a JSON file'],
    ['<!DOCTYPE html><html>', 'an HTML or XML file (a web page saved instead of the CSV export?)'],
    ['name,phone\n', undefined],
    ['[Nom];Tel', undefined],
  ])('%j → %s', (start, expected) => expect(sniffText(start)).toBe(expected));
});

describe('sniffDelimiter', () => {
  it.each([
    ['Nom;Prénom;Téléphone', ';'],
    ['name,phone,email', ','],
    ['Name\tPhone\tEmail', '\t'],
    ['"Nom, prénom";Téléphone', ';'],
    ['Nom;Prénom;Tél, portable;Courriel', ';'],
    ['email', ','],
  ])('%j → %j', (line, expected) => expect(sniffDelimiter(line)).toBe(expected));
});

describe('normaliseHeader and variableName', () => {
  it.each([
    ['Téléphone Portable', 'telephone portable'],
    ['E-mail', 'e mail'],
    ['  N° Tél. ', 'n tel'],
    ['ÉQUIPE', 'equipe'],
    ['Courriel', 'courriel'],
  ])('normaliseHeader(%j) = %j', (header, expected) => expect(normaliseHeader(header)).toBe(expected));

  it.each([
    ["Date d'entrée", 2, 'date_d_entree'],
    ['Société', 0, 'societe'],
    ['#', 6, 'column_7'],
  ])('variableName(%j) = %j', (header, index, expected) => expect(variableName(header, index)).toBe(expected));
});

describe('toLocale', () => {
  it.each([
    ['Français', 'fr'], ['French', 'fr'], ['fr', 'fr'], ['FR', 'fr'], ['fr-FR', 'fr'], ['fr_CA', 'fr'],
    ['English', 'en'], ['Anglais', 'en'], ['en', 'en'], ['en-GB', 'en'], ['Deutsch', 'de'], ['Klingon', undefined],
  ])('%j → %j', (raw, expected) => expect(toLocale(raw)).toBe(expected));
});

describe('neutralise', () => {
  it.each([
    ['=HYPERLINK("http://x")', `'=HYPERLINK("http://x")`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ['＝1+1', "'＝1+1"],
    ['Élodie', 'Élodie'],
    ['a=b', 'a=b'],
    ['', ''],
  ])('%j → %j', (cell, expected) => expect(neutralise(cell)).toBe(expected));
});

describe('parseMapFlags', () => {
  it('splits on the last "=" and lower-cases the field', () => {
    expect(parseMapFlags(['Portable=phone', 'A=B=Email'])).toEqual([
      { header: 'Portable', field: 'phone' },
      { header: 'A=B', field: 'email' },
    ]);
  });
  it.each([
    ['Portable', '--map "Portable" must be written "Column header=field", e.g. --map "Portable=phone".'],
    ['=phone', '--map "=phone" must be written "Column header=field", e.g. --map "Portable=phone".'],
    ['Portable=mobile', '--map "Portable=mobile": "mobile" is not a contact field; use one of name, role, groups, phone, email, slack, telegram, locale.'],
  ])('refuses %j', (flag, message) => expect(() => parseMapFlags([flag])).toThrow(new UserError(message)));
});

/** header → { field: header it was taken from } */
function mapping(header: string[], map: string[] = []): Record<string, string> {
  const plan = planColumns(header, parseMapFlags(map), 'x.csv');
  const out: Record<string, string> = { name: plan.name.map((i) => header[i]).join(' + ') };
  for (const [field, index] of Object.entries(plan.fields)) out[field] = header[index]!;
  for (const v of plan.variables) out[`{{${v.name}}}`] = header[v.index]!;
  return out;
}

describe('planColumns', () => {
  it.each([
    [['Nom', 'Téléphone', 'Email'], { name: 'Nom', phone: 'Téléphone', email: 'Email' }],
    [['Prénom', 'Nom', 'Portable'], { name: 'Prénom + Nom', phone: 'Portable' }],
    [['NOM', 'PRENOM', 'GSM'], { name: 'PRENOM + NOM', phone: 'GSM' }],
    [['First name', 'Last name', 'Cell', 'E-mail'], { name: 'First name + Last name', phone: 'Cell', email: 'E-mail' }],
    [['Nom complet', 'Prénom', 'Tel'], { name: 'Nom complet', phone: 'Tel', '{{prenom}}': 'Prénom' }],
    [['Name', 'Mobile', 'Courriel', 'Groupes', 'Rôle', 'Langue', 'Slack', 'Telegram'],
      { name: 'Name', phone: 'Mobile', email: 'Courriel', groups: 'Groupes', role: 'Rôle', locale: 'Langue', slack: 'Slack', telegram: 'Telegram' }],
    [['Name', 'Phone', 'Équipe', 'Fonction', 'Language'], { name: 'Name', phone: 'Phone', groups: 'Équipe', role: 'Fonction', locale: 'Language' }],
    [['Name', 'Team', 'Poste', 'Locale', 'Mail'], { name: 'Name', groups: 'Team', role: 'Poste', locale: 'Locale', email: 'Mail' }],
    [['Nom', 'Tél. fixe', 'Tél. portable'], { name: 'Nom', phone: 'Tél. portable', '{{tel_fixe}}': 'Tél. fixe' }],
    [['Nom', 'Adresse e-mail perso', 'Société'], { name: 'Nom', email: 'Adresse e-mail perso', '{{societe}}': 'Société' }],
    [['Nom', 'Email', 'Email'], { name: 'Nom', email: 'Email', '{{email_2}}': 'Email' }],
  ])('%j', (header, expected) => expect(mapping(header)).toEqual(expected));

  it('lets --map win over the header names, and join name parts in --map order', () => {
    expect(mapping(['Qui', 'Famille', 'Portable', 'Perso'], ['Famille=name', 'qui=name', 'Perso=phone'])).toEqual({
      name: 'Famille + Qui', phone: 'Perso', '{{portable}}': 'Portable',
    });
  });

  it('notes a second phone-looking column and how to choose it', () => {
    const plan = planColumns(['Nom', 'Tél. fixe', 'Portable'], [], 'x.csv');
    expect(plan.report).toEqual([
      { column: 1, header: 'Nom', field: 'name' },
      { column: 2, header: 'Tél. fixe', variable: 'tel_fixe', note: 'also looks like a phone column; choose with --map "Tél. fixe=phone"' },
      { column: 3, header: 'Portable', field: 'phone' },
    ]);
  });

  it.each([
    [['Nom', 'Tel'], ['Portable=phone'], '--map "Portable=phone": x.csv has no column "Portable"; its columns are "Nom", "Tel".'],
    [['Nom', 'Tel', 'Mobile'], ['Tel=phone', 'Mobile=phone'], '--map: two columns are mapped to phone; keep one (the other is kept as a variable anyway).'],
  ])('refuses a bad --map: %j %j', (header, map, message) => {
    expect(() => planColumns(header, parseMapFlags(map), 'x.csv')).toThrow(new UserError(message));
  });

  it.each([
    [['Nom', 'Adresse', 'Ville'], 'x.csv has no phone, email, Slack or Telegram column (its columns are "Nom", "Adresse", "Ville"); say which one holds what with --map, e.g. --map "Adresse=phone".'],
    [['Tel', 'Email'], 'x.csv has no name column (its columns are "Tel", "Email"); say which one holds the names with --map, e.g. --map "Column=name".'],
    [['Qui', 'Portable'], 'x.csv has no name column (its columns are "Qui", "Portable"); say which one holds the names with --map, e.g. --map "Qui=name".'],
  ])('requires a name and a channel column: %j', (header, message) => {
    expect(() => requireColumns(planColumns(header, [], 'x.csv'), 'x.csv')).toThrow(new UserError(message));
  });
});

describe('normaliseRecord', () => {
  const plan = planColumns(['Prénom', 'Nom', 'Portable', 'Courriel', 'Équipe', 'Fonction', 'Langue', 'Slack', 'Telegram', 'Société'], [], 'x.csv');
  const row = (...cells: string[]) => normaliseRecord(cells, plan, 'FR');

  it('writes the canonical cells, variables last', () => {
    expect(row(' Élodie ', 'Marchand', '06 39 98 12 34', ' Elodie@Example.COM', 'Crise, Direction / VIP | crise', ' Directrice ', 'Français', '#Crise-Room', '-100200300', 'ACME'))
      .toEqual({ row: ['Élodie Marchand', 'Directrice', 'crise|direction|vip', '+33639981234', 'elodie@example.com', '#crise-room', '-100200300', 'fr', 'ACME'] });
  });

  it.each([
    [['A', '', '+33 (0)6 39 98 12 34'], '+33639981234'],
    [['A', '', '0033 6 39 98 12 34'], '+33639981234'],
    [['A', '', '06.39.98.12.34'], '+33639981234'],
    [['A', '', '639981234'], '+33639981234'], // Excel dropped the leading 0
    [['A', '', '+44 7700 900123'], '+447700900123'],
  ])('phone %j → %s', (cells, e164) => expect(row(...cells)).toMatchObject({ row: expect.arrayContaining([e164]) }));

  it.each([
    [['', '', '0639981234'], 'the name is empty; every contact needs a name.'],
    [['Zoé', 'Dupré', '06 12'], 'Zoé Dupré: phone "06 12" is not a valid number for region FR; write it in international form like +33 6 12 34 56 78.'],
    [['A', '', '6,39981234E+08'], 'A: phone "6,39981234E+08" was turned into a number by the spreadsheet; format the column as Text, type the number again and export again.'],
    [['A', '', '06 39 98 12 34 / 01 99 00 12 34'], 'A: phone "06 39 98 12 34 / 01 99 00 12 34" holds several numbers; keep one per cell (put the other in its own column).'],
    [['A', '', '', 'not-an-email'], 'A: email "not-an-email" is not a valid address.'],
    [['A', '', '', 'a@x.fr; b@x.fr'], 'A: email "a@x.fr; b@x.fr" holds several addresses; keep one per cell (put the other in its own column).'],
    [['A', '', '', '-a@x.fr'], 'A: email "-a@x.fr" is not a valid address.'],
    [['A', '', '', '', '', '', '', '@ann'], `A: slack "@ann" is a display name; use the member id (U…, in the person's Slack profile: ⋮ > Copy member ID).`],
    [['A', '', '', '', '', '', '', 'ann'], 'A: slack "ann" is neither a member id (U…), a channel id (C…) nor a #channel-name.'],
    [['A', '', '', '', '', '', '', '', '@ann'], 'A: telegram "@ann" is a username; the bot needs the numeric chat id.'],
    [['A', '', '', '', '', '', 'Klingon'], 'A: language "Klingon" is not one I know; write a two-letter code such as fr or en.'],
    [['A', '', '06 12', 'nope'], 'A: phone "06 12" is not a valid number for region FR; write it in international form like +33 6 12 34 56 78. email "nope" is not a valid address.'],
  ])('rejects %j', (cells, reason) => expect(row(...cells)).toEqual({ reason }));

  it('reads "Name <address>" and mailto: links', () => {
    expect(row('A', '', '', 'Ann B <Ann@Example.com>')).toMatchObject({ row: expect.arrayContaining(['ann@example.com']) });
    expect(row('A', '', '', 'mailto:ann@example.com')).toMatchObject({ row: expect.arrayContaining(['ann@example.com']) });
  });

  it('keeps a row with no channel, with a warning', () => {
    expect(row('Anaïs', 'Lefèvre', '', '', 'Staff')).toEqual({
      row: ['Anaïs Lefèvre', '', 'staff', '', '', '', '', '', ''],
      warning: 'Anaïs Lefèvre has no phone, email, Slack or Telegram; kept, but cannot be reached until one is added.',
    });
  });
});

describe('mergeRow', () => {
  const names = ['name', 'role', 'groups', 'phone', 'email', 'slack', 'telegram', 'locale', 'notes'];
  it('fills the gaps, unites groups, keeps the first value and reports the other', () => {
    const kept = ['Ann', '', 'staff', '+33639981234', '', '', '', 'fr', 'first'];
    const result = mergeRow(kept, ['Ann B.', 'Lead', 'vip|staff', '+33639981234', 'ann@example.com', '', '', 'en', 'second'], (k) => names[k]!);
    expect(kept).toEqual(['Ann', 'Lead', 'staff|vip', '+33639981234', 'ann@example.com', '', '', 'fr', 'first']);
    expect(result).toEqual({ added: ['role', 'groups vip', 'email'], differing: ['locale "en"', 'notes "second"'] });
  });
});
