/**
 * Each channel's poll against its fake, through the real SDK: Twilio list paging and
 * carrier codes, Telegram's offset and its 409 with a webhook set, Slack thread replies
 * and reactions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slack } from '../../src/channels/slack.js';
import { sms } from '../../src/channels/sms.js';
import { telegram } from '../../src/channels/telegram.js';
import { startSlackFake } from '../fakes/slack.js';
import { startTelegramFake } from '../fakes/telegram.js';
import { startTwilioFake } from '../fakes/twilio.js';

let twilio: Awaited<ReturnType<typeof startTwilioFake>>;
let tg: Awaited<ReturnType<typeof startTelegramFake>>;
let sl: Awaited<ReturnType<typeof startSlackFake>>;
beforeAll(async () => {
  [twilio, tg, sl] = await Promise.all([startTwilioFake(), startTelegramFake(), startSlackFake()]);
});
afterAll(() => Promise.all([twilio.close(), tg.close(), sl.close()]));

const signal = () => AbortSignal.timeout(20_000);
const since = () => new Date(Date.now() - 5_000);

describe('SMS poll (Twilio Messages list)', () => {
  it('follows next_page_uri through every page and explains carrier codes', async () => {
    const t = await sms.connect({ env: twilio.env });
    const receipt = await t.send({ deliveryId: 'd1', channel: 'sms', to: '+33639980101', text: 'Répondez 1' }, signal());
    twilio.setStatus('+33639980101', 'undelivered', 30005);
    for (let i = 0; i < 1200; i += 1) twilio.reply(`+3363998${String(i).padStart(4, '0')}`, i % 2 ? '1' : '2');
    const listsBefore = twilio.listRequests();
    const result = await t.poll!({ since: since(), sent: [{ deliveryId: 'd1', to: '+33639980101', providerId: receipt.providerId }], receipts: true }, signal());
    expect(twilio.listRequests() - listsBefore).toBe(2); // 1,201 messages, 1,000 a page
    expect(result.replies).toHaveLength(1200);
    expect(result.receipts).toEqual([{ deliveryId: 'd1', status: 'undelivered', code: '30005', reason: 'undelivered after it was accepted: the number is unknown to the carrier (it may no longer exist)' }]);
    await t.close();
  });
});

describe('Telegram poll (getUpdates)', () => {
  it('reads from the cursor, links a reply to our message, and explains a webhook', async () => {
    const t = await telegram.connect({ env: tg.env });
    const sent = await t.send({ deliveryId: 'd2', channel: 'telegram', to: '4242', text: 'Répondez 1' }, signal());
    tg.userMessage('4242', '1', { asReply: true });
    const first = await t.poll!({ since: since(), sent: [{ deliveryId: 'd2', to: '4242', providerId: sent.providerId }], receipts: false }, signal());
    expect(first.replies).toEqual([expect.objectContaining({ from: '4242', text: '1', deliveryId: 'd2' })]);
    const again = await t.poll!({ since: since(), sent: [], receipts: false, cursor: first.cursor! }, signal());
    expect(again.replies).toEqual([]); // confirmed by the offset: gone from the queue
    tg.webhook = true;
    const blocked = await t.poll!({ since: since(), sent: [], receipts: false }, signal());
    expect(blocked.problem).toMatch(/webhook set.*deleteWebhook/);
    tg.webhook = false;
  });
});

describe('Slack poll (conversations.replies, reactions.get)', () => {
  it('reads thread replies and reactions on our message, not our own message', async () => {
    const t = await slack.connect({ env: sl.env });
    const sent = await t.send({ deliveryId: 'd3', channel: 'slack', to: 'U0ALICE', text: 'Reply 1 or 2' }, signal());
    sl.threadReply('U0ALICE', 'U0ALICE', '2 help');
    sl.react('U0ALICE', 'U0ALICE', 'white_check_mark');
    const result = await t.poll!({ since: since(), sent: [{ deliveryId: 'd3', to: 'U0ALICE', providerId: sent.providerId }], receipts: false }, signal());
    expect(result.replies.map((r) => [r.from, r.text, r.reaction ?? false, r.deliveryId])).toEqual([
      ['U0ALICE', '2 help', false, 'd3'],
      ['U0ALICE', 'white_check_mark', true, 'd3'],
    ]);
  });
});
