/**
 * Email over SMTP with nodemailer: one pooled transport per run, built from SMTP_URL.
 * nodemailer is imported in connect() only, so --help, checks and dry runs never load it.
 */
import type { NodemailerError, SMTPPoolOptions } from 'nodemailer';
import { unsetVariables, type AddressColumn, type Channel, type ChannelSettings } from '../core/channel.js';
import { pollMailbox } from './email-replies.js';
import { EMAIL } from '../core/contacts.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import type { Problem, Rendered } from '../core/types.js';
import { UserError } from '../errors.js';

/** Open SMTP connections at most; servers throttle clients that open many. */
const MAX_CONNECTIONS = 3;
/**
 * Messages per pooled connection before it is closed and dialled again. nodemailer's default
 * (100) makes a fan-out of 10,000 mails pay ~100 greetings, EHLOs, logins (and TLS
 * handshakes) per connection; at 1,000 that is 1 % of the messages. A server that wants
 * fewer closes the connection (421), which the dispatcher retries like any 421.
 */
const MAX_MESSAGES_PER_CONNECTION = 1000;
/** TCP connect, then the server's 220 greeting. */
const CONNECT_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
/** Silence on an open connection before it is given up (the dispatcher's signal usually ends it first). */
const SOCKET_TIMEOUT_MS = 30_000;

type Rule = { retryable: boolean; reason: string; outcomeUnknown?: boolean; channelWide?: boolean };
const each = (codes: string[], rule: Rule) => Object.fromEntries(codes.map((code) => [code, rule]));
const UNREACHABLE = 'the mail server {server} from SMTP_URL cannot be reached';
const MAYBE_DELIVERED = 'the email may or may not have been delivered';

/**
 * Failure → decision, looked up by the socket cause, then the timeout kind, then a refused
 * sender, then the SMTP reply code, then nodemailer's code. Anything else falls back on the reply class (4xx/5xx).
 */
const SMTP_ERRORS: Record<string, Rule> = {
  ECONNREFUSED: { retryable: true, reason: `${UNREACHABLE}: connection refused` },
  EHOSTUNREACH: { retryable: true, reason: `${UNREACHABLE}: no route to host` },
  CONNECT_TIMEOUT: { retryable: true, reason: `${UNREACHABLE}: no connection within the time limit` },
  GREETING_TIMEOUT: { retryable: true, reason: 'the mail server {server} from SMTP_URL accepted the connection but never greeted' },
  ...each(['ENOTFOUND', 'EDNS'], { retryable: true, reason: 'the mail server host name in SMTP_URL could not be resolved' }),
  ...each(['535', '534', 'EAUTH'], { retryable: false, channelWide: true, reason: 'the mail server refused the login: check the user name and password in SMTP_URL' }),
  ...each(['530', 'ENOAUTH'], { retryable: false, channelWide: true, reason: 'the mail server requires a login: put user:password in SMTP_URL' }),
  SENDER_REFUSED: { retryable: false, channelWide: true, reason: 'the mail server refused the sender: set MAIL_FROM to an address this SMTP account may send as' },
  ...each(['550', '551'], { retryable: false, reason: 'the mail server refused this recipient' }),
  ...each(['553', '501'], { retryable: false, reason: 'the mail server refused this address' }),
  '552': { retryable: false, reason: 'the mailbox is full or the message is too large' },
  '554': { retryable: false, reason: 'the mail server rejected the message' },
  '421': { retryable: true, reason: 'the mail server is unavailable for now and closed the connection' },
  '450': { retryable: true, reason: 'the mailbox is unavailable for now' },
  '451': { retryable: true, reason: 'the mail server had a temporary failure' },
  '452': { retryable: true, reason: 'the mail server is out of storage for now' },
  ETLS: { retryable: false, channelWide: true, reason: 'TLS with the mail server failed: check smtp:// (port 587) or smtps:// (port 465) in SMTP_URL' },
  ...each(['ESOCKET', 'ECONNECTION'], { retryable: true, reason: `the connection to the mail server {server} was lost before it confirmed; ${MAYBE_DELIVERED}`, outcomeUnknown: true }),
  ETIMEDOUT: { retryable: true, reason: `no answer from the mail server {server} within the time limit; ${MAYBE_DELIVERED}`, outcomeUnknown: true },
  EABORT: { retryable: true, reason: `no answer from the mail server within the time limit; ${MAYBE_DELIVERED}`, outcomeUnknown: true },
};

