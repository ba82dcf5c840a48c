/**
 * What changes between two versions of the emergency list, person by person: who was
 * added, who was removed, and which fields changed for the others. People are matched by
 * the identity used for de-duplication (the same phone, else the same email), then by
 * name, so a new phone number reads as a change rather than one person removed and
 * another added.
 */
import { nameKey } from './select.js';
import type { Contact } from './types.js';

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

export interface ContactDiff {
  added: { name: string; line: number }[];
  removed: { name: string; line: number }[];
  changed: { name: string; line: number; changes: FieldChange[] }[];
  unchanged: number;
}

/** Every field a person has, as text: role, groups, locale, address columns, other columns. */
function fieldsOf(contact: Contact): Map<string, string> {
  return new Map([
    ['name', contact.name], ['role', contact.role], ['groups', contact.groups.join('|')], ['locale', contact.locale],
    ...Object.entries(contact.columns), ...Object.entries(contact.extra),
  ]);
}

export function diffContacts(before: Contact[], after: Contact[]): ContactDiff {
  const unmatched = new Set(before);
  const index = (key: (c: Contact) => string | undefined) => {
    const map = new Map<string, Contact>();
    for (const c of before) {
      const k = key(c);
      if (k && !map.has(k)) map.set(k, c);
    }
    return (c: Contact) => {
      const k = key(c);
      const found = k === undefined ? undefined : map.get(k);
      return found && unmatched.has(found) ? found : undefined;
    };
  };
  const byPhone = index((c) => c.columns.phone);
  const byEmail = index((c) => c.columns.email);
  const byName = index((c) => nameKey(c.name));

  const diff: ContactDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const person of after) {
    const old = byPhone(person) ?? byEmail(person) ?? byName(person);
    if (!old) {
      diff.added.push({ name: person.name, line: person.line });
      continue;
    }
    unmatched.delete(old);
    const was = fieldsOf(old);
    const now = fieldsOf(person);
    const changes = [...new Set([...was.keys(), ...now.keys()])]
      .map((field) => ({ field, before: was.get(field) ?? '', after: now.get(field) ?? '' }))
      .filter((c) => c.before !== c.after);
    if (changes.length > 0) diff.changed.push({ name: person.name, line: person.line, changes });
    else diff.unchanged += 1;
  }
  diff.removed = [...unmatched].map((c) => ({ name: c.name, line: c.line }));
  return diff;
}
