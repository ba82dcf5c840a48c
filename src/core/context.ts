/**
 * What a template sees: the run's variables, built-ins (`scenario`, `run.id`, `run.time`)
 * and `contact.*`, with every value escaped for the body it goes into (see escape.ts).
 * The variables are the same for every contact, so they are escaped once per body kind
 * rather than once per message: over 100,000 contacts that copy was the largest cost.
 */
import { escapeDeep, type BodyKind } from './escape.js';
import type { Contact } from './types.js';

export type ContextFor = (kind: BodyKind) => Record<string, unknown>;

export interface ContextBase {
  variables: Record<string, string>;
  scenario: string;
  runId: string;
  now: Date;
}

export function contextFactory(base: ContextBase): (contact: Contact) => ContextFor {
  const variables = new Map<BodyKind, Record<string, string>>();
  const escapedVariables = (kind: BodyKind) => {
    let v = variables.get(kind);
    if (!v) variables.set(kind, (v = escapeDeep(kind, base.variables)));
    return v;
  };
  return (contact) => {
    const own = {
      scenario: base.scenario,
      run: { id: base.runId, time: formatTime(base.now, contact.locale) },
      contact: {
        ...contact.extra,
        name: contact.name, role: contact.role, groups: contact.groups, locale: contact.locale,
        phone: contact.phone ?? '', email: contact.email ?? '', slack: contact.slack ?? '', telegram: contact.telegram ?? '',
      },
    };
    const byKind = new Map<BodyKind, Record<string, unknown>>();
    return (kind) => {
      let context = byKind.get(kind);
      if (!context) byKind.set(kind, (context = { ...escapedVariables(kind), ...escapeDeep(kind, own) }));
      return context;
    };
  };
}

const timeFormats = new Map<string, string>();
/** Formatting a date is slow enough to matter over 100,000 contacts: once per locale. */
function formatTime(now: Date, locale: string): string {
  const key = `${locale}\0${now.getTime()}`;
  let time = timeFormats.get(key);
  if (time === undefined) {
    time = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' }).format(now);
    timeFormats.set(key, time);
  }
  return time;
}

