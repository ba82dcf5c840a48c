/**
 * `notify status-page [--out DIR] [--locale fr|en] [--templates DIR]`: the static page of
 * the current incident, from the runs published with `--status-page`.
 */
import { loadConfig } from '../config.js';
import { availableLocales, writeStatusPage } from '../core/status-page.js';
import { displayPath } from '../core/templates.js';
import { EXIT, UserError } from '../errors.js';
import { createOutput } from '../output.js';
import { templatesDir } from '../paths.js';
import { keepHeapNearLive } from '../heap.js';

export interface StatusPageFlags {
  out: string;
  locale?: string;
  templates?: string;
}

const STATE_WORDS: Record<string, string> = {
  operational: 'no incident', down: 'down', degraded: 'still down, recovery in progress', resolved: 'resolved',
};

export async function statusPage(flags: StatusPageFlags): Promise<number> {
  keepHeapNearLive();
  const config = loadConfig();
  const out = createOutput({ ci: config.ci });
  const dir = templatesDir(flags.templates, config);
  const locale = (flags.locale ?? config.defaultLocale).trim().toLowerCase();
  const locales = availableLocales(dir);
  if (!locales.includes(locale)) {
    const source = flags.locale !== undefined ? `--locale ${flags.locale}` : `NOTIFY_DEFAULT_LOCALE=${locale}`;
    throw new UserError(
      `${source} is not a status page language; use --locale ${locales.join(' or ')} (or add status-page/strings.${locale}.yaml to your templates).`,
    );
  }
  const { files, state, warnings } = await writeStatusPage({ outDir: flags.out, locale, templatesDir: dir });
  for (const warning of warnings) out.line(out.color.yellow(`! ${warning}`));
  out.line(`Status page (${locale}): ${STATE_WORDS[state] ?? state}.`);
  for (const file of files) out.line(`  wrote ${displayPath(file)}`);
  return EXIT.ok;
}
