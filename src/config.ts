/**
 * Environment (+ `.env` in the working directory) → one typed, validated config.
 * A real environment variable wins over `.env`. Secrets stay in this object and are
 * never printed: error messages name the variable, not its value.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readEnvFile } from './env-file.js';
import { UserError } from './errors.js';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (variable: string, fallback?: string) =>
  optional.transform((v, ctx) => {
    const value = v ?? fallback;
    if (value === undefined) return undefined;
    try {
      new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${variable} is not a valid URL; write it like ${fallback ?? 'smtp://user:pass@host:587'}.` });
      return z.NEVER;
    }
    return value;
  });

const EnvSchema = z.object({
  TWILIO_ACCOUNT_SID: optional,
  TWILIO_AUTH_TOKEN: optional,
  TWILIO_FROM: optional,
  TWILIO_MESSAGING_SERVICE_SID: optional,
  TWILIO_API_URL: url('TWILIO_API_URL', 'https://api.twilio.com'),
  SMTP_URL: url('SMTP_URL'),
  MAIL_FROM: optional,
  SLACK_BOT_TOKEN: optional,
  SLACK_API_URL: url('SLACK_API_URL', 'https://slack.com/api/'),
  SLACK_CHANNEL: optional,
  TELEGRAM_BOT_TOKEN: optional,
  TELEGRAM_API_URL: url('TELEGRAM_API_URL', 'https://api.telegram.org'),
  TELEGRAM_CHAT_ID: optional,
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
  return {
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      from: e.TWILIO_FROM,
      messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
      apiUrl: e.TWILIO_API_URL!,
    },
    smtp: { url: e.SMTP_URL, from: e.MAIL_FROM },
    slack: { token: e.SLACK_BOT_TOKEN, apiUrl: e.SLACK_API_URL!, broadcastChannel: e.SLACK_CHANNEL },
    telegram: { token: e.TELEGRAM_BOT_TOKEN, apiUrl: e.TELEGRAM_API_URL!, broadcastChatId: e.TELEGRAM_CHAT_ID },
    defaultRegion: e.NOTIFY_DEFAULT_REGION,
    defaultLocale: e.NOTIFY_DEFAULT_LOCALE,
    contactsPath: e.NOTIFY_CONTACTS,
    templatesDir: e.NOTIFY_TEMPLATES,
    ci: e.CI !== undefined && e.CI !== 'false' && e.CI !== '0',
  };
}

export type Config = ReturnType<typeof loadConfig>;
