/**
 * Rendering a template for one contact, in Handlebars strict mode: a variable used but
 * not provided is a Problem naming the file, the line and the variable, never a silently
 * empty hole in a crisis message.
 */
import type { TemplateDelegate } from 'handlebars';
import type { Escaper } from './escape.js';
import { pathAt, readsContact } from './template-paths.js';
import type { TemplateFile, TemplateSet } from './templates.js';
import type { Problem } from './types.js';

const compiled = new WeakMap<TemplateFile, { body: TemplateDelegate; subject?: TemplateDelegate }>();

function compile(set: TemplateSet, file: TemplateFile) {
  let entry = compiled.get(file);
  if (!entry) {
    // noEscape: values are escaped beforehand for the body's kind (see escape.ts), not as HTML.
    const options = { strict: true, noEscape: true };
    entry = {
      body: set.handlebars.compile(file.source, options),
      ...(file.subjectSource !== undefined && { subject: set.handlebars.compile(file.subjectSource, options) }),
    };
    compiled.set(file, entry);
  }
  return entry;
}

export type RenderResult = { ok: true; value: string } | { ok: false; problem: Problem };

/**
 * Render the body (or, with `part: 'subject'`, the email subject) of a template file.
 * `context` holds values already escaped for the body's kind (context.ts).
 */
export function render(
  set: TemplateSet, file: TemplateFile, context: Record<string, unknown>, part: 'body' | 'subject' = 'body',
): RenderResult {
  try {
    const template = compile(set, file)[part];
    if (!template) return { ok: true, value: '' };
    const value = template(context).trim();
    // An empty SMS would go out and count as "reached". (An empty subject is the email channel's check.)
    if (part === 'body' && value === '') return { ok: false, problem: emptyBody(file) };
    return { ok: true, value };
  } catch (error) {
    return { ok: false, problem: explain(file, error as Error, part) };
  }
}

function emptyBody(file: TemplateFile): Problem {
  return {
    where: file.path,
    message: 'renders an empty message (nothing but spaces or blank lines); write the text to send in it.',
    group: 'templates',
  };
}

/**
 * Handlebars says `"eta" not defined in [object Object] - 3:12` (strict lookups) or
 * `Parse error on line 2: …`. Turn both into `file:line: what to do`.
 */
function explain(file: TemplateFile, error: Error, part: 'body' | 'subject'): Problem {
  const offset = part === 'body' ? file.bodyLineOffset : 0;
  const missing = /^"([^"]+)" not defined in .* - (\d+):(\d+)/.exec(error.message);
  if (missing) {
    const source = part === 'body' ? file.source : file.subjectSource ?? '';
    const path = pathAt(source, Number(missing[2]), Number(missing[3])) ?? missing[1]!;
    if (path.startsWith('contact.')) {
      const column = path.slice('contact.'.length);
      return {
        where: `${file.path}:${Number(missing[2]) + offset}`,
        message: `uses {{${path}}}, but the contacts file has no "${column}" column; add that column to the contacts file (an empty cell renders as nothing), or remove {{${path}}} from the template.`,
        group: 'templates',
      };
    }
    return {
      where: `${file.path}:${Number(missing[2]) + offset}`,
      message: `uses {{${missing[1]}}}, which is not provided; declare it in variables.yaml or the scenario's scenario.yaml, or pass --var ${missing[1]}=…`,
      group: 'templates',
    };
  }
  const parseLine = /on line (\d+)/.exec(error.message);
  const line = parseLine ? Number(parseLine[1]) + offset : 1;
  const partial = /The partial (\S+) could not be found/.exec(error.message);
  return {
    where: `${file.path}:${line}`,
    message: partial
      ? `uses partial "${partial[1]}", which is not in templates/partials/.`
      : `is not valid Handlebars near "${(error.message.split('\n')[1] ?? '').trim()}"; check that every {{ has its }} and every {{#block}} its {{/block}}.`,
    group: 'templates',
  };
}

/**
 * Renders for a whole plan. A template that reads nothing of the person (readsContact) is
 * rendered once per language and escaping and the text shared: the same string for
 * thousands of people, so what is computed from it later (its digest, its SMS segments)
 * is computed once too. Failures are never kept: each contact's render says them again.
 */
export class PlanRenders {
  /** Per file and part: whether it reads the person, and its shared renders by escaping and language. */
  private readonly byFile = new WeakMap<TemplateFile, Record<'body' | 'subject', { personal: boolean; shared: Map<Escaper | undefined, Map<string, RenderResult>> } | undefined>>();

  constructor(private readonly set: TemplateSet) {}

  render(file: TemplateFile, part: 'body' | 'subject', escape: Escaper | undefined, locale: string, context: () => Record<string, unknown>): RenderResult {
    const known = this.known(file, part);
    if (known.personal) return render(this.set, file, context(), part);
    let byLocale = known.shared.get(escape);
    if (!byLocale) known.shared.set(escape, (byLocale = new Map()));
    let result = byLocale.get(locale);
    if (!result) {
      result = render(this.set, file, context(), part);
      if (result.ok) byLocale.set(locale, result);
    }
    return result;
  }

  private known(file: TemplateFile, part: 'body' | 'subject') {
    let parts = this.byFile.get(file);
    if (!parts) this.byFile.set(file, (parts = { body: undefined, subject: undefined }));
    return (parts[part] ??= {
      personal: readsContact(this.set, (part === 'body' ? file.source : file.subjectSource) ?? ''),
      shared: new Map(),
    });
  }
}
