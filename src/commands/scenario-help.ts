/**
 * `notify <scenario> --help`: what this scenario says and which values it takes, with their
 * examples and defaults — what a crisis lead needs to type the send command right.
 */
import { loadConfig } from '../config.js';
import { displayPath } from '../core/templates.js';
import { EXIT } from '../errors.js';
import { findScenario, loadTemplatesFor } from './prepare.js';

export function scenarioHelp(name: string, templatesFlag: string | undefined): number {
  const config = loadConfig();
  const templates = loadTemplatesFor({ ...(templatesFlag && { templates: templatesFlag }) }, config);
  const scenario = findScenario(templates, name);
  const description = scenario.description.en ?? Object.values(scenario.description)[0]; // the help is in English
  const variables = Object.entries(scenario.variables);
  const width = Math.max(12, ...variables.map(([k]) => k.length + 2), ...Object.keys(templates.variables).map((k) => k.length + 2));
  const lines = [
    `Usage: notify ${name} [options]`,
    '',
    ...(description ? [description, ''] : []),
    `Sent to: ${scenario.groups.length ? `contacts in ${scenario.groups.join(', ')}` : 'everyone in the contact list'}.`,
    '',
    `Values of this scenario (${displayPath(scenario.dir)}/scenario.yaml), given with --var name=value:`,
    ...(variables.length === 0 ? ['  none'] : variables.flatMap(([key, spec]) => {
      const facts = [
        ...(spec.example !== undefined ? [`example: ${spec.example} (dry runs and checks)`] : []),
        ...(spec.default !== undefined ? [`default: ${spec.default}`] : []),
        spec.optional ? 'may be empty' : spec.default === undefined ? 'required for a live send' : '',
      ].filter(Boolean);
      return [`  ${key.padEnd(width)}${spec.description ?? ''}`, `  ${''.padEnd(width)}${facts.join(' · ')}`];
    })),
    '',
    'Organisation values (variables.yaml), which --var overrides for one run:',
    ...Object.entries(templates.variables).map(([key, { value }]) => `  ${key.padEnd(width)}${value}`),
    '',
    'Examples:',
    `  $ notify ${name} --dry-run${' '.repeat(Math.max(1, 30 - name.length))}see who gets what, send nothing`,
    `  $ notify ${name}${variables.map(([k, s]) => ` --var ${k}=${quote(s.example ?? '…')}`).join('')}`,
    '',
    'Every option: notify --help',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

const quote = (value: string) => (/[\s"'$]/.test(value) ? JSON.stringify(value) : value);
