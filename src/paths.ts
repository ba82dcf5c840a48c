/** Where the files a run needs are found, per design.md. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { UserError } from './errors.js';

/** The installed package: its shipped templates and example contact list live here. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const EXAMPLE_CONTACTS = resolve(PACKAGE_ROOT, 'contacts.example.csv');
export const SHIPPED_TEMPLATES = resolve(PACKAGE_ROOT, 'templates');

export interface ContactsSource {
  path: string;
  /** True when falling back to the shipped example list (allowed for dry runs and checks only). */
  isExample: boolean;
}

/** `--contacts`, else `$NOTIFY_CONTACTS`, else `./contacts.csv`, else (not for live sends) the example. */
export function contactsSource(flag: string | undefined, config: Config, live: boolean): ContactsSource {
  if (flag) return { path: resolve(flag), isExample: false };
  if (config.contactsPath) {
    // Nothing on the command line names this path: say where it came from.
    if (!existsSync(config.contactsPath)) {
      throw new UserError(`NOTIFY_CONTACTS is set to ${config.contactsPath}, which does not exist; correct or unset that variable (environment or .env), or pass --contacts FILE.`);
    }
    return { path: resolve(config.contactsPath), isExample: false };
  }
  const local = resolve('contacts.csv');
  if (existsSync(local)) return { path: local, isExample: false };
  if (live) {
    throw new UserError(
      'There is no contacts.csv in this folder; pass your list with --contacts FILE (the example list is never used for a live send unless you name it).',
    );
  }
  return { path: EXAMPLE_CONTACTS, isExample: true };
}

/** `--templates`, else `$NOTIFY_TEMPLATES`, else `./templates`, else the shipped templates. */
export function templatesDir(flag: string | undefined, config: Config): string {
  const chosen = flag ?? config.templatesDir;
  if (chosen) return resolve(chosen);
  const local = resolve('templates');
  return existsSync(local) ? local : SHIPPED_TEMPLATES;
}
