/**
 * Email replies read from a real IMAP server (dovecot, started by the test) through the
 * email channel's poll: matched by In-Reply-To/References to our Message-ID, else by
 * sender; quoted text cut off; the cursor makes the next poll read only newer mail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { email, messageIdFor } from '../../src/channels/email.js';
import { newText } from '../../src/channels/email-replies.js';
import { imapAvailable, replyMail, startImapServer, type ImapServer } from '../fakes/imap.js';

let imap: ImapServer;
beforeAll(async () => {
  if (imapAvailable) imap = await startImapServer();
});
afterAll(async () => imap?.close());

describe.skipIf(!imapAvailable)('email replies over IMAP (dovecot)', () => {
  it('reads replies since the run, matched by In-Reply-To or sender, quotes stripped, and moves its cursor', async () => {
    const since = new Date(Date.now() - 60_000);
    const ours = messageIdFor('d-alice');
    await imap.deliver(replyMail({ from: 'Alice <alice@example.com>', inReplyTo: ours, id: 'r1', body: '1 =C3=A7a va\r\n\r\nLe lun. 30 nov. 2026 =C3=A0 10:02, Crisis <crisis@example.com> a =C3=A9crit :\r\n> R=C3=A9pondez 1 ou 2' }));
    await imap.deliver(replyMail({ from: 'grace@example.com', id: 'r2', body: '2\r\n> quoted' }));
    await imap.deliver(replyMail({ from: 'old@example.com', id: 'r0', body: '1', date: new Date(Date.now() - 3_600_000) }));
    const transport = await email.connect({ env: { SMTP_URL: 'smtp://127.0.0.1:1', MAIL_FROM: 'crisis@example.com', IMAP_URL: imap.url } });
    const sent = [{ deliveryId: 'd-alice', to: 'alice@example.com', providerId: ours }];
    const first = await transport.poll!({ since, sent, receipts: true }, AbortSignal.timeout(15_000));
    expect(first.replies.map((r) => [r.from, r.text, r.deliveryId])).toEqual([
      ['alice@example.com', '1 ça va', 'd-alice'],
      ['grace@example.com', '2', undefined],
    ]);
    expect(first.cursor).toMatch(/^\d+:3$/);
    const again = await transport.poll!({ since, sent, receipts: true, cursor: first.cursor! }, AbortSignal.timeout(15_000));
    expect(again.replies).toEqual([]);
    await transport.close();
  });
});

describe('newText', () => {
  it('keeps what is above an Outlook header', () => expect(newText('2\nmerci\n-----Original Message-----\nFrom: x')).toBe('2\nmerci'));
  it('keeps what is above an English quote header', () => expect(newText('1\n\nOn Mon, 30 Nov 2026, Crisis wrote:\n> Reply 1')).toBe('1'));
});
