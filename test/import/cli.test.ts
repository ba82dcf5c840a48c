/**
 * `notify contacts import` and `notify contacts check` as a user runs them: the built CLI
 * in a subprocess (build first: npx tsc -p tsconfig.json), in its own folder.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/import');

/** A fresh folder holding the named fixtures. */
function folderWith(...fixtures: string[]): string {
  const dir = tempDir('notify-import-');
  for (const f of fixtures) copyFileSync(join(FIXTURES, f), join(dir, f));
  return dir;
}

const EXCEL_OUTPUT =
  '\uFEFFname,role,groups,phone,email,slack,telegram,locale,societe\n' +
  'Élodie Marchand,Directrice,cellule de crise|direction|astreinte,+33639981234,elodie.marchand@example.com,,,fr,ACME\n' +
  `Jérôme Cœur,"'=HYPERLINK(""http://example.com/x"";""clic"")",staff,+33639981235,,,,en,Dupont; Fils\n` +
  'Hélène Crépin,,vip|staff,+33199001234,helene.crepin@example.com,,,fr,"Siège\nParis"\n' +
  'Anaïs Lefèvre,,staff,,,,,,\n';

describe('notify contacts import', () => {
  it('imports a French Excel export and says what happened to every row and column', async () => {
    const cwd = folderWith('excel-fr.csv');
    const { code, stdout, stderr } = await runCli(['contacts', 'import', 'excel-fr.csv'], { cwd });
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(readFileSync(join(cwd, 'contacts.csv'), 'utf8')).toBe(EXCEL_OUTPUT);
    expect(statSync(join(cwd, 'contacts.csv')).mode & 0o777).toBe(0o600);
    expect(readdirSync(cwd).sort()).toEqual(['contacts.csv', 'excel-fr.csv']); // no temporary file left
    expect(stderr).toBe(
      [
        'Importing excel-fr.csv (Windows-1252, ";"-separated)',
        'Columns:',
        '  Prénom    → name (joined into one name: Prénom + Nom)',
        '  Nom       → name (joined into one name: Prénom + Nom)',
        '  Portable  → phone',
        '  E-mail    → email',
        '  Équipe    → groups',
        '  Fonction  → role',
        '  Langue    → locale',
        '  Société   → kept as variable {{contact.societe}}',
        "! excel-fr.csv: the file is not UTF-8; it was read as Windows-1252 (Excel's usual CSV encoding): check that accents look right.",
        '! excel-fr.csv:11: Anaïs Lefèvre has no phone, email, Slack or Telegram; kept, but cannot be reached until one is added.',
        'Merged duplicates (1):',
        '  ! excel-fr.csv:10: Élodie M.: same phone as line 2 (Élodie Marchand); merged into it, adding groups astreinte.',
        'Rejected rows (2), not imported:',
        '  ✗ excel-fr.csv:4: the name is empty; every contact needs a name.',
        '  ✗ excel-fr.csv:5: François Nœl: phone "06 12" is not a valid number for region FR; write it in international form like +33 6 12 34 56 78.',
        'Rows: 7 read, 4 written, 1 merged, 2 rejected.',
        'Wrote contacts.csv (4 contacts). Check it with: notify contacts check contacts.csv',
        '',
      ].join('\n'),
    );
  });

  it('--json: the same summary as one object on stdout', async () => {
    const cwd = folderWith('google-sheets.csv');
    const { code, stdout } = await runCli(['contacts', 'import', 'google-sheets.csv', '--region', 'GB', '-o', 'list.csv', '--json'], { cwd });
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      file: 'google-sheets.csv', output: 'list.csv', written: true, encoding: 'utf-8', delimiter: ',',
      rows: { read: 8, written: 4, merged: 1, rejected: 3 },
      merged: [{ line: 10, into: 2 }],
    });
    expect(result.rejected).toEqual([
      { line: 8, message: 'Dan Evans: phone "07700 9001" is not a valid number for region GB; write it in international form like +33 6 12 34 56 78.' },
      { line: 9, message: 'Eve Moore: email "not-an-email" is not a valid address.' },
      { line: 11, message: `Finn Hall: slack "@finn" is a display name; use the member id (U…, in the person's Slack profile: ⋮ > Copy member ID).` },
    ]);
    expect(result.columns.at(-1)).toEqual({ column: 9, header: 'Notes', variable: 'notes' });
    expect(readFileSync(join(cwd, 'list.csv'), 'utf8').split('\n')[1]).toBe(
      'Ava Thompson,Crisis lead,staff|crisis-team|board,+447700900123,ava.thompson@example.co.uk,U0AVA1,100000001,en,"On call',
    );
  });

  it('never overwrites an existing list without --force', async () => {
    const cwd = folderWith('tabs.tsv');
    writeFileSync(join(cwd, 'contacts.csv'), 'keep me\n');
    const refused = await runCli(['contacts', 'import', 'tabs.tsv'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('notify: contacts.csv already exists; add --force to replace it (--dry-run shows what would change), or write elsewhere with -o FILE.\n');
    expect(readFileSync(join(cwd, 'contacts.csv'), 'utf8')).toBe('keep me\n');

    const forced = await runCli(['contacts', 'import', 'tabs.tsv', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(cwd, 'contacts.csv'), 'utf8')).toBe(
      '\uFEFFname,role,groups,phone,email,slack,telegram,locale,column_5\nIvy Park,,ops,+33639981250,ivy@example.com,,,,\nJack Lee,,ops,+33639981251,,,,,badge 42\n',
    );
    expect(readdirSync(cwd).sort()).toEqual(['contacts.csv', 'tabs.tsv']);
  });

  it('--strict: one rejected row and nothing is written (but every reason is listed)', async () => {
    const cwd = folderWith('multiline.csv');
    const { code, stdout, stderr } = await runCli(['contacts', 'import', 'multiline.csv', '--strict', '--json'], { cwd });
    expect(code).toBe(2);
    expect(existsSync(join(cwd, 'contacts.csv'))).toBe(false);
    expect(JSON.parse(stdout)).toMatchObject({ written: false, rows: { read: 3, written: 2, merged: 0, rejected: 1 } });
    expect(stderr).toContain('  ✗ multiline.csv:8: Max: phone "12" is not a valid number for region FR;');
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      'notify: --strict: 1 row(s) rejected, so nothing was written; fix them in the spreadsheet (or drop --strict) and import again.',
    );
  });

  it('--map names the columns the headers do not', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'liste.csv'), 'Qui;Numéro perso;Service\nAnn;06 39 98 12 34;Compta\n');
    const { code } = await runCli(['contacts', 'import', 'liste.csv', '--map', 'Qui=name', '--map', 'numero perso=phone', '--map', 'Service=groups'], { cwd });
    expect(code).toBe(0);
    expect(readFileSync(join(cwd, 'contacts.csv'), 'utf8')).toBe('\uFEFFname,role,groups,phone,email,slack,telegram,locale\nAnn,,compta,+33639981234,,,,\n');
  });

  it('masks phone numbers and emails in CI logs', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'in.csv'), 'name,phone,email\nAnn,06 39 98 12,\nBob,,bob@example.com; rob@example.com\n');
    const { code, stderr } = await runCli(['contacts', 'import', 'in.csv', '--json'], { cwd, env: baseEnv({ CI: 'true' }) });
    expect(code).toBe(2); // nobody could be imported
    expect(stderr).toContain('✗ in.csv:2: Ann: phone "063•••12" is not a valid number');
    expect(stderr).toContain('✗ in.csv:3: Bob: email "b***@example.com; r***@example.com" holds several addresses');
    expect(stderr).not.toMatch(/06 39 98 12|bob@|rob@/);
  });
});

