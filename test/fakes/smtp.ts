/**
 * A loopback SMTP sink built on smtp-server: checks the login, records each accepted message
 * (decoded from nodemailer's MIME output) and plays scripted faults per send or per recipient.
 *
 * | fault                      | what the server does                                |
 * |----------------------------|-----------------------------------------------------|
 * | permanent                  | 550 5.1.1 on RCPT TO                                |
 * | temporary                  | 451 after the message data                          |
 * | server-error, rate-limit   | 421 on RCPT TO, then closes the connection          |
 * | reset                      | destroys the socket after the message data          |
 * | hang                       | takes the message data and never answers            |
 *
 * Like a real submission server, it accepts only MAIL_FROM as the sender (553 otherwise).
 * Its gate holds the final reply to DATA of accepted messages (see gate.ts).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { createGate } from './gate.js';
import type { Fault } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';

const USER = 'crisis-bot';
const SENDER = 'crisis@example.com';

export async function startSmtpFake(): Promise<ProviderFake> {
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const messages: Received[] = [];
  const queued: Fault[] = [];
  const byAddress = new Map<string, Fault>();
  /** The fault chosen for the transaction in progress on each connection. */
  const current = new Map<string, Fault | undefined>();
  /** Sockets by client port, so a fault can cut the connection the session runs on. */
  const sockets = new Map<number, Socket>();
  let attempts = 0;
  const gate = createGate();

  const smtpError = (responseCode: number, message: string) => Object.assign(new Error(message), { responseCode });
  const socketOf = (session: SMTPServerSession) => sockets.get(session.remotePort);
  /** Settles when the client's connection closes: a held or hung reply is then no longer awaited. */
  const closed = new WeakMap<Socket, Promise<void>>();
  const goneOf = (session: SMTPServerSession) => () => {
    const socket = socketOf(session);
    if (!socket || socket.destroyed) return Promise.resolve();
    let gone = closed.get(socket); // one listener per connection, however many messages it carries
    if (!gone) closed.set(socket, (gone = new Promise<void>((resolve) => socket.once('close', () => resolve()))));
    return gone;
  };

  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    // The built-in test certificate is expired: a plain-text sink is what nodemailer can talk to.
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === password) return callback(null, { user: USER });
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onMailFrom(address, session, callback) {
      current.delete(session.id);
      // Like a real submission server: the account may only send as its own address.
      if (address.address !== SENDER) return callback(smtpError(553, '5.7.1 sender address not allowed for this account'));
      callback();
    },
    onRcptTo(address, session, callback) {
      attempts++;
      gate.changed();
      const fault = byAddress.get(address.address) ?? queued.shift();
      current.set(session.id, fault);
      if (fault?.kind === 'permanent') return callback(smtpError(550, '5.1.1 unknown recipient'));
      if (fault?.kind === 'server-error' || fault?.kind === 'rate-limit') {
        return callback(smtpError(421, '4.3.2 service not available, closing channel'));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        if (fake.latencyMs > 0) await new Promise((r) => setTimeout(r, fake.latencyMs));
        const fault = current.get(session.id);
        if (fault?.kind === 'hang') return gate.hang(goneOf(session)); // never answer; close() destroys the socket
        if (fault?.kind === 'reset') return socketOf(session)?.destroy();
        if (fault?.kind === 'temporary') return callback(smtpError(451, '4.3.0 temporary failure, try again later'));
        // The last CRLF ends the DATA line, not the message (nodemailer adds one when missing).
        const parsed = parseMessage(Buffer.concat(chunks).toString('latin1').replace(/\r\n$/, ''));
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address).join(', '),
          subject: parsed.headers.subject,
          text: parsed.text ?? '',
          html: parsed.html,
          idempotencyKey: parsed.headers['message-id'],
        });
        const queuedAs = `2.0.0 queued as fake-${messages.length}`;
        // Accepted on arrival, like the HTTP fakes: a held message reached the server, only the reply is late.
        await gate.pass(goneOf(session));
        callback(null, queuedAs);
      });
    },
  });
  server.on('error', () => {}); // clients that reset mid-session are part of the script
  server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort!;
    sockets.set(port, socket);
    socket.on('close', () => sockets.delete(port));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const fake: ProviderFake = {
    env: { SMTP_URL: `smtp://${USER}:${password}@127.0.0.1:${port}`, MAIL_FROM: SENDER },
    messages,
    sendAttempts: () => attempts,
    fail: (...faults) => queued.push(...faults),
    failFor: (address, fault) => byAddress.set(address, fault),
    latencyMs: 0,
    hold: gate.hold,
    release: gate.release,
    held: gate.held,
    until: gate.until,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.values()) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return fake;
}

interface Parsed {
  headers: Record<string, string>;
  text?: string;
  html?: string;
}

/**
 * Just enough MIME for what nodemailer writes: folded headers, encoded-word subjects,
 * multipart/alternative (and mixed) bodies, quoted-printable / base64 / 7bit parts.
 * `raw` is latin1 (one char per byte) so decoded bytes can be read back as UTF-8.
 */
export function parseMessage(raw: string, out: Parsed = { headers: {} }): Parsed {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  if (Object.keys(out.headers).length === 0) out.headers = headers;

  const type = (headers['content-type'] ?? 'text/plain').toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`).slice(1, -1); // before the first and after the closing delimiter: preamble, epilogue
    for (const part of parts) parseMessage(part.replace(/^\r?\n/, '').replace(/\r?\n$/, ''), out);
    return out;
  }
  const charset = /charset="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1] ?? 'utf-8';
  const decoded = new TextDecoder(charset).decode(decodeBody(body, headers['content-transfer-encoding'])).replace(/\r\n/g, '\n');
  if (type.startsWith('text/html')) out.html ??= decoded;
  else if (type.startsWith('text/plain')) out.text ??= decoded;
  return out;
}

function decodeBody(body: string, encoding = '7bit'): Buffer {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return qpBytes(body.replace(/=\r?\n/g, ''));
    default:
      return Buffer.from(body, 'latin1');
  }
}

function qpBytes(text: string): Buffer {
  return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
}

/** `=?UTF-8?Q?Coupure_r=C3=A9seau?=` → `Coupure réseau`; adjacent words are joined before decoding. */
function decodeWords(value: string): string {
  const word = /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g;
  return value.replace(/=\?[^?]+\?[QqBb]\?[^?]*\?=(?:\s+=\?[^?]+\?[QqBb]\?[^?]*\?=)*/g, (run) => {
    let charset = 'utf-8';
    const bytes = [...run.matchAll(word)].map(([, cs, enc, data]) => {
      charset = cs!.replace(/\*.*$/, ''); // drop an RFC 2231 language suffix
      return enc!.toUpperCase() === 'B' ? Buffer.from(data!, 'base64') : qpBytes(data!.replace(/_/g, ' '));
    });
    return new TextDecoder(charset).decode(Buffer.concat(bytes));
  });
}
