/**
 * Email over SMTP with nodemailer: one pooled transport per run, built from SMTP_URL.
 * nodemailer is imported in connect() only, so --help, checks and dry runs never load it.
 */
import type { NodemailerError, SMTPPoolOptions } from 'nodemailer';
import type { Config } from '../config.js';
import type { Problem, Rendered } from '../core/types.js';
import { UserError } from '../errors.js';
import { PermanentError, RetryableError, type DeliveryError } from './errors.js';
import type { Channel } from './types.js';

/** Open SMTP connections at most; servers throttle clients that open many. */
const MAX_CONNECTIONS = 3;
/** TCP connect, then the server's 220 greeting. */
const CONNECT_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
/** Silence on an open connection before it is given up (the dispatcher's signal usually ends it first). */
const SOCKET_TIMEOUT_MS = 30_000;

type Rule = { retryable: boolean; reason: string; outcomeUnknown?: boolean };
const LOGIN = 'the mail server refused the login: check the user name and password in SMTP_URL';
const UNREACHABLE = 'the mail server {server} from SMTP_URL cannot be reached';
const LOST = 'the connection to the mail server {server} was lost before it confirmed; the email may or may not have been delivered';

/**
 * Failure → decision, looked up by the socket cause, then the timeout kind, then the SMTP
 * reply code, then nodemailer's code. Anything else falls back on the reply class (4xx/5xx).
 */
const SMTP_ERRORS: Record<string, Rule> = {
  ECONNREFUSED: { retryable: true, reason: `${UNREACHABLE}: connection refused` },
  ENOTFOUND: { retryable: true, reason: 'the mail server host name in SMTP_URL could not be resolved' },
  EHOSTUNREACH: { retryable: true, reason: `${UNREACHABLE}: no route to host` },
  CONNECT_TIMEOUT: { retryable: true, reason: `${UNREACHABLE}: no connection within the time limit` },
  GREETING_TIMEOUT: { retryable: true, reason: 'the mail server {server} from SMTP_URL accepted the connection but never greeted' },
  '530': { retryable: false, reason: 'the mail server requires a login: put user:password in SMTP_URL' },
  '534': { retryable: false, reason: LOGIN },
  '535': { retryable: false, reason: LOGIN },
  '550': { retryable: false, reason: 'the mail server refused this recipient' },
  '551': { retryable: false, reason: 'the mail server refused this recipient' },
  '553': { retryable: false, reason: 'the mail server refused this address' },
  '501': { retryable: false, reason: 'the mail server refused this address' },
  '552': { retryable: false, reason: 'the mailbox is full or the message is too large' },
  '554': { retryable: false, reason: 'the mail server rejected the message' },
  '421': { retryable: true, reason: 'the mail server is unavailable for now and closed the connection' },
  '450': { retryable: true, reason: 'the mailbox is unavailable for now' },
  '451': { retryable: true, reason: 'the mail server had a temporary failure' },
  '452': { retryable: true, reason: 'the mail server is out of storage for now' },
  EAUTH: { retryable: false, reason: LOGIN },
  ENOAUTH: { retryable: false, reason: 'the mail server requires a login: put user:password in SMTP_URL' },
  ETLS: { retryable: false, reason: 'TLS with the mail server failed: check smtp:// (port 587) or smtps:// (port 465) in SMTP_URL' },
  EDNS: { retryable: true, reason: 'the mail server host name in SMTP_URL could not be resolved' },
  ESOCKET: { retryable: true, reason: LOST, outcomeUnknown: true },
  ECONNECTION: { retryable: true, reason: LOST, outcomeUnknown: true },
  ETIMEDOUT: { retryable: true, reason: 'no answer from the mail server {server} within the time limit; the email may or may not have been delivered', outcomeUnknown: true },
  EABORT: { retryable: true, reason: 'no answer from the mail server within the time limit; the email may or may not have been delivered', outcomeUnknown: true },
};

