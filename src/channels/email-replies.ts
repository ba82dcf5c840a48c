/**
 * Email replies for roll calls, read over IMAP (imapflow, loaded here only) from the mailbox
 * named by IMAP_URL. A reply is matched to our message by In-Reply-To/References (our
 * Message-ID carries the delivery id), else by its sender; only the new text counts — the
 * quoted original below it is cut off. The cursor is `UIDVALIDITY:last UID`, so a poll
 * reads only mail that arrived since the previous one.
 */
import type { InboundReply, PollRequest, PollResult } from '../core/channel.js';
import { PermanentError, RetryableError } from '../core/delivery-errors.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** Mails read per poll at most: a busy shared mailbox must not stall a roll call. */
const MAX_MAILS_PER_POLL = 500;

/** imap://user:pass@host:143 (STARTTLS when offered) or imaps://…:993 → imapflow options. */
function imapOptions(raw: string) {
  const url = new URL(raw);
  const secure = url.protocol === 'imaps:';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 993 : 143,
    secure,
    auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
    mailbox: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'INBOX',
  };
}

export async function pollMailbox(imapUrl: string, request: PollRequest, signal: AbortSignal): Promise<PollResult> {
  const { mailbox, ...server } = imapOptions(imapUrl);
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({ ...server, logger: false, connectionTimeout: CONNECT_TIMEOUT_MS, greetingTimeout: CONNECT_TIMEOUT_MS });
  client.on('error', () => {}); // a dropped connection surfaces as the failed call below
  const abort = () => void client.close();
  signal.addEventListener('abort', abort, { once: true });
  try {
    await client.connect();
  } catch (error) {
    const e = error as { authenticationFailed?: boolean; code?: string; message?: string };
    if (e.authenticationFailed) throw new PermanentError('the mail server refused the login in IMAP_URL: check its user name and password', 'imap-auth', true);
    throw new RetryableError(`cannot read replies: the IMAP server ${server.host}:${server.port} from IMAP_URL cannot be reached (${e.code ?? e.message})`, e.code ?? 'imap');
  }
  try {
    const box = await client.mailboxOpen(mailbox, { readOnly: true });
    const validity = String(box.uidValidity);
    const [cursorValidity, cursorUid] = (request.cursor ?? '').split(':');
    const fromUid = cursorValidity === validity ? Number(cursorUid) + 1 : 1;
    const ours = new Map(request.sent.map((m) => [m.providerId.replace(/^<|>$/g, '').toLowerCase(), m.deliveryId]));
    const uids = ((await client.search({ uid: `${fromUid}:*`, since: new Date(request.since.getTime() - 86_400_000) }, { uid: true })) || [])
      .filter((uid) => uid >= fromUid).slice(0, MAX_MAILS_PER_POLL);
    const replies: InboundReply[] = [];
    let lastUid = fromUid - 1;
    for (const uid of uids) {
      lastUid = Math.max(lastUid, uid);
      const mail = await client.fetchOne(String(uid), { envelope: true, bodyStructure: true, headers: ['references'], internalDate: true }, { uid: true });
      if (!mail || !mail.envelope) continue;
      const at = new Date(mail.envelope.date ?? mail.internalDate ?? Date.now());
      if (at.getTime() < request.since.getTime() - 1000) continue; // a Date header has whole seconds
      const references = `${mail.envelope.inReplyTo ?? ''} ${mail.headers?.toString('utf8') ?? ''}`.match(/<[^<>\s]+>/g) ?? [];
      const deliveryId = references.map((r) => ours.get(r.slice(1, -1).toLowerCase())).find(Boolean);
      const part = textPart(mail.bodyStructure);
      let text = '';
      if (part !== undefined) {
        const download = await client.download(String(uid), part, { uid: true });
        if (download && 'content' in download && download.content) {
          const chunks: Buffer[] = [];
          for await (const chunk of download.content) chunks.push(chunk as Buffer);
          text = newText(Buffer.concat(chunks).toString('utf8'));
        }
      }
      replies.push({
        providerId: mail.envelope.messageId ?? `uid:${validity}:${uid}`,
        from: (mail.envelope.from?.[0]?.address ?? '').toLowerCase(), text, at: at.toISOString(),
        ...(deliveryId && { deliveryId }),
      });
    }
    return { replies, receipts: [], cursor: `${validity}:${Math.max(lastUid, fromUid - 1)}` };
  } finally {
    signal.removeEventListener('abort', abort);
    await client.logout().catch(() => client.close());
  }
}

interface Structure {
  type?: string;
  part?: string;
  childNodes?: Structure[];
}

/** The first text/plain part ("1" for a one-part mail: imapflow names it TEXT then). */
function textPart(node: Structure | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'text/plain') return node.part ?? '1';
  for (const child of node.childNodes ?? []) {
    const found = textPart(child);
    if (found) return found;
  }
  return undefined;
}

/**
 * The new text of a reply: everything above the quoted original.
 *
 * | a line like                                   | means                  |
 * |-----------------------------------------------|------------------------|
 * | `> …`                                         | quoted: stop           |
 * | `On Mon, … wrote:` / `Le lun. … a écrit :`    | quote header: stop     |
 * | `-----Original Message-----`, `De : …`, `From: …` | Outlook header: stop |
 */
export function newText(body: string): string {
  const lines = body.replace(/\r\n/g, '\n').split('\n');
  const kept: string[] = [];
  for (const line of lines) {
    if (/^\s*>/.test(line) || /^\s*(On .+ wrote|Le .+ a écrit)\s*:?\s*$/i.test(line) || /^-{2,}\s*(Original Message|Message d'origine)/i.test(line) || /^(From|De)\s?:/.test(line)) break;
    kept.push(line);
  }
  return kept.join('\n').trim();
}
