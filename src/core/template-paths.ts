/**
 * What templates refer to, read from their Handlebars syntax tree rather than from the
 * error Handlebars throws (which names only the last part of `{{contact.societe}}`).
 */
import Handlebars from 'handlebars';
import type { Scenario, TemplateSet } from './templates.js';

interface PathNode {
  type: 'PathExpression';
  original: string;
  parts: string[];
  data: boolean;
  depth: number;
  loc: { start: { line: number; column: number } };
}

/** Every path expression (`eta`, `contact.name`, `if`…) in a template source; none if it does not parse. */
function paths(source: string): PathNode[] {
  let ast: unknown;
  try {
    ast = Handlebars.parse(source);
  } catch {
    return []; // rendering reports the syntax error with its line
  }
  const found: PathNode[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    if ((node as { type?: string }).type === 'PathExpression') found.push(node as PathNode);
    for (const [key, value] of Object.entries(node)) if (key !== 'loc') walk(value);
  };
  walk(ast);
  return found;
}

/**
 * Top-level names the scenario's templates (and the shared partials they may include) read:
 * `{{eta}}` and `{{#if eta}}` give `eta`. Helper names (`if`, `each`) come along; they are
 * never variable names, so they do no harm.
 */
export function variablesUsed(set: TemplateSet, scenario: Scenario): Set<string> {
  const sources = [
    ...[...scenario.files.values()].flatMap((f) => [f.source, f.subjectSource ?? '']),
    ...Object.values(set.handlebars.partials).filter((p): p is string => typeof p === 'string'),
  ];
  const used = new Set<string>();
  for (const source of sources) {
    for (const path of paths(source)) if (!path.data && path.depth === 0 && path.parts[0]) used.add(path.parts[0]);
  }
  return used;
}

/** The full path written at a line and column (1-based line, 0-based column), e.g. `contact.societe`. */
export function pathAt(source: string, line: number, column: number): string | undefined {
  return paths(source).find((p) => p.loc.start.line === line && p.loc.start.column === column)?.original;
}

/**
 * Whether a template can render differently for two people: it reads `contact.*`, the
 * whole context (`this`, `..`, `@root`), or includes a partial that does (or one it cannot
 * tell: a dynamic or missing partial). When unsure: yes. A template that does not is
 * rendered once per language and escaping (`run.time` follows the language) instead of
 * once per person.
 */
export function readsContact(set: TemplateSet, source: string, seen = new Set<string>()): boolean {
  let ast: unknown;
  try {
    ast = Handlebars.parse(source);
  } catch {
    return true; // rendering reports the syntax error
  }
  let reads = false;
  const walk = (node: unknown): void => {
    if (reads || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const typed = node as { type?: string; name?: { type?: string; original?: string } };
    if (typed.type === 'PathExpression') {
      const path = node as PathNode;
      if (path.parts[0] === 'contact' || path.parts.length === 0 || path.depth > 0 || (path.data && path.parts[0] === 'root')) reads = true;
    } else if (typed.type === 'PartialStatement' || typed.type === 'PartialBlockStatement') {
      const name = typed.name?.type === 'PathExpression' ? typed.name.original : undefined;
      const partial = name === undefined ? undefined : set.handlebars.partials[name];
      if (typeof partial !== 'string') reads = true;
      else if (!seen.has(name!)) {
        seen.add(name!);
        if (readsContact(set, partial, seen)) reads = true;
      }
    }
    for (const [key, value] of Object.entries(node)) if (key !== 'loc') walk(value);
  };
  walk(ast);
  return reads;
}
