/**
 * `notify contacts diff A.csv B.csv`, and the diff `contacts import` shows before it
 * replaces a list: added, removed, changed (old → new), unchanged. Phones and emails are
 * masked under CI like everything else printed.
 */
import { CHANNEL_LIST } from '../channels/index.js';
import { loadConfig, type Config } from '../config.js';
import { readContacts } from '../core/contacts.js';
import { diffContacts, type ContactDiff } from '../core/contacts-diff.js';
import { displayPath } from '../core/templates.js';
import { EXIT } from '../errors.js';
import { createOutput, type Output } from '../output.js';

export function readList(path: string, config: Config) {
  return readContacts(path, { defaultRegion: config.defaultRegion, defaultLocale: config.defaultLocale, channels: CHANNEL_LIST }).contacts;
}

export async function contactsDiff(before: string, after: string, flags: { json?: boolean; mask?: boolean }): Promise<number> {
  const config = loadConfig();
  const out = createOutput({ ci: config.ci, mask: flags.mask ?? false });
  const diff = diffContacts(readList(before, config), readList(after, config));
  printDiff(out, diff, `${displayPath(before)} → ${displayPath(after)}`);
  if (flags.json) out.json(diff);
  return EXIT.ok;
}

export function printDiff(out: Output, diff: ContactDiff, title: string): void {
  const { color } = out;
  const { added, removed, changed, unchanged } = diff;
  out.line(color.bold(`${title}: ${added.length} added, ${removed.length} removed, ${changed.length} changed, ${unchanged} unchanged`));
  for (const p of added) out.line(color.green(`  + ${p.name} (line ${p.line})`));
  for (const p of removed) out.line(color.red(`  - ${p.name} (was line ${p.line})`));
  for (const p of changed) {
    const what = p.changes.map((c) => `${c.field} ${c.before ? `"${c.before}"` : '(empty)'} → ${c.after ? `"${c.after}"` : '(empty)'}`);
    out.line(color.yellow(`  ~ ${p.name} (line ${p.line}): ${what.join('; ')}`));
  }
}

/** Share of the old list that a new one drops (0 to 1). */
export function removedShare(diff: ContactDiff): number {
  const before = diff.removed.length + diff.changed.length + diff.unchanged;
  return before === 0 ? 0 : diff.removed.length / before;
}
