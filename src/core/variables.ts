/**
 * Which value each template variable takes, highest first:
 * `--var` > `--vars FILE` > templates/variables.yaml > scenario.yaml `default` >
 * scenario.yaml `example` (only for dry runs and checks, so a drill renders without the
 * lead typing anything, while a live send never goes out with an example value).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import type { Scenario, TemplateSet } from './templates.js';

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
    } else missing.push(key);
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

/** `--vars FILE`: a flat YAML or JSON object of strings. */
export function readVarsFile(path: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8')); // YAML is a superset of JSON
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `--vars ${path} does not exist.` : `--vars ${path} is not valid YAML or JSON (${(error as Error).message.split('\n')[0]}).`,
    );
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`--vars ${path} must hold key: value pairs.`);
  }
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
}