const emailColumn: AddressColumn = {
  name: 'email',
  example: 'sample@example.com',
  parse(raw) {
    const address = raw.toLowerCase();
    return EMAIL.test(address) ? { value: address } : `email "${address}" is not a valid address.`;
  },
};

export const email: Channel = {
  name: 'email',
  summary: 'email over SMTP',
  columns: [emailColumn],
  subject: true,
  html: true,
  byDefault: 'always',
  defaults: { concurrency: MAX_CONNECTIONS, connectMs: 80 },
  env: [
    { name: 'SMTP_URL', secret: true, url: { schemes: ['smtp', 'smtps'], example: 'smtp://user:pass@host:587' }, description: 'mail server, e.g. smtp://user:pass@host:587 (STARTTLS) or smtps://…:465' },
    { name: 'MAIL_FROM', description: 'sender address of the emails' },
    { name: 'IMAP_URL', secret: true, url: { schemes: ['imap', 'imaps'], example: 'imaps://user:pass@host:993' }, description: 'optional, for roll calls: the mailbox replies arrive in, e.g. imaps://user:pass@host:993' },
  ],

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

  missingConfig: (settings) => unsetVariables(settings, ['SMTP_URL', 'MAIL_FROM']),

  async connect(settings: ChannelSettings) {
    const { SMTP_URL: url, MAIL_FROM: from } = settings.env;
    if (!url || !from) throw new UserError('Email is not configured: set SMTP_URL and MAIL_FROM.');
    const server = serverOptions(url);
    const where = `${server.host}:${server.port}`;
    const secrets = secretForms(server.auth);
    const { createTransport } = await import('nodemailer');
    const transport = createTransport({
      ...server,
      pool: true,
      maxConnections: MAX_CONNECTIONS,
      maxMessages: MAX_MESSAGES_PER_CONNECTION,
      // Hidden retry: by default the pool re-sends a message whose connection closed, up to
      // 5 times. The dispatcher owns retries and the journal, so every send is one attempt.
      maxRequeues: 0,
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
        let onAbort = () => {};
        const aborted = new Promise<never>((_, reject) => (onAbort = () => reject(signal.reason)));
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await Promise.race([transport.verify(), aborted]);
        } catch (err) {
          if (signal.aborted) throw new RetryableError(`no answer from the mail server ${where} within the time limit`, 'EABORT');
          throw fail(err);
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      },
      ...(settings.env.IMAP_URL && { poll: (request, signal) => pollMailbox(settings.env.IMAP_URL!, request, signal) }),
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
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new UserError('SMTP_URL has a stray % in its user name or password: write it as %25.');
    }
  };
  const user = decode(url.username);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: user ? { user, pass: decode(url.password) } : undefined,
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
  const senderRefused = e.command === 'MAIL FROM' && e.permanent === true ? 'SENDER_REFUSED' : undefined;
  const keys = [e.originalCode, e.timeoutType, senderRefused, e.responseCode?.toString(), e.code];
  const key = keys.find((k): k is string => k !== undefined && k in SMTP_ERRORS);
  const rule: Rule = key
    ? SMTP_ERRORS[key]!
    : e.permanent === true
      ? { retryable: false, reason: 'the mail server refused the message' }
      : { retryable: true, reason: `unexpected failure talking to the mail server {server} (${e.code ?? 'no error code'})`, outcomeUnknown: true };
  const said = e.response ? ` (the server said: ${scrub(e.response, secrets)})` : '';
  const reason = rule.reason.replace('{server}', server) + said;
  const code = key ?? e.code;
  return rule.retryable ? new RetryableError(reason, code, undefined, rule.outcomeUnknown ?? false) : new PermanentError(reason, code, rule.channelWide);
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
