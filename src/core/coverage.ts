/**
 * Templates no current contact would receive still get rendered by `notify check`, with a
 * sample contact of the file's audience and locale: the day a VIP English speaker joins
 * the list, their template must already work.
 */
import type { Channel, CheckLimits } from './channel.js';
import { addressColumns, addressesOf } from './contacts.js';
import { contextFactory } from './context.js';
import { escapeHtml } from './escape.js';
import { render } from './render.js';
import type { Scenario, TemplateSet } from './templates.js';
import type { Contact, Problem } from './types.js';

export interface CoverageInput {
  templates: TemplateSet;
  scenario: Scenario;
  channels: Channel[];
  variables: Record<string, string>;
  /** Extra CSV columns of the contact list, so `{{contact.<column>}}` resolves. */
  extraColumns: string[];
  limits: CheckLimits;
  now: Date;
  defaultLocale: string;
}

export function renderEveryTemplate(input: CoverageInput): Problem[] {
  const { templates, scenario, variables, extraColumns, now, defaultLocale } = input;
  const problems: Problem[] = [];
  const columns = addressColumns(input.channels);
  const contextsFor = contextFactory({ variables, scenario: scenario.name, runId: 'check', now, addressColumns: columns.map((c) => c.name) });
  const sampleColumns = Object.fromEntries(columns.map((c) => [c.name, c.example]));
  for (const file of scenario.files.values()) {
    const channel = input.channels.find((c) => c.name === file.channel);
    if (!channel) continue;
    const locale = file.locale ?? defaultLocale;
    const sample: Contact = {
      line: 0, name: 'Sample Contact', role: 'sample', groups: file.audience ? [file.audience] : [], locale,
      columns: sampleColumns, addresses: addressesOf(sampleColumns, input.channels),
      extra: Object.fromEntries(extraColumns.map((c) => [c, ''])), key: 'sample',
    };
    const contextFor = contextsFor(sample);
    const body = render(templates, file, contextFor(file.html ? escapeHtml : channel.escape));
    const subject = render(templates, file, contextFor(undefined), 'subject');
    for (const result of [body, subject]) if (!result.ok) problems.push(result.problem);
    if (body.ok && subject.ok && !file.html) {
      const message = { deliveryId: 'check', channel: file.channel, to: 'sample', text: body.value, subject: subject.value };
      for (const p of channel.check(message, input.limits)) problems.push({ ...p, where: file.path, group: 'limits' });
    }
  }
  return problems;
}