export const email: Channel = {
  name: 'email',
  address: (contact) => contact.email,

  check(message: Rendered): Problem[] {
    const subject = message.subject ?? '';
    if (subject.trim() === '') {
      return [{ where: 'email', group: 'templates', message: 'the email template has no subject: add `subject:` to its front matter' }];
    }
    if (/[\r\n]/.test(subject)) {
      return [{ where: 'email', group: 'templates', message: 'the email subject spans several lines: keep `subject:` on one line' }];
    }
    return [];
  },

  missingConfig: (config) => [
    ...(config.smtp.url ? [] : ['SMTP_URL']),
    ...(config.smtp.from ? [] : ['MAIL_FROM']),
  ],

  async connect(config: Config) {
    const { url, from } = config.smtp;
    if (!url || !from) throw new UserError('Email is not configured: set SMTP_URL and MAIL_FROM.');
    const server = serverOptions(url);
    const where = `${server.host}:${server.port}`;
    const secrets = secretForms(server.auth);
    const { createTransport } = await import('nodemailer');
    const transport = createTransport({
      ...server,
      pool: true,
      maxConnections: MAX_CONNECTIONS,
      // Hidden retry: by default the pool re-sends a message whose connection closed, up to
      // 5 times. The dispatcher owns retries and the journal, so every send is one attempt.

      connectionTimeout: CONNECT_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      dnsTimeout: CONNECT_TIMEOUT_MS,
      // Templates are text: never let a message make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
    const fail = (err: unknown) => toDeliveryError(err, where, secrets);
    return {
      async send(message, signal) {
        try {
          const info = await transport.sendMail({
            from,
            to: message.to,
            subject: message.subject,
            text: message.text,
            html: message.html,
            messageId: messageIdFor(message.deliveryId),
            signal,
          });
          return { providerId: info.messageId, detail: info.response };
        } catch (err) {
          throw fail(err);
        }
      },
      async verify(signal) {
        // verify() takes no signal: stop waiting on abort; its own socket timeouts end the probe.
        const aborted = new Promise<never>((_, reject) => {
          const onAbort = () => reject(Object.assign(new Error('aborted'), { code: 'EABORT' }));
          if (signal.aborted) onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
        });
        try {
          await Promise.race([transport.verify(), aborted]);
        } catch (err) {
          throw fail(err);
        }
      },
      async close() {
        transport.close();
      },
    };
  },
};

/**
 * SMTP_URL → nodemailer options, parsed here so every option is ours: `smtps://` is TLS from
 * the first byte (default port 465); `smtp://` upgrades with STARTTLS when the server offers it
 * (default port 587), `?requireTLS=true` refuses to go on without it, `?ignoreTLS=true` never tries.
 */
export function serverOptions(raw: string): Pick<SMTPPoolOptions, 'host' | 'port' | 'secure' | 'auth' | 'requireTLS' | 'ignoreTLS'> {
  const url = new URL(raw);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new UserError('SMTP_URL must start with smtp:// or smtps://, e.g. smtp://user:pass@mail.example.com:587.');
  }
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: user ? { user, pass: decodeURIComponent(url.password) } : undefined,
    requireTLS: url.searchParams.get('requireTLS') === 'true',
    ignoreTLS: url.searchParams.get('ignoreTLS') === 'true',
  };
}

/** A Message-ID derived from the delivery id, so a re-send is recognisable as the same message. */
export function messageIdFor(deliveryId: string): string {
  // Percent-encode anything that is not safe in a msg-id (spaces, <>, @, parentheses…).
  const local = deliveryId.replace(/[^A-Za-z0-9._=+-]/gu, (c) => Buffer.from(c).toString('hex').toUpperCase().replace(/../g, '%$&'));
  return `<${local}@crisis-notify>`;
}

function toDeliveryError(err: unknown, server: string, secrets: string[]): DeliveryError {
  const e = (err ?? {}) as NodemailerError;
  const keys = [e.originalCode, e.timeoutType, e.responseCode?.toString(), e.code];
  const key = keys.find((k): k is string => k !== undefined && k in SMTP_ERRORS);
  const rule: Rule = key
    ? SMTP_ERRORS[key]!
    : e.permanent === true
      ? { retryable: false, reason: 'the mail server refused the message' }
      : { retryable: true, reason: `unexpected failure talking to the mail server {server} (${e.code ?? 'no error code'})`, outcomeUnknown: true };
  const said = e.response ? ` (the server said: ${scrub(e.response, secrets)})` : '';
  const reason = rule.reason.replace('{server}', server) + said;
  const code = key ?? e.code;
  return rule.retryable ? new RetryableError(reason, code, undefined, rule.outcomeUnknown ?? false) : new PermanentError(reason, code);
}

/** Every form in which the SMTP password could come back in a server reply. */
function secretForms(auth: { user?: string; pass?: string } | undefined): string[] {
  if (!auth?.pass) return [];
  const { user = '', pass } = auth;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [pass, encodeURIComponent(pass), b64(pass), b64(`\0${user}\0${pass}`), b64(`${user}\0${user}\0${pass}`)];
}

function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, s) => t.split(s).join('***'), text);
}
