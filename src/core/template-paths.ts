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

/** The syntax tree of a template source; undefined when it does not parse (rendering reports that, with its line). */
function syntaxTree(source: string): unknown {
  try {
    return Handlebars.parse(source);
  } catch {
    return undefined;
  }
}

/** Every node of a syntax tree, depth first, in source order. */
function* nodes(node: unknown): Generator<{ type?: string }> {
  if (Array.isArray(node)) {
    for (const child of node) yield* nodes(child);
    return;
  }
  if (!node || typeof node !== 'object') return;
  yield node as { type?: string };
  for (const [key, value] of Object.entries(node)) if (key !== 'loc') yield* nodes(value);
}

/** Every path expression (`eta`, `contact.name`, `if`…) in a template source; none if it does not parse. */
function paths(source: string): PathNode[] {
  return [...nodes(syntaxTree(source))].filter((node): node is PathNode => node.type === 'PathExpression');
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
  const tree = syntaxTree(source);
  if (tree === undefined) return true;
  for (const node of nodes(tree)) {
    if (node.type === 'PathExpression') {
      const path = node as PathNode;
      if (path.parts[0] === 'contact' || path.parts.length === 0 || path.depth > 0 || (path.data && path.parts[0] === 'root')) return true;
    } else if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement') {
      const { name } = node as { name?: { type?: string; original?: string } };
      const partial = name?.type === 'PathExpression' ? set.handlebars.partials[name.original!] : undefined;
      if (typeof partial !== 'string') return true; // dynamic, missing or precompiled: cannot tell
      if (!seen.has(name!.original!)) {
        seen.add(name!.original!);
        if (readsContact(set, partial, seen)) return true;
      }
    }
  }
  return false;
}
