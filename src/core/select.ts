/**
 * `--contact NAME`: people are named as a crisis lead types them at 2 a.m. — "Elodie
 * marchand" must find "Élodie Marchand", and a name that finds nobody suggests who was meant.
 */
import type { Contact, Problem } from './types.js';

/** A name compared without accents, case or extra spaces. */
export function nameKey(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export interface NameSelection {
  /** True for contacts named by one of the names. */
  matches(contact: Contact): boolean;
  /** One per name that finds nobody, with the closest names in the list. */
  problems: Problem[];
}

/** `people`: the name of everyone in the list. */
export function selectByName(names: string[], people: string[]): NameSelection {
  const wanted = new Set(names.map(nameKey));
  const known = new Set(people.map(nameKey));
  const problems: Problem[] = [];
  for (const name of names.filter((n) => !known.has(nameKey(n)))) {
    const close = closestNames(name, [...new Set(people)]);
    problems.push({
      where: '--contact',
      message: `no contact is named "${name}"${close.length ? `; did you mean ${close.map((n) => `"${n}"`).join(' or ')}?` : '; check the name column of the contacts file.'}`,
      group: 'plan',
    });
  }
  return { matches: (contact) => wanted.has(nameKey(contact.name)), problems };
}

/** Up to three names that contain what was typed or are a few typos away from it. */
export function closestNames(typed: string, names: string[]): string[] {
  const key = nameKey(typed);
  const scored = names
    .map((name) => {
      const other = nameKey(name);
      return { name, score: other.includes(key) || key.includes(other) ? 0 : editDistance(key, other) };
    })
    .filter(({ score }) => score <= Math.max(2, Math.floor(key.length / 3)));
  return scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name)).slice(0, 3).map((s) => s.name);
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
