/**
 * What a template sees: the run's variables, built-ins (`scenario`, `run.id`, `run.time`)
 * and `contact.*`, with every value escaped for the body it goes into (see escape.ts).
 * The variables are the same for every contact, so they are escaped once per escaper
 * rather than once per message: over 100,000 contacts that copy was the largest cost. And
 * a person with nothing to escape (most) gets one context for every kind of body.
 */
import { escapeDeep, type Escaper } from './escape.js';
import type { Contact } from './types.js';

/** The context for a body escaped this way (undefined: plain text). */
export type ContextFor = (escape: Escaper | undefined) => Record<string, unknown>;

export interface ContextBase {
  variables: Record<string, string>;
  scenario: string;
  runId: string;
  now: Date;
  /** Every address column the channels read, so `{{contact.phone}}` is '' rather than missing. */
  addressColumns: readonly string[];
}

export function contextFactory(base: ContextBase): (contact: Contact) => ContextFor {
  const variables = new Map<Escaper | undefined, Record<string, string>>();
  const escapedVariables = (escape: Escaper | undefined) => {
    let v = variables.get(escape);
    if (!v) variables.set(escape, (v = escapeDeep(escape, base.variables)));
    return v;
  };
  const emptyColumns = Object.fromEntries(base.addressColumns.map((c) => [c, '']));
  const runByLocale = new Map<string, { id: string; time: string }>();
  const runFor = (locale: string) => {
    let run = runByLocale.get(locale);
    if (!run) runByLocale.set(locale, (run = { id: base.runId, time: formatTime(base.now, locale) }));
    return run;
  };
  return (contact) => {
    // Built on first use: a person whose templates all read nothing of them needs none (render.ts).
    let own: Record<string, unknown> | undefined;
    let byEscaper: Map<Escaper | undefined, Record<string, unknown>> | undefined;
    return (escape) => {
      own ??= {
        scenario: base.scenario,
        run: runFor(contact.locale),
        contact: {
          ...contact.extra, ...emptyColumns, ...contact.columns,
          name: contact.name, role: contact.role, groups: contact.groups, locale: contact.locale,
        },
      };
      byEscaper ??= new Map();
      let context = byEscaper.get(escape);
      if (!context) {
        const variables = escapedVariables(escape);
        const escaped = escapeDeep(escape, own);
        // Nothing of theirs needs escaping (the usual case): the plain context serves every body.
        const plain = escape && variables === escapedVariables(undefined) && escaped === own;
        context = plain ? byEscaper.get(undefined) : undefined;
        if (!context) {
          context = { ...variables, ...escaped };
          if (plain) byEscaper.set(undefined, context);
        }
        byEscaper.set(escape, context);
      }
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