describe('what a new user feeds it: one sentence, exit 2', () => {
  const cases: [string, string | Buffer, string][] = [
    ['a PDF', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n', 'latin1'), 'notify: in.csv is a PDF document, not a CSV file; export the spreadsheet as CSV (Excel: File > Save As > "CSV UTF-8"; Google Sheets: File > Download > CSV) and import that file.'],
    ['an Excel workbook', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0, 8, 0, 0, 0, 0x21, 0]), 'notify: in.csv is a zip archive, probably an Excel (.xlsx) or LibreOffice (.ods) workbook, not a CSV file; export the spreadsheet as CSV (Excel: File > Save As > "CSV UTF-8"; Google Sheets: File > Download > CSV) and import that file.'],
    ['a JSON file', '{"contacts": [{"name": "Ann", "phone": "0639981234"}]}\n', 'notify: in.csv is a JSON file, not a CSV file; export the spreadsheet as CSV (Excel: File > Save As > "CSV UTF-8"; Google Sheets: File > Download > CSV) and import that file.'],
    ['an empty file', '', 'notify: in.csv is empty; export the spreadsheet as CSV (Excel: File > Save As > "CSV UTF-8"; Google Sheets: File > Download > CSV) and import that file, with its header row and one row per person.'],
    ['a header only', '\uFEFFNom;Portable;Courriel\r\n', 'notify: in.csv has a header but no contact rows; add one row per person under the header.'],
    ['no phone or email column', 'Nom;Adresse;Ville\r\nAnn;1 rue de la Paix;Paris\r\n', 'notify: in.csv has no phone, email, Slack or Telegram column (its columns are "Nom", "Adresse", "Ville"); say which one holds what with --map, e.g. --map "Adresse=phone".'],
    ['a plain text note', 'Ann: 06 39 98 12 34\nBob: 06 39 98 12 35\n', 'notify: in.csv does not look like a CSV export: its first line "Ann: 06 39 98 12 34" has no comma, semicolon or tab between columns; export the spreadsheet as CSV (Excel: File > Save As > "CSV UTF-8"; Google Sheets: File > Download > CSV) and import that file.'],
  ];
  it.each(cases)('%s', async (_, content, message) => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'in.csv'), content);
    const { code, stdout, stderr } = await runCli(['contacts', 'import', 'in.csv'], { cwd });
    expect({ code, stdout, stderr }).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
    expect(existsSync(join(cwd, 'contacts.csv'))).toBe(false);
  });

  it.each([
    [['missing.csv'], 'notify: missing.csv does not exist; give the path of the CSV exported from the spreadsheet.'],
    [['in.csv', '--map', 'Portable=phone'], 'notify: --map "Portable=phone": in.csv has no column "Portable"; its columns are "Nom", "Tel".'],
    [['in.csv', '--map', 'Tel=mobile'], 'notify: --map "Tel=mobile": "mobile" is not a contact field; use one of name, role, groups, phone, email, slack, telegram, locale.'],
    [['in.csv', '--region', 'XX'], 'notify: --region "XX" is not a country code; use two letters such as FR, BE, CH or GB.'],
  ])('%j', async (args, message) => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'in.csv'), 'Nom,Tel\nAnn,0639981234\n');
    const { code, stderr } = await runCli(['contacts', 'import', ...args], { cwd });
    expect({ code, stderr }).toEqual({ code: 2, stderr: `${message}\n` });
  });
});

