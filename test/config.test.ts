/** Every URL variable a channel declares is checked, scheme included, when the config loads. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { baseEnv, runCli, tempDir } from './helpers/cli.js';

const load = (env: Record<string, string>) => () => loadConfig(env, tempDir());

describe('URL variables', () => {
  it.each([
    [{ SMTP_URL: 'ftp://user:pass@mail.example.com' }, /SMTP_URL must start with smtp:\/\/ or smtps:\/\/ \(not ftp:\/\/\)/],
    [{ SMTP_URL: 'mail.example.com:587' }, /SMTP_URL (?:is not a valid URL|must start with smtp:\/\/)/],
    [{ TWILIO_API_URL: 'api.twilio.com' }, /TWILIO_API_URL (?:is not a valid URL|must start with https:\/\/ or http:\/\/)/],
    [{ SLACK_API_URL: 'file:///etc/passwd' }, /SLACK_API_URL must start with https:\/\/ or http:\/\/ \(not file:\/\/\)/],
    [{ TELEGRAM_API_URL: 'not a url' }, /TELEGRAM_API_URL is not a valid URL/],
  ])('%j is refused with one sentence naming the variable', (env, message) => {
    expect(load(env)).toThrow(message);
  });

  it('a refused URL never echoes its password', () => {
    expect(load({ SMTP_URL: 'ftp://user:s3cret-pass@mail.example.com' })).not.toThrow(/s3cret-pass/);
  });

  it('accepts the schemes each channel declares', () => {
    expect(load({ SMTP_URL: 'smtps://u:p@mail.example.com:465', TWILIO_API_URL: 'http://127.0.0.1:9' })).not.toThrow();
  });

  it('notify check fails on SMTP_URL=ftp://… before the send would (exit 2)', async () => {
    const result = await runCli(['check'], { env: baseEnv({ SMTP_URL: 'ftp://mail.example.com' }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/SMTP_URL must start with smtp:\/\/ or smtps:\/\//);
  });
});
