/**
 * What only Teams has: the Adaptive Card envelope and the text → card mapping, markdown
 * escaping, the 28 KB check, the webhook URL rules (https, sig=, never shown) and a verify()
 * that posts nothing. Faults shared by every channel live in test/contract.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeCardMarkdown, teams, toCard } from '../../src/channels/teams.js';
import type { Transport } from '../../src/core/channel.js';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Rendered } from '../../src/core/types.js';
import { loadConfig } from '../../src/config.js';
import { rejection } from '../helpers/channel.js';
import { startTeamsFake, TEAMS_TARGET } from '../fakes/teams.js';

const cwd = mkdtempSync(join(tmpdir(), 'notify-teams-'));
const rendered = (text: string): Rendered => ({ deliveryId: randomUUID(), channel: 'teams', to: TEAMS_TARGET, text });
const noLimit = () => new AbortController().signal;
const shown = (markdown: string) => markdown.replace(/\\([\\*_~`[\]()])/g, '$1');

let fake: Awaited<ReturnType<typeof startTeamsFake>>;
let transport: Transport;
const connect = (env: Record<string, string>) => teams.connect(loadConfig({ ...env }, cwd));

beforeAll(async () => {
  fake = await startTeamsFake();
  transport = await connect(fake.env);
});
afterAll(async () => {
  await transport?.close();
  await fake?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('teams: the card', () => {
  it('posts the Workflows envelope: one Adaptive Card 1.4, title, lines, paragraphs and the status-page button', async () => {
    const text = '⚠️ WhatsApp is down\nReach us here:\n- Phone: +33 1 99 00 12 34\n\n_Exemple SARL_\n[Status page](https://status.example.com/incident_42)';
    const receipt = await transport.send(rendered(text), noLimit());
    expect(receipt.providerId).toMatch(/^0858/); // the run id Logic Apps puts in x-ms-workflow-run-id
    const request = fake.http.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    const payload = JSON.parse(request.raw);
    expect(payload).toEqual({
      type: 'message',
      attachments: [{
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: '⚠️ WhatsApp is down', wrap: true, weight: 'Bolder', size: 'Medium' },
            { type: 'TextBlock', text: 'Reach us here:', wrap: true },
            { type: 'TextBlock', text: '- Phone: +33 1 99 00 12 34', wrap: true },
            { type: 'TextBlock', text: '_Exemple SARL_', wrap: true, spacing: 'Medium' },
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Status page', url: 'https://status.example.com/incident_42' }],
        },
      }],
    });
    expect(fake.messages.at(-1)!.to).toBe(TEAMS_TARGET);
  });

  it.each([
    ['no link line, no actions', 'Title\nbody', undefined],
    ['a link inside a sentence stays text', 'Title\nSee [the page](https://s.example) now', undefined],
    ['escaped values in the button are unescaped', 'Title\n[Status \\*page\\*](https://s.example/a\\_b)', [{ type: 'Action.OpenUrl', title: 'Status *page*', url: 'https://s.example/a_b' }]],
  ] as const)('%s', (_, text, actions) => {
    expect(toCard(text).actions).toEqual(actions);
  });

  it.each([
    ['*_~', '\\*\\_\\~'],
    ['[x](https://evil.example)', '\\[x\\](https://evil.example)'],
    ['a\\b `code`', 'a\\\\b \\`code\\`'],
    ['line one\n- line two\r\n# three', 'line one - line two # three'],
    ['<b>Tom & Jerry</b> @everyone', '<b>Tom & Jerry</b> @everyone'],
  ])('escapes %j for TextBlock markdown', (value, escaped) => {
    expect(escapeCardMarkdown(value)).toBe(escaped);
  });

  it('hostile values go out as escaped markdown and read literally, each in its own line of the card', async () => {
    const values = ['<b>Tom & Jerry</b>', '*_~', '@channel @everyone', '🚨 é', 'مرحبا بالعالم', '[click](https://evil.example)'];
    const text = `Alert\n${values.map((v) => `Name: ${escapeCardMarkdown(v)}`).join('\n')}`;
    await transport.send(rendered(text), noLimit());
    const card = fake.messages.at(-1)!.card;
    expect(card.body.slice(1).map((b) => shown(b.text!))).toEqual(values.map((v) => `Name: ${v}`));
    expect(card.actions).toBeUndefined(); // the link in a value is text, not a button
  });
});

describe('teams: check()', () => {
  it('a card above ~28 KB is a plan problem', () => {
    const problems = teams.check(rendered(`Title\n${'x'.repeat(29_000)}`), { maxSmsSegments: 3 });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/Teams card is 29,\d{3} bytes but Teams accepts about 28,000; shorten the template/);
    expect(teams.check(rendered('Title\nshort'), { maxSmsSegments: 3 })).toEqual([]);
  });

  it('a button whose link is not a web address is a plan problem', () => {
    const [problem] = teams.check(rendered('Title\n[Status page](status.example.com)'), { maxSmsSegments: 3 });
    expect(problem!.message).toMatch(/button "Status page".*not an http\(s\) address/);
  });

  it('the broadcast target is a label, never the URL', () => {
    const settings = loadConfig({ ...fake.env }, cwd);
    expect(teams.broadcastAddress!(settings)).toBe('teams (TEAMS_WEBHOOK_URL)');
    expect(teams.missingConfig(settings)).toEqual([]);
    expect(teams.missingConfig(loadConfig({}, cwd))).toEqual(['TEAMS_WEBHOOK_URL']);
  });
});

describe('teams: provider answers', () => {
  it('a card the workflow refuses (400) → permanent, with Logic Apps\' code, for this message only', async () => {
    fake.http.queue({ status: 400, json: { error: { code: 'InvalidRequestContent', message: "Property 'type' must be 'AdaptiveCard'" } } });
    const err = await rejection(transport.send(rendered('Title\nbody'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/refused the card as malformed: check the Teams template \(Teams: InvalidRequestContent: Property 'type'/);
    expect((err as PermanentError).channelWide).toBe(false);
  });

  it('a deleted workflow (404) → permanent for the whole channel, naming TEAMS_WEBHOOK_URL', async () => {
    const gone = await connect({ TEAMS_WEBHOOK_URL: fake.env.TEAMS_WEBHOOK_URL!.replace(fake.workflowId, 'f'.repeat(32)) });
    const err = await rejection(gone.send(rendered('Title\nbody'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).channelWide).toBe(true);
    expect(err.message).toMatch(/no Teams workflow answers at TEAMS_WEBHOOK_URL.*create the webhook workflow again/);
  });

  it('413 → permanent, asking to shorten the template', async () => {
    fake.http.queue({ status: 413, json: { error: { code: 'RequestEntityTooLarge', message: 'too large' } } });
    const err = await rejection(transport.send(rendered('Title\nbody'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/shorten the Teams template/);
  });

  it('a gateway error (502, 504) → retryable with an unknown outcome; 500 and 503 did not post', async () => {
    fake.fail({ kind: 'server-error', status: 502 }, { kind: 'server-error', status: 500 });
    const gateway = await rejection(transport.send(rendered('Title\n502'), noLimit()));
    const server = await rejection(transport.send(rendered('Title\n500'), noLimit()));
    expect([gateway, server].map((e) => (e as RetryableError).outcomeUnknown)).toEqual([true, false]);
  });

  it('a redirect is not followed (the signed URL would travel elsewhere) → permanent', async () => {
    const before = fake.http.requests.length;
    fake.http.queue({ status: 307, json: {}, headers: { location: 'http://127.0.0.1:9/elsewhere' } });
    const err = await rejection(transport.send(rendered('Title\nbody'), noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/redirects the Teams webhook elsewhere/);
    expect(fake.http.requests.length).toBe(before + 1);
  });
});

describe('teams: TEAMS_WEBHOOK_URL', () => {
  it.each([
    ['plain http to a remote host', 'http://prod-00.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sv=1.0&sig=abc', /must start with https:\/\//],
    ['no signature', 'https://prod-00.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sv=1.0', /has no sig= parameter/],
  ])('%s is refused before anything is sent, without echoing the URL', async (_, url, reason) => {
    const err = await rejection(connect({ TEAMS_WEBHOOK_URL: url }));
    expect(err.message).toMatch(reason);
    expect(err.message).not.toContain('abc');
    expect(err.message).not.toContain('/workflows/');
  });

  it('never appears in an error, even an unexpected one', async () => {
    fake.fail({ kind: 'reset' });
    const err = await rejection(transport.send(rendered('Title\nreset'), noLimit()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).not.toContain(fake.sig);
    expect(err.message).not.toContain(fake.workflowId);
  });
});

describe('teams: verify()', () => {
  it('GETs the webhook: a live workflow refuses the method (405) and no card is posted', async () => {
    const [requests, sends, messages] = [fake.http.requests.length, fake.sendAttempts(), fake.messages.length];
    await transport.verify(noLimit());
    expect(fake.http.requests.slice(requests).map((r) => r.method)).toEqual(['GET']);
    expect(fake.sendAttempts()).toBe(sends);
    expect(fake.messages.length).toBe(messages);
  });

  it.each([
    ['a deleted workflow (404)', (url: string) => url.replace(fake.workflowId, '0'.repeat(32)), /no Teams workflow answers/],
    ['a forged signature (401)', (url: string) => url.replace(fake.sig, 'forged'), /refused the signature of TEAMS_WEBHOOK_URL/],
  ])('%s → permanent, naming the variable', async (_, change, reason) => {
    const wrong = await connect({ TEAMS_WEBHOOK_URL: change(fake.env.TEAMS_WEBHOOK_URL!) });
    const err = await rejection(wrong.verify(noLimit()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(reason);
    expect(err.message).not.toContain(fake.sig);
  });
});
