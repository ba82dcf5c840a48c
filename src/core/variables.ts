/**
 * Which value each template variable takes, highest first:
 * `--var` > `--vars FILE` > templates/variables.yaml > scenario.yaml `default` >
 * scenario.yaml `example` (only for dry runs and checks, so a drill renders without the
 * lead typing anything, while a live send never goes out with an example value).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { UserError } from '../errors.js';
import { variablesUsed } from './template-paths.js';
import { displayPath, type Scenario, type TemplateSet } from './templates.js';
import type { Problem } from './types.js';

export interface ResolvedVariables {
  values: Record<string, string>;
  /** Declared by the scenario, with no value and no default (a live send refuses these). */
  missing: string[];
  /** Filled from `example:` because this is a dry run or check. */
  fromExamples: string[];
}

export function resolveVariables(
  set: TemplateSet, scenario: Scenario, given: Record<string, string>, useExamples: boolean,
): ResolvedVariables {
  const values: Record<string, string> = {};
  for (const [key, { value }] of Object.entries(set.variables)) values[key] = value;
  const missing: string[] = [];
  const fromExamples: string[] = [];
  for (const [key, spec] of Object.entries(scenario.variables)) {
    if (key in given || key in values) continue;
    if (spec.default !== undefined) values[key] = String(spec.default);
    else if (useExamples && spec.example !== undefined) {
      values[key] = String(spec.example);
      fromExamples.push(key);
    } else if (spec.optional) values[key] = '';
    else missing.push(key);
  }
  return { values: { ...values, ...given }, missing, fromExamples };
}

/** `--var key=value`, repeatable. */
export function parseVarFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UserError(`--var "${flag}" must be written key=value, e.g. --var eta=14:00.`);
    out[flag.slice(0, eq).trim()] = flag.slice(eq + 1);
  }
  return out;
}

/** Values given on the command line, and where each came from (for messages about them). */
export interface GivenVariables {
  values: Record<string, string>;
  /** `--var eta=` or `--vars FILE:line`. */
  origins: Record<string, string>;
}

/** `--vars FILE` then `--var` (which wins). */
export function givenVariables(varFlags: string[], varsFile: string | undefined): GivenVariables {
  const fromFile = varsFile ? readVarsFile(varsFile) : { values: {}, origins: {} };
  const fromFlags = parseVarFlags(varFlags);
  return {
    values: { ...fromFile.values, ...fromFlags },
    origins: { ...fromFile.origins, ...Object.fromEntries(Object.keys(fromFlags).map((k) => [k, `--var ${k}=`])) },
  };
}

/**
 * `--vars FILE`: a flat YAML or JSON object of text, numbers or true/false. A nested value
 * (`eta: {h: 14}`) would render as "[object Object]", so it is refused with its line.
 */
export function readVarsFile(path: string): GivenVariables {
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(readFileSync(path, 'utf8'), { lineCounter }); // YAML is a superset of JSON
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `--vars ${path} does not exist.`
        : code === 'EISDIR' ? `--vars ${path} is a folder; give the YAML or JSON file of name: value pairs.`
        : `--vars ${path} cannot be read (${code}); check its permissions.`,
    );
  }
  if (doc.errors.length > 0) {
    const line = doc.errors[0]!.linePos?.[0]?.line ?? 1;
    throw new UserError(`--vars ${path}:${line}: not valid YAML or JSON (${doc.errors[0]!.message.split('\n')[0]}).`);
  }
  if (!isMap(doc.contents)) throw new UserError(`--vars ${path} must hold name: value pairs, e.g. eta: "14:00".`);
  const given: GivenVariables = { values: {}, origins: {} };
  for (const pair of doc.contents.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const where = `--vars ${path}:${lineCounter.linePos((pair.key as { range?: number[] })?.range?.[0] ?? 0).line}`;
    const value = isScalar(pair.value) ? pair.value.value : pair.value ?? null;
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
      throw new UserError(`${where}: "${key}" holds a list or nested values; give it plain text, a number or true/false, e.g. ${key}: "14:00".`);
    }
    given.values[key] = value === null ? '' : String(value); // `eta:` with nothing after it is empty
    given.origins[key] = where;
  }
  return given;
}

/**
 * An empty value for a variable a template uses would go out as a hole ("back at ."):
 * typically `--var eta=$ETA` with ETA unset. It is a plan problem unless the scenario
 * declares the variable `optional: true`.
 */
export function emptyValueProblems(
  set: TemplateSet, scenario: Scenario, values: Record<string, string>, origins: Record<string, string>,
): Problem[] {
  const used = variablesUsed(set, scenario);
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value.trim() !== '' || !used.has(key) || scenario.variables[key]?.optional) continue;
    const where = origins[key]
      ?? (key in set.variables ? displayPath(join(set.dir, 'variables.yaml')) : `${scenario.name}/scenario.yaml`);
    const example = scenario.variables[key]?.example;
    problems.push({
      where,
      message: `"${key}" is empty but the ${scenario.name} messages use {{${key}}}; give it a value${example === undefined ? '' : ` (e.g. --var ${key}=${/\s/.test(example) ? JSON.stringify(example) : example})`}, or declare "optional: true" for it in ${scenario.name}/scenario.yaml if the messages read well without it.`,
      group: 'variables',
    });
  }
  return problems;
}
