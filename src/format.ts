/** Human-readable summaries (stderr): the plan before sending, previews, the report after. */
import { duration, type BlastRadius } from './core/blast-radius.js';
import type { Plan } from './core/plan.js';
import type { RunReport } from './core/report.js';
import type { Problem } from './core/types.js';
import type { Output } from './output.js';

/** Map.groupBy arrives in Node 21; we support 20. */
function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function printProblems(out: Output, problems: Problem[], heading: string): void {
  const { color } = out;
  out.line(color.red.bold(heading));
  const groups = groupBy(problems, (p) => p.group ?? 'other');
  for (const [group, list] of groups) {
    out.line(color.bold(`  ${group}:`));
    for (const p of list) out.line(`    ${color.red('✗')} ${p.where}: ${p.message}`);
  }
}

export function printNotices(out: Output, notices: Problem[]): void {
  for (const n of notices) out.line(`${out.color.yellow('!')} ${n.where}: ${n.message}`);
}

export function printPlanSummary(out: Output, plan: Plan): void {
  const { color } = out;
  out.line(color.bold(`${'channel'.padEnd(10)}${'messages'.padStart(9)}${'people'.padStart(8)}  notes`));
  for (const [channel, c] of plan.channels) {
    const sms = c.maxSmsSegments
      ? `up to ${c.maxSmsSegments} segment${c.maxSmsSegments > 1 ? 's' : ''} per SMS${c.ucs2 ? `, ${c.ucs2} in UCS-2` : ', all GSM-7'}`
      : '';
    const broadcast = c.broadcastTo ? `+ 1 broadcast to ${c.broadcastTo}` : '';
    out.line(`${channel.padEnd(10)}${String(c.messages).padStart(9)}${String(c.people).padStart(8)}  ${[sms, broadcast].filter(Boolean).join('; ')}`);
  }
  out.line(`${plan.recipients} people targeted.`);
  if (plan.unreachable.length > 0) {
    const broadcasts = [...plan.channels].filter(([, c]) => c.broadcastTo).map(([channel]) => channel);
    out.line(color.yellow(broadcasts.length > 0
      ? `${plan.unreachable.length} targeted people have no personal address on the selected channels: only the broadcast on ${broadcasts.join(', ')} may reach them, if they read it:`
      : `${plan.unreachable.length} targeted people have no address on the selected channels and will NOT be reached:`));
    for (const c of plan.unreachable) out.line(`  - ${c.name} (line ${c.line})`);
  }
}

const money = (amount: number, currency: string) =>
  new Intl.NumberFormat('en-GB', { style: 'currency', currency, maximumFractionDigits: 2 }).format(amount);
const thousands = (n: number) => n.toLocaleString('en-US');

/** How long, how much, what pushes SMS into UCS-2, and anything unusual: the first screen before the button. */
export function printBlastRadius(out: Output, radius: BlastRadius): void {
  const { color } = out;
  out.line(color.bold('Blast radius:'));
  for (const c of radius.eta.channels) {
    const pace = c.perSecond ? `at ${c.perSecond}/s` : `${c.concurrency} at a time`;
    out.line(`  ${c.channel.padEnd(9)} ${thousands(c.messages)} message${c.messages === 1 ? '' : 's'} ${pace} ≈ ${duration(c.seconds)}`);
  }
  if (radius.eta.slowest) out.line(`  whole run ≈ ${duration(radius.eta.seconds)} (${radius.eta.slowest} is the slowest)`);
  const { cost } = radius;
  if (cost) {
    const top = cost.countries.slice(0, 3).map((c) => `${c.country} ${c.channel} ${money(c.amount, cost.currency)}`).join(', ');
    out.line(`  cost ≈ ${money(cost.total, cost.currency)} (${cost.source})${top ? `: ${top}${cost.countries.length > 3 ? ', …' : ''}` : ''}`);
    if (cost.unpriced.length > 0) out.line(color.yellow(`  no price for ${cost.unpriced.join(', ')}: not counted; add them to prices.yaml`));
  }
  for (const u of radius.ucs2) {
    if (u.segments === u.gsmSegments) continue;
    const extra = u.extra !== undefined && cost ? `, +${money(u.extra, cost.currency)}` : '';
    out.line(color.yellow(`  ${u.template}: '${u.char}' in '${u.word}' forces UCS-2: ${thousands(u.segments)} segments instead of ${thousands(u.gsmSegments)} for ${thousands(u.people)} people${extra}`));
  }
  for (const w of radius.warnings) out.line(`${color.yellow('!')} ${w.message}`);
}

