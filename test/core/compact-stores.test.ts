/**
 * The compact stores behind a million-contact list: hashed keys (contacts' duplicate
 * index) and a text list (their names). Both must give back exactly what was put in,
 * through growth and past block boundaries.
 */
import { describe, expect, it } from 'vitest';
import { HashedKeys } from '../../src/core/hashed-keys.js';
import { TextList } from '../../src/core/text-list.js';

describe('HashedKeys', () => {
  it('finds every key it was given, and none it was not, across growth', () => {
    const keys = new HashedKeys();
    const count = 50_000; // grows the table several times from 1,024 slots
    for (let i = 0; i < count; i++) keys.set(`person${i}@example.com`, i);
    for (let i = 0; i < count; i += 997) expect(keys.get(`person${i}@example.com`)).toBe(i);
    expect(keys.get(`person${count}@example.com`)).toBeUndefined();
    expect(keys.get('Person0@example.com')).toBeUndefined(); // case matters: callers normalise
  });

  it('setting a key again replaces its value; similar keys stay apart', () => {
    const keys = new HashedKeys();
    keys.set('+33639980001', 1);
    keys.set('+33639980010', 2);
    keys.set('+33639980001', 7);
    expect(keys.get('+33639980001')).toBe(7);
    expect(keys.get('+33639980010')).toBe(2);
    expect(keys.get('')).toBeUndefined();
  });
});

describe('TextList', () => {
  it('gives back each string, accents and long ones included, past its 1 MB blocks', () => {
    const list = new TextList();
    const names = Array.from({ length: 120_000 }, (_, i) => (i % 7 === 0 ? `Zoé Éloïse ${i}` : `Person ${i}`));
    names[60_000] = 'x'.repeat(2 * 1024 * 1024); // longer than a block
    for (const name of names) list.push(name);
    expect(list.length).toBe(names.length);
    for (let i = 0; i < names.length; i += 1_001) expect(list.at(i)).toBe(names[i]);
    expect(list.at(60_000)).toBe(names[60_000]);
    expect(list.at(60_001)).toBe(names[60_001]);
    expect(list.at(names.length - 1)).toBe(names.at(-1));
  });
});
