/**
 * `notify preview <scenario>`: exactly what recipients will read, per channel — the SMS
 * with its encoding and segment count, the email subject and text, the Slack and
 * Telegram text — without sending. Without --contact, one example per template used.
 */
import type { Delivery } from '../core/plan.js';
import { UserError, EXIT } from '../errors.js';
import { printNotices } from '../format.js';
import { createOutput } from '../output.js';
import { prepare, type PlanFlags } from './prepare.js';

export interface PreviewFlags extends PlanFlags {
  channel?: string;
  locale?: string;
  json?: boolean;
  mask?: boolean;
}

export async function preview(scenarioName: string, flags: PreviewFlags): Promise<number> {
  const locale = flags.locale?.toLowerCase();
  const wanted: Delivery[] = [];
  const seenTemplates = new Set<string>();
  const prepared = prepare(scenarioName, { ...flags, channels: flags.channel ?? flags.channels }, {
    live: false,
    onDelivery: (d) => {
      if (locale && d.locale !== locale) return;
      // Without --contact, one example per template is what there is to see.
      if (!flags.contact?.length && seenTemplates.has(d.template)) return;
      seenTemplates.add(d.template);
      wanted.push(d);
    },
  });
  const out = createOutput({ ci: prepared.config.ci, mask: flags.mask ?? false });
  printNotices(out, prepared.notices);
  if (prepared.problems.length > 0) {
    throw new UserError(`Scenario "${scenarioName}" cannot be previewed: ${prepared.problems.length} problem(s).`, prepared.problems);
  }
  if (wanted.length === 0) {
    throw new UserError(`No message matches --locale ${flags.locale}; recipients' locales are ${prepared.contacts.locales.join(', ')}.`);
  }
  const deliveries = wanted;

  const { color } = out;
  for (const d of deliveries) {
    out.line(color.cyan.bold(`── ${d.channel} to ${d.contact.name} <${d.message.to}> · ${d.template}`));
    if (d.sms) {
      out.line(color.dim(`   ${d.sms.encoding}, ${d.sms.units} ${d.sms.encoding === 'GSM-7' ? 'septets' : 'UTF-16 units'}, ${d.sms.segments} segment(s)${d.sms.nonGsmChar ? ` — UCS-2 because of "${d.sms.nonGsmChar}"` : ''}`));
    }
    if (d.message.subject !== undefined) out.line(`   Subject: ${d.message.subject}`);
    for (const line of d.message.text.split('\n')) out.line(`   │ ${line}`);
    if (d.message.html) out.line(color.dim(`   (+ HTML alternative, ${d.message.html.length} characters)`));
    out.line();
  }
  if (flags.json) {
    out.json(deliveries.map((d) => ({
      channel: d.channel, contact: d.contact.name, to: out.address(d.message.to), template: d.template,
      ...(d.message.subject !== undefined && { subject: d.message.subject }),
      text: d.message.text, ...(d.message.html && { html: d.message.html }), ...(d.sms && { sms: d.sms }),
    })));
  }
  return EXIT.ok;
}
