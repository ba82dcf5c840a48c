/** The list never shrinks silently: a diff before replacing it, and `notify contacts diff` for reviews. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_LIST } from '../../src/channels/index.js';
import { parseContacts } from '../../src/core/contacts.js';
import { diffContacts } from '../../src/core/contacts-diff.js';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';

const HEADER = 'name,role,groups,phone,email,slack,telegram,locale';
const row = (i: number, phone = `+3363998${String(i).padStart(4, '0')}`) => `Person ${i},staff,staff,${phone},person${i}@example.com,,,fr`;
const list = (rows: string[]) => [HEADER, ...rows].join('\n') + '\n';
const parse = (text: string) => parseContacts(text, 'contacts.csv', { defaultRegion: 'FR', defaultLocale: 'fr', channels: CHANNEL_LIST }).contacts;

describe('diffContacts', () => {
  it('matches people by phone, email, then name: a new number is a change, not a removal', () => {
    const before = parse(list([row(1), row(2), row(3), 'Zoé,staff,vip,,zoe@example.com,,,fr']));
    const after = parse(list([row(1), row(2, '+33639989999'), 'Person 3,staff,staff|crisis-team,+33639980003,new3@example.com,,,en', row(4)]));
    const diff = diffContacts(before, after);
    expect(diff.added).toEqual([{ name: 'Person 4', line: 5 }]);
    expect(diff.removed).toEqual([{ name: 'Zoé', line: 5 }]);
    expect(diff.unchanged).toBe(1);
    expect(diff.changed).toEqual([
      { name: 'Person 2', line: 3, changes: [{ field: 'phone', before: '+33639980002', after: '+33639989999' }] },
      {
        name: 'Person 3', line: 4, changes: [
          { field: 'groups', before: 'staff', after: 'staff|crisis-team' },
          { field: 'locale', before: 'fr', after: 'en' },
          { field: 'email', before: 'person3@example.com', after: 'new3@example.com' },
        ],
      },
    ]);
  });
});

describe('notify contacts diff and import against an existing list', () => {
  it('contacts diff prints and --json gives the diff; under CI phones and emails are masked', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.csv'), list([row(1), row(2)]));
    writeFileSync(join(cwd, 'b.csv'), list([row(1, '+33639987777'), row(3)]));
    const result = await runCli(['contacts', 'diff', 'a.csv', 'b.csv', '--json'], { cwd, env: baseEnv({ CI: 'true' }) });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/a\.csv → b\.csv: 1 added, 1 removed, 1 changed, 0 unchanged/);
    expect(result.stderr).toMatch(/~ Person 1 \(line 2\): phone "\+336•+01" → "\+336•+77"/);
    expect(result.stderr).not.toMatch(/person\d@example\.com|\+33639987777/);
    const diff = JSON.parse(result.stdout);
    expect(diff.added).toEqual([{ name: 'Person 3', line: 3 }]);
    expect(diff.removed).toEqual([{ name: 'Person 2', line: 3 }]);
  });

  it('an import that drops more than 10 % of the people refuses without --yes and writes nothing', async () => {
    const cwd = tempDir();
    const original = list(Array.from({ length: 10 }, (_, i) => row(i)));
    writeFileSync(join(cwd, 'contacts.csv'), original);
    writeFileSync(join(cwd, 'export.csv'), list(Array.from({ length: 7 }, (_, i) => row(i)))); // 3 of 10 missing
    const refused = await runCli(['contacts', 'import', 'export.csv', '--force'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Changes to contacts\.csv: 0 added, 3 removed, 0 changed, 7 unchanged/);
    expect(refused.stderr).toMatch(/3 people \(30 % of the list\) would be removed from contacts\.csv: a truncated export\?.*--yes; nothing was written\./);
    expect(readFileSync(join(cwd, 'contacts.csv'), 'utf8')).toBe(original);

    const dry = await runCli(['contacts', 'import', 'export.csv', '--dry-run', '--json'], { cwd });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ written: false, diff: { removed: [{ name: 'Person 7' }, { name: 'Person 8' }, { name: 'Person 9' }] } });
    expect(readFileSync(join(cwd, 'contacts.csv'), 'utf8')).toBe(original);

    const accepted = await runCli(['contacts', 'import', 'export.csv', '--yes'], { cwd });
    expect(accepted.code).toBe(0);
    expect(parse(readFileSync(join(cwd, 'contacts.csv'), 'utf8'))).toHaveLength(7);
  });

  it('a small change is written with --force, after showing it', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), list(Array.from({ length: 10 }, (_, i) => row(i))));
    writeFileSync(join(cwd, 'export.csv'), list([...Array.from({ length: 10 }, (_, i) => row(i)), row(10)]));
    const result = await runCli(['contacts', 'import', 'export.csv', '--force'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/1 added, 0 removed, 0 changed, 10 unchanged/);
    expect(parse(readFileSync(join(cwd, 'contacts.csv'), 'utf8'))).toHaveLength(11);
  });
});
