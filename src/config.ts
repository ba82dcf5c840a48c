/**
 * Environment (+ `.env` in the working directory) → one typed, validated config.
 * A real environment variable wins over `.env`. Secrets stay in this object and are
 * never printed: error messages name the variable, not its value.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod'; // as a namespace: the bundle keeps only what is used (scripts/bundle.mjs)
import { CHANNEL_LIST } from './channels/index.js';
import type { EnvVar } from './core/channel.js';
import { readEnvFile } from './env-file.js';
import { UserError } from './errors.js';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A URL variable: parsed and its scheme checked here, so `notify check` fails where the send would. */
const url = (variable: EnvVar) =>
  optional.transform((value, ctx) => {
    if (value === undefined || !variable.url) return value;
    const { schemes, example } = variable.url;
    let scheme: string | undefined;
    try {
      scheme = new URL(value).protocol.slice(0, -1);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${variable.name} is not a valid URL; write it like ${example}.` });
      return z.NEVER;
    }
    if (!schemes.includes(scheme)) {
      ctx.addIssue({ code: 'custom', message: `${variable.name} must start with ${schemes.map((s) => `${s}://`).join(' or ')} (not ${scheme}://); write it like ${example}.` });
      return z.NEVER;
    }
    return value;
  });

/** Every variable the channels declare (TWILIO_*, SMTP_URL…), from the registry. */
const channelVariables = Object.fromEntries(CHANNEL_LIST.flatMap((c) => c.env).map((v) => [v.name, url(v)]));

const EnvSchema = z.object({
  ...channelVariables,
  NOTIFY_DEFAULT_REGION: optional.transform((v, ctx) => {
    const region = (v ?? 'FR').toUpperCase();
    if (!/^[A-Z]{2}$/.test(region)) {
      ctx.addIssue({ code: 'custom', message: 'NOTIFY_DEFAULT_REGION must be a two-letter country code such as FR or GB.' });
      return z.NEVER;
    }
    return region;
  }),
  NOTIFY_DEFAULT_LOCALE: optional.transform((v) => (v ?? 'fr').toLowerCase()),
  NOTIFY_CONTACTS: optional,
  NOTIFY_TEMPLATES: optional,
  CI: optional,
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()) {
  const dotenvPath = join(cwd, '.env');
  let fromFile: Record<string, string> = {};
  if (existsSync(dotenvPath)) fromFile = readEnvFile(dotenvPath);
  const parsed = EnvSchema.safeParse({ ...fromFile, ...env });
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UserError(first?.message ?? 'The environment is invalid.');
  }
  const e = parsed.data;
  const values = e as Record<string, string | undefined>;
  return {
    /** The channels' variables (see each channel's `env`), validated: what `connect()` reads. */
    env: Object.fromEntries(Object.keys(channelVariables).map((name) => [name, values[name]])),
    defaultRegion: e.NOTIFY_DEFAULT_REGION,
    defaultLocale: e.NOTIFY_DEFAULT_LOCALE,
    contactsPath: e.NOTIFY_CONTACTS,
    templatesDir: e.NOTIFY_TEMPLATES,
    ci: e.CI !== undefined && e.CI !== 'false' && e.CI !== '0',
  };
}

export type Config = ReturnType<typeof loadConfig>;
