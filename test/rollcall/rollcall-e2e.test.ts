/**
 * The roll call end to end, with the real SDKs against the loopback fakes: a drill is sent,
 * people answer where they naturally would (SMS, Telegram, a Slack thread, an email reply),
 * and `notify rollcall --json` shows exactly those answers — the unrecognised one verbatim,
 * the STOP as an opt-out, everyone else silent — and a second poll adds nothing.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';
import { imapAvailable, replyMail, startImapServer, type ImapServer } from '../fakes/imap.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
let imap: ImapServer;
beforeAll(async () => {
  [fakes, imap] = await Promise.all([startAllFakes(), startImapServer()]);
});
afterAll(() => Promise.all([fakes.close(), imap.close()]));

const FAST = ['--rate', 'all=off', '--concurrency', 'all=8'];
export const CONTACTS = `name,role,groups,phone,email,slack,telegram,locale,escalate_to
Alice Martin,lead,staff|crisis-team,+33639980101,alice@example.com,,,fr,
Bruno Petit,dev,staff|crisis-team,,,,1002,fr,
Chloé Durand,ops,staff|crisis-team,,,U0CHLOE,,fr,
Dave Roux,ops,staff|crisis-team,,dave@example.com,,,fr,
Eve Moreau,ops,staff|crisis-team,+33639980105,,,,fr,Alice Martin
Frank Weber,ops,staff|crisis-team,+33639980106,,,,en,
Grace Hall,ops,staff|crisis-team,,grace@example.com,,,en,Alice Martin
Henri Blanc,ops,staff|crisis-team,+33639980108,,,1008,fr,Alice Martin
`;

export function journal(cwd: string) {
  const dir = join(cwd, '.notify/runs');
  const file = readdirSync(dir).filter((f) => f.endsWith('.jsonl'))[0]!;
  return readFileSync(join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe.skipIf(!imapAvailable)('notify rollcall against the fakes (and dovecot for email)', () => {
  it('tallies SMS, Telegram and Slack answers, shows the unrecognised reply and the opt-out, and a second poll adds nothing', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), CONTACTS);
    const env = baseEnv({ ...fakes.env, IMAP_URL: imap.url });
    const sent = await runCli(['drill', '--yes', ...FAST], { cwd, env });
    expect(sent.stderr).not.toMatch(/failed/i);
    expect(sent.code).toBe(0);

    fakes.sms.reply('+33639980101', '1');
    fakes.telegram.userMessage('1002', '2 je suis bloqué', { asReply: true });
    fakes.slack.threadReply('U0CHLOE', 'U0CHLOE', '1 ok');
    const daveMail = journal(cwd).find((e) => e.kind === 'delivered' && e.receipt.providerId.includes('@crisis-notify') && journal(cwd).some((p) => p.kind === 'planned' && p.id === e.id && p.contact.name === 'Dave Roux'));
    await imap.deliver(replyMail({ from: 'Dave Roux <dave@example.com>', inReplyTo: daveMail.receipt.providerId, id: 'dave-1', body: '1\r\n\r\nLe lun. 30 nov. 2026, crisis@example.com a =C3=A9crit :\r\n> R=C3=A9pondez 1 si vous =C3=AAtes en s=C3=A9curit=C3=A9' }));
    fakes.sms.reply('+33639980105', '?');
    fakes.sms.reply('+33639980106', 'STOP');

    const first = await runCli(['rollcall', '--json'], { cwd, env });
    expect(first.code).toBe(1); // some are silent
    const tally = JSON.parse(first.stdout);
    const by = Object.fromEntries(tally.people.map((p: { name: string }) => [p.name, p]));
    expect(by['Alice Martin']).toMatchObject({ status: 'answered', answer: '1', via: 'sms' });
    expect(by['Bruno Petit']).toMatchObject({ status: 'answered', answer: '2', via: 'telegram' });
    expect(by['Chloé Durand']).toMatchObject({ status: 'answered', answer: '1', via: 'slack' });
    expect(by['Dave Roux']).toMatchObject({ status: 'answered', answer: '1', via: 'email' });
    expect(by['Eve Moreau']).toMatchObject({ status: 'silent', answer: null, unrecognised: ['?'] });
    expect(by['Frank Weber']).toMatchObject({ status: 'silent', optedOut: true });
    expect(by['Grace Hall']).toMatchObject({ status: 'silent' });
    expect(by['Henri Blanc']).toMatchObject({ status: 'silent', unrecognised: [] });
    expect(tally.counts).toMatchObject({ 1: 3, 2: 1, silent: 4, unreachable: 0, unrecognised: 1, optedOut: 1 });
    expect(first.stderr).toContain('replied "?" (not an answer)');
    expect(readFileSync(join(cwd, '.notify/suppressions.csv'), 'utf8')).toMatch(/^channel,address,when,run\nsms,\+33639980106,/);

    const replies = journal(cwd).filter((e) => e.kind === 'reply');
    expect(replies).toHaveLength(6);
    const second = await runCli(['rollcall', '--json'], { cwd, env });
    expect(JSON.parse(second.stdout)).toEqual(tally);
    expect(journal(cwd).filter((e) => e.kind === 'reply')).toHaveLength(6);
    // Telegram: the second poll confirmed the first poll's updates with the recorded offset.
    expect(fakes.telegram.offsets.at(-1)).toBe(Number(replies.find((r) => r.channel === 'telegram').cursor));

    // The STOP is honoured by later plans (listed), except by a safety roll call that says so.
    const outage = await runCli(['outage', '--dry-run', '--var', 'eta=15:00', '--json'], { cwd, env });
    expect(outage.stderr).toMatch(/Frank Weber: skipped sms \+33639980106 .*suppressions\.csv/);
    const outageRun = JSON.parse(outage.stdout).runId;
    const planned = readFileSync(join(cwd, '.notify/runs', `${outageRun}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.kind === 'planned');
    expect(planned.some((e) => e.contact.name === 'Eve Moreau' && e.channel === 'sms')).toBe(true);
    expect(planned.some((e) => e.contact.name === 'Frank Weber' && e.channel === 'sms')).toBe(false);
    const drill = await runCli(['drill', '--dry-run'], { cwd, env });
    expect(drill.stderr).toMatch(/Frank Weber: sms \+33639980106 .*still receives this scenario \(ignore_suppressions: true\)/);
    const check = await runCli(['contacts', 'check', '--json'], { cwd, env });
    expect(JSON.parse(check.stdout).suppressed).toEqual([expect.objectContaining({ message: expect.stringContaining('Frank Weber') })]);
  });
});
