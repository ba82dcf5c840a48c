/**
 * `notify contacts check [file]`: the contact list as a send would read it (readContacts,
 * same rules), with who is in which group and who can be reached on which channel.
 */
import { existsSync } from 'node:fs';
import { CHANNEL_LIST } from '../channels/index.js';
import { loadConfig } from '../config.js';
import { readContacts } from '../core/contacts.js';
import { displayPath } from '../core/templates.js';
import type { Contact, Problem } from '../core/types.js';
import { EXIT, UserError } from '../errors.js';
import { printNotices, printProblems } from '../format.js';
import { suppressionsFor, readSuppressions } from '../core/suppressions.js';
import { createOutput, type Output } from '../output.js';
import { contactsSource } from '../paths.js';


export interface Coverage {
  contacts: number;
  groups: Record<string, number>;
  /** Contacts with no group at all. */
  ungrouped: number;
  /** Per channel with per-person addresses: how many contacts it reaches. */
  channels: Record<string, number>;
  noChannel: { name: string; line: number }[];
  onlyEmail: { name: string; line: number }[];
  /** Phones that are certainly landlines: an SMS fails there. */
  landlines: { name: string; line: number }[];
}

export function coverage(contacts: Contact[]): Coverage {
  const groups: Record<string, number> = {};
  const channels: Record<string, number> = Object.fromEntries(CHANNEL_LIST.filter((c) => c.columns.length > 0).map((c) => [c.name, 0]));
  const noChannel: Coverage['noChannel'] = [];
  const onlyEmail: Coverage['onlyEmail'] = [];
  const landlines: Coverage['landlines'] = [];
  let ungrouped = 0;
  for (const c of contacts) {
    for (const g of c.groups) groups[g] = (groups[g] ?? 0) + 1;
    if (c.groups.length === 0) ungrouped++;
    const reached = Object.keys(c.addresses);
    for (const channel of reached) channels[channel] = (channels[channel] ?? 0) + 1;
    if (reached.length === 0) noChannel.push({ name: c.name, line: c.line });
    else if (reached.length === 1 && reached[0] === 'email') onlyEmail.push({ name: c.name, line: c.line });
    if (c.landline) landlines.push({ name: c.name, line: c.line });
  }
  const sorted = Object.fromEntries(Object.entries(groups).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
  return { contacts: contacts.length, groups: sorted, ungrouped, channels, noChannel, onlyEmail, landlines };
}

export async function contactsCheck(file: string | undefined, flags: { mask?: boolean; json?: boolean }): Promise<number> {
  const config = loadConfig();
  const out = createOutput({ ci: config.ci, mask: flags.mask ?? false });
  const source = contactsSource(file, config, false);
  // Like a dry run: on a fresh clone, show the example list rather than refuse.
  if (source.isExample) {
    printNotices(out, [{ where: 'contacts', message: 'no contacts.csv here and NOTIFY_CONTACTS is not set: checking the shipped example list (contacts.example.csv); name yours with "notify contacts check FILE".' }]);
  }
  const shown = displayPath(source.path);
  if (!existsSync(source.path)) throw new UserError(`${shown} does not exist; check the path, or create the list with "notify contacts import <export.csv>".`);

  const list = readContacts(source.path, { defaultRegion: config.defaultRegion, defaultLocale: config.defaultLocale, channels: CHANNEL_LIST });
  const invalid: Problem[] = list.invalid;
  const summary = coverage(list.contacts);
  printCoverage(out, shown, summary);
  printNotices(out, list.notices);
  // Opt-outs: the addresses later plans skip (a scenario with ignore_suppressions: true still reaches them).
  const suppressions = suppressionsFor(readSuppressions(), false);
  for (const contact of list.contacts) suppressions.apply(contact);
  const suppressed = suppressions.notices;
  if (suppressed.length > 0) printNotices(out, suppressed);
  if (invalid.length > 0) printProblems(out, invalid, `Invalid rows (${invalid.length}): these people would not be reached.`);
  if (flags.json) {
    const result = { file: shown, ...summary, merged: list.notices, suppressed, invalid, valid: invalid.length === 0 };
    out.json(result);
  }
  return invalid.length > 0 ? EXIT.invalid : EXIT.ok;
}

function printCoverage(out: Output, file: string, s: Coverage): void {
  const { color } = out;
  out.line(color.bold(`${file}: ${s.contacts} contacts`));
  out.line('Groups:');
  const rows: [string, number][] = [...Object.entries(s.groups), ...(s.ungrouped ? [['(no group)', s.ungrouped] as [string, number]] : [])];
  const width = Math.max(8, ...rows.map(([g]) => g.length));
  for (const [group, count] of rows) out.line(`  ${group.padEnd(width)} ${String(count).padStart(6)}`);
  out.line('Channels:');
  for (const [channel, count] of Object.entries(s.channels)) {
    out.line(`  ${channel.padEnd(width)} ${String(count).padStart(6)} of ${s.contacts}`);
  }
  if (s.noChannel.length > 0) {
    out.line(color.red(`No channel at all (${s.noChannel.length}): cannot be reached.`));
    for (const c of s.noChannel) out.line(`  - ${c.name} (line ${c.line})`);
  }
  if (s.onlyEmail.length > 0) {
    out.line(color.yellow(`Only email (${s.onlyEmail.length}): no phone, Slack or Telegram, so slow to reach in a crisis.`));
    for (const c of s.onlyEmail) out.line(`  - ${c.name} (line ${c.line})`);
  }
  if (s.landlines.length > 0) {
    out.line(color.yellow(`Landline phone (${s.landlines.length}): a text fails there; a voice call reaches it (--strategy first calls instead).`));
    for (const c of s.landlines) out.line(`  - ${c.name} (line ${c.line})`);
  }
}
