/**
 * A contact list is read as a stream (core/contacts.ts): validated whole by a first pass
 * that keeps no rows, then read again for each use. What a send plans must be what was
 * checked, even when someone saves the spreadsheet in between.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_LIST } from '../../src/channels/index.js';
import { openContacts } from '../../src/core/contacts.js';
import { tempDir } from '../helpers/cli.js';

const options = { defaultRegion: 'FR', defaultLocale: 'fr', channels: CHANNEL_LIST };
const HEADER = 'name,role,groups,phone,email,slack,telegram,locale';

function list(rows: string[]): string {
  const path = join(tempDir(), 'contacts.csv');
  writeFileSync(path, [HEADER, ...rows].join('\n') + '\n');
  return path;
}

describe('openContacts', () => {
  it('counts, groups and languages come from the first pass; each iteration yields the same people', () => {
    const stream = openContacts(list([
      'Ann,lead,staff|crisis-team,06 39 98 00 01,ann@example.com,,,en',
      'Bob,,staff,,bob@example.com,,,fr',
      'Ann B.,,vip,+33 6 39 98 00 01,,,,', // Ann's phone: merged into line 2
    ]), options);
    expect(stream.count).toBe(2);
    expect(stream.groupSizes).toEqual({ staff: 2, 'crisis-team': 1, vip: 1 });
    expect(stream.locales.sort()).toEqual(['en', 'fr']);
    expect(stream.notices).toEqual([expect.objectContaining({ where: 'contacts.csv:4', message: expect.stringContaining('same person as line 2 (Ann)') })]);
    const first = [...stream.contacts];
    expect(first.map((c) => [c.name, c.groups])).toEqual([['Ann', ['staff', 'crisis-team', 'vip']], ['Bob', ['staff']]]);
    expect([...stream.contacts]).toEqual(first);
  });

  it('refuses to go on when a large file changed after it was checked, rather than plan rows nobody checked', () => {
    // Over 1 MB: later passes read the file again.
    const path = list(Array.from({ length: 25_000 }, (_, i) => `Person ${i},,staff,,person${i}@example.com,,,en`));
    const stream = openContacts(path, options);
    // The audit header names this hash: the bytes checked, not a later read of the file.
    expect(stream.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    appendFileSync(path, 'Mallory,,staff,06 39 98 00 66,,,,en\n');
    expect(() => [...stream.contacts]).toThrow(/contacts\.csv changed while it was being read; nothing was sent/);
  });

  it('a small list is planned from the rows checked, whatever happens to the file afterwards', () => {
    const path = list(['Ann,,staff,06 39 98 00 01,,,,en', 'Ann again,,vip,+33 6 39 98 00 01,,,,en']);
    const stream = openContacts(path, options);
    writeFileSync(path, `${HEADER}\nMallory,,staff,06 39 98 00 66,,,,en\n`);
    const people = [...stream.contacts];
    expect(people.map((c) => [c.name, c.groups, c.columns.phone])).toEqual([['Ann', ['staff', 'vip'], '+33639980001']]);
    expect([...stream.contacts]).toEqual(people);
  });

  it('namesakes with neither phone nor email are two people with two keys, read once or twice', () => {
    const namesakes = ['Jean Martin,,staff,,,U0AAAA1,,fr', 'jean martin,,staff,,,U0BBBB2,,fr', 'Jean Martin,,staff,,,,123456789,fr', 'Jean Martin#2,,staff,,,U0CCCC3,,fr'];
    const keys = (rows: string[]) => [...openContacts(list(rows), options).contacts].filter((c) => /jean martin/i.test(c.name)).map((c) => c.key);
    const expected = ['name:jean martin', 'name:jean martin#2', 'name:jean martin#3', 'name:jean martin#2#2'];
    expect(keys(namesakes)).toEqual(expected);
    // Over 1 MB, planning reads the file again: the same keys.
    const filler = Array.from({ length: 25_000 }, (_, i) => `Person ${i},,staff,,person${i}@example.com,,,en`);
    expect(keys([...namesakes.slice(0, 2), ...filler, ...namesakes.slice(2)])).toEqual(expected);
  });

  it('reads a list longer than one chunk, a row cut across chunks included', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `"Person ${i}, the ${'very '.repeat(i % 7)}long",,staff,,person${i}@example.com,,,fr`);
    const stream = openContacts(list(rows), options);
    expect(stream.invalid).toEqual([]);
    const people = [...stream.contacts];
    expect(people).toHaveLength(3000);
    expect(people.at(-1)).toMatchObject({ name: 'Person 2999, the very very very long', line: 3001 });
  });
});