/** One rendered example per template actually used, so the lead sees what people will read. */
export function printPreviews(out: Output, plan: Plan): void {
  const { color } = out;
  for (const d of plan.previews) {
    const sms = d.sms ? `, ${d.sms.segments} segment${d.sms.segments > 1 ? 's' : ''} ${d.sms.encoding}, ${d.sms.units} chars` : '';
    out.line();
    out.line(color.cyan(`── ${d.channel} · ${d.template} (e.g. to ${d.contact.name}${sms})`));
    if (d.message.subject !== undefined) out.line(`   Subject: ${d.message.subject}`);
    for (const line of d.message.text.split('\n')) out.line(`   │ ${line}`);
  }
  out.line();
}

export function printReport(out: Output, report: RunReport): void {
  const { color } = out;
  const state = report.complete ? 'complete' : color.yellow('incomplete');
  out.line(color.bold(`Run ${report.runId} (${report.scenario}${report.dryRun ? ', dry run: nothing was sent' : ''}) ${state}`));
  for (const [channel, c] of Object.entries(report.channels)) {
    const parts = [
      color.green(`${c.delivered} ${report.dryRun ? 'checked' : 'delivered'}`),
      c.failed ? color.red(`${c.failed} failed`) : '',
      c.pending ? color.yellow(`${c.pending} not sent yet`) : '',
      c.skipped ? `${c.skipped} skipped (reached another way)` : '',
    ].filter(Boolean);
    out.line(`  ${channel.padEnd(9)} ${parts.join(', ')}`);
  }
  const { targeted, reached, notReached } = report.people;
  const verb = report.dryRun ? 'would be reached' : 'reached';
  out.line(`People: ${targeted} targeted, ${reached} ${verb}${notReached ? color.red(`, ${notReached} NOT ${verb}`) : ''}.`);
  if (report.notReached.length > 0) {
    out.line(color.red.bold('Not reached on any channel:'));
    for (const p of report.notReached) {
      out.line(`  - ${p.contact}${p.line ? ` (line ${p.line})` : ''}: ${p.reasons.join('; ')}`);
    }
  }
  const partly = report.failures.filter((f) => !report.notReached.some((p) => p.contact === f.contact));
  if (partly.length > 0) {
    out.line(color.yellow('Failed on one channel but reached on another:'));
    for (const f of partly) out.line(`  - ${f.contact} · ${f.channel} ${out.address(f.to)}: ${f.reason}`);
  }
  if (report.mayBeDuplicated.length > 0) {
    out.line(color.yellow(`${report.mayBeDuplicated.length} message(s) may have arrived twice (an earlier attempt's outcome was unknown).`));
  }
  printDamage(out, report);
  out.line(color.dim(`Journal: ${report.journal}`));
}

/** The journal's damaged lines, each with its line number and what it means. */
export function printDamage(out: Output, report: RunReport): void {
  if (report.damaged.length === 0) return;
  const { color } = out;
  out.line(color.red.bold(`The journal has ${report.damaged.length} damaged line(s); the messages they concern are unknown, not dropped:`));
  for (const d of report.damaged) {
    const about = [d.record, d.contact, d.channel].filter(Boolean).join(' · ');
    out.line(`  - line ${d.line}${about ? ` (${about})` : ''}: ${d.effect}`);
  }
}
