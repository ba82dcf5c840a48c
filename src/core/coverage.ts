/**
 * Templates no current contact would receive still get rendered by `notify check`, with a
 * sample contact of the file's audience and locale: the day a VIP English speaker joins
 * the list, their template must already work.
 */
import type { Channel, CheckLimits } from '../channels/types.js';
import { render } from './render.js';
import type { Scenario, TemplateSet } from './templates.js';
import { contextFactory } from './context.js';
import { BODY_KIND } from './plan.js';
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
  const contextsFor = contextFactory({ variables, scenario: scenario.name, runId: 'check', now });
  for (const file of scenario.files.values()) {
    const channel = input.channels.find((c) => c.name === file.channel);
    if (!channel) continue;
    const locale = file.locale ?? defaultLocale;
    const sample: Contact = {
      line: 0, name: 'Sample Contact', role: 'sample', groups: file.audience ? [file.audience] : [], locale,
      phone: '+33639980000', email: 'sample@example.com', slack: 'U0SAMPLE', telegram: '100000000',
      extra: Object.fromEntries(extraColumns.map((c) => [c, ''])), key: 'sample',
    };
    const contextFor = contextsFor(sample);
    const body = render(templates, file, contextFor(file.html ? 'html' : BODY_KIND[file.channel]));
    const subject = render(templates, file, contextFor('plain'), 'subject');
    for (const result of [body, subject]) if (!result.ok) problems.push(result.problem);
    if (body.ok && subject.ok && !file.html) {
      const message = { deliveryId: 'check', channel: file.channel, to: 'sample', text: body.value, subject: subject.value };
      for (const p of channel.check(message, input.limits)) problems.push({ ...p, where: file.path, group: 'limits' });
    }
  }
  return problems;
}
