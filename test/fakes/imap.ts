/**
 * A real IMAP server for tests: Debian's dovecot-imapd (installed by .ci/run), started on
 * 127.0.0.1 with a throw-away configuration, one test user and an empty maildir, all in a
 * temporary folder. Mail is delivered with IMAP APPEND (imapflow), as a mail client would
 * file it. `available` is false when dovecot is not installed: the caller skips, saying so.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

const DOVECOT = '/usr/sbin/dovecot';
export const imapAvailable = existsSync(DOVECOT);

export interface ImapServer {
  /** IMAP_URL for the test user. */
  url: string;
  /** File a raw RFC 5322 message in the user's INBOX. */
  deliver(raw: string): Promise<void>;
  close(): Promise<void>;
}

/** A free port on 127.0.0.1 (dovecot takes no port 0, so one is found first). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startImapServer(): Promise<ImapServer> {
  const dir = mkdtempSync(join(tmpdir(), 'notify-imap-'));
  chmodSync(dir, 0o755); // dovecot's auth and login processes run as its own users
  const port = await freePort();
  const user = 'crisis';
  const password = `pw-${randomBytes(6).toString('hex')}`;
  // Dovecot refuses to hand a mailbox to root: as root, the mail belongs to nobody.
  const uid = userInfo().uid === 0 ? 65534 : userInfo().uid;
  const gid = userInfo().uid === 0 ? 65534 : userInfo().gid;
  for (const sub of ['run', 'state', 'mail', 'home']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`);
  if (userInfo().uid === 0) for (const sub of ['mail', 'home']) chownSync(join(dir, sub), uid, gid);
  const self = userInfo().username;
  writeFileSync(join(dir, 'dovecot.conf'), `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
${userInfo().uid === 0 ? '' : `default_internal_user = ${self}\ndefault_login_user = ${self}\n`}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`);
  // In the foreground (-F): the child is the master, so close() stops exactly what was started.
  const master = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  master.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => master.once('exit', () => resolve()));
  master.once('exit', (code) => {
    if (code) process.stderr.write(`dovecot exited with ${code}: ${stderr}\n`);
  });
  const url = `imap://${user}:${password}@127.0.0.1:${port}/INBOX`;
  await waitForGreeting(port);
  return {
    url,
    async deliver(raw) {
      const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: password }, logger: false });
      await client.connect();
      await client.append('INBOX', raw);
      await client.logout();
    },
    async close() {
      master.kill('SIGTERM'); // the master this helper started
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForGreeting(port: number): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.setTimeout(2000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('data', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dovecot did not answer on port ${port}`);
}

/** A reply as a mail client files it: plain text, quoted-printable, threaded to `inReplyTo`. */
export const replyMail = (o: { from: string; inReplyTo?: string; body: string; id: string; date?: Date }): string => [
  `From: ${o.from}`, 'To: crisis@example.com', `Subject: Re: exercise`, `Date: ${(o.date ?? new Date()).toUTCString()}`, `Message-ID: <${o.id}@mail.example>`,
  ...(o.inReplyTo ? [`In-Reply-To: ${o.inReplyTo}`, `References: <other@example> ${o.inReplyTo}`] : []),
  'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', o.body,
].join('\r\n');
