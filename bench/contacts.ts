/**
 * Synthetic contact lists for the bench, in the canonical CSV of design.md. Every number
 * is in a range regulators reserve for fiction (the list src/core/phone.ts accepts), so a
 * bench run can never text a real person even if it were pointed at a real provider.
 * Phones and emails are unique: the contacts reader merges duplicates, which would
 * silently shrink the list.
 */
import { writeFileSync } from 'node:fs';

/** E.164 prefix → how many numbers the fiction range holds after it (digits padded). */
const PHONE_RANGES: [prefix: string, digits: number][] = [
  ['+3363998', 4], // 06 39 98 xx xx, mobile: the whole list up to 10,000 people
  ['+3319900', 4],
  ['+3326191', 4],
  ['+3335301', 4],
  ['+3346571', 4],
  ['+3353649', 4],
  ['+3399555', 4],
  ['+447700900', 3],
  ['+44207946', 4],
  // NANP 555-0100…0199 in every area code 200–999: 80,000 more.
  ...Array.from({ length: 800 }, (_, i): [string, number] => [`+1${200 + i}55501`, 2]),
];

export const MAX_CONTACTS = PHONE_RANGES.reduce((n, [, digits]) => n + 10 ** digits, 0);

export function phoneFor(index: number): string {
  let rest = index;
  for (const [prefix, digits] of PHONE_RANGES) {
    const size = 10 ** digits;
    if (rest < size) return prefix + String(rest).padStart(digits, '0');
    rest -= size;
  }
  throw new Error(`only ${MAX_CONTACTS} fictional phone numbers exist; asked for number ${index}`);
}

/** Audiences the shipped templates distinguish, in realistic proportions. */
const GROUPS = ['staff|crisis-team', 'staff', 'staff', 'vip', 'partners', 'clients', 'clients', 'clients', 'clients', 'family'];

/**
 * One row per person, reachable on all four channels; a third of them read English. Past
 * the fictional phone numbers (MAX_CONTACTS, about 161,000), people have no phone: a
 * million-contact list is reached on email, Slack and Telegram beyond that.
 */
export function contactsCsv(count: number): string {
  const rows = ['name,role,groups,phone,email,slack,telegram,locale'];
  for (let i = 0; i < count; i++) {
    const slack = `U${(1_000_000 + i).toString(36).toUpperCase()}`;
    const telegram = String(100_000_000 + i);
    rows.push(`Person ${i},bench,${GROUPS[i % GROUPS.length]},${i < MAX_CONTACTS ? phoneFor(i) : ''},person${i}@example.com,${slack},${telegram},${i % 3 === 2 ? 'en' : 'fr'}`);
  }
  return rows.join('\n') + '\n';
}

export function writeContacts(path: string, count: number): string {
  writeFileSync(path, contactsCsv(count));
  return path;
}