describe('notify contacts check', () => {
  const LIST = 'name,phone,email,groups,slack\nAnn,0639981234,ann@example.com,staff|crisis-team,\nBob,06 12,,staff,\nCléo,,cleo@example.com,,\nDee,,,vip,\nAnn B,+33639981234,,vip,\nEd,,,vip,U0ED\n';

  it('counts groups and channels, names who has no channel or only email, and fails on an invalid row', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), LIST);
    const { code, stderr } = await runCli(['contacts', 'check'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toBe(
      [
        'contacts.csv: 4 contacts',
        'Groups:',
        '  vip              3',
        '  crisis-team      1',
        '  staff            1',
        '  (no group)       1',
        'Channels:',
        '  sms              1 of 4',
        '  email            2 of 4',
        '  slack            1 of 4',
        '  telegram         0 of 4',
        '  voice            1 of 4',
        '  signal           1 of 4',
        'No channel at all (1): cannot be reached.',
        '  - Dee (line 5)',
        'Only email (1): no phone, Slack or Telegram, so slow to reach in a crisis.',
        '  - Cléo (line 4)',
        '! contacts.csv:6: same person as line 2 (Ann); merged and reached once.',
        'Invalid rows (1): these people would not be reached.',
        '  contacts:',
        '    ✗ contacts.csv:3: phone "06 12" is not a valid number for region FR; write it in international form like +33 6 12 34 56 78.',
        '',
      ].join('\n'),
    );
  });

  it('accepts what import wrote (exit 0), found through NOTIFY_CONTACTS', async () => {
    const cwd = folderWith('excel-fr.csv');
    expect((await runCli(['contacts', 'import', 'excel-fr.csv', '-o', 'list.csv'], { cwd })).code).toBe(0);
    const { code, stdout } = await runCli(['contacts', 'check', '--json'], { cwd, env: baseEnv({ NOTIFY_CONTACTS: 'list.csv' }) });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      file: 'list.csv', contacts: 4, valid: true, invalid: [], merged: [],
      channels: { sms: 3, email: 2, slack: 0, telegram: 0 },
      noChannel: [{ name: 'Anaïs Lefèvre', line: 6 }],
    });
  });

  it('masks phones and emails with --mask and when CI is set, in text and JSON', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), 'name,phone,email\nAnn,0639981234,ann@example.com\nBad,06 39 98 12,\n');
    for (const run of [runCli(['contacts', 'check', '--mask', '--json'], { cwd }), runCli(['contacts', 'check', '--json'], { cwd, env: baseEnv({ CI: '1' }) })]) {
      const { code, stdout, stderr } = await run;
      expect(code).toBe(2);
      expect(stderr).toContain('✗ contacts.csv:3: phone "063•••12" is not a valid number');
      expect(JSON.parse(stdout).invalid[0].message).toContain('phone "063•••12" is not a valid number');
      expect(stdout + stderr).not.toContain('06 39 98 12');
    }
  });

  it('refuses a list saved again as Windows-1252 (its accents would be garbled)', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'list.csv'), Buffer.from('name,phone\nHélène,0639981234\n', 'latin1'));
    const { code, stderr } = await runCli(['contacts', 'check', 'list.csv'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain('list.csv is not UTF-8 (probably a Windows/Excel export), so accents would be garbled; convert it with: notify contacts import list.csv');
  });
});
