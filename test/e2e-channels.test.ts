/**
 * All eight channels, end to end: `notify outage` over the shipped example list, live,
 * against the eight loopback fakes. Every message a fake received is what the dry run
 * rendered for that address — the same text, on the same channel, once.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, readdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHANNEL_NAMES } from '../src/channels/index.js';
import { readJournal } from '../src/core/journal.js';
import { startDiscordFake } from './fakes/discord.js';
import type { ProviderFake, Received } from './fakes/provider.js';
import { startSignalFake } from './fakes/signal.js';
import { startSlackFake } from './fakes/slack.js';
import { startSmtpFake } from './fakes/smtp.js';
import { startTeamsFake } from './fakes/teams.js';
import { startTelegramFake } from './fakes/telegram.js';
import { startTwilioVoiceFake } from './fakes/twilio-voice.js';
import { startTwilioFake } from './fakes/twilio.js';
import { harness as discord } from './contract/discord.harness.js';
import { harness as slack } from './contract/slack.harness.js';
import { harness as teams } from './contract/teams.harness.js';
import { harness as telegram } from './contract/telegram.harness.js';
import { baseEnv, ROOT, runCli, tempDir } from './helpers/cli.js';

/** SMS and calls share one TWILIO_API_URL: a loopback router sends /Calls to the voice fake, the rest to the SMS fake. */
function twilioRouter(sms: string, voice: string): Promise<Server> {
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', req.url?.includes('/Calls') ? voice : sms);
    const forward = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let fakes: Record<string, ProviderFake>;
let router: Server;
let env: Record<string, string>;
beforeAll(async () => {
  const account = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
  const [sms, voice, email, slackFake, telegramFake, teamsFake, signal, discordFake] = await Promise.all([
    startTwilioFake(account), startTwilioVoiceFake(account), startSmtpFake(), startSlackFake(), startTelegramFake(),
    startTeamsFake(), startSignalFake(), startDiscordFake(),
  ]);
  fakes = { sms, voice, email, slack: slackFake, telegram: telegramFake, teams: teamsFake as unknown as ProviderFake, signal, discord: discordFake };
  router = await twilioRouter(sms.http.url, voice.http.url);
  env = baseEnv(Object.assign({}, ...Object.values(fakes).map((f) => f.env), {
    TWILIO_API_URL: `http://127.0.0.1:${(router.address() as AddressInfo).port}`,
  }));
});
afterAll(async () => {
  router?.close();
  await Promise.all(Object.values(fakes ?? {}).map((f) => f.close()));
});

/** What a reader sees, per channel, from what the fake received (entities and markdown escapes decoded). */
const shown: Record<string, (r: Received) => string> = {
  slack: slack.shown, telegram: telegram.shown, teams: teams.shown, discord: discord.shown,
};

it('a live outage over the example list reaches all eight fakes, each message as the dry run rendered it', async () => {
  const [dryDir, liveDir] = [tempDir(), tempDir()];
  for (const dir of [dryDir, liveDir]) copyFileSync(join(ROOT, 'contacts.example.csv'), join(dir, 'contacts.csv'));
  const args = ['outage', '--var', 'eta=15:30', '--channels', CHANNEL_NAMES.join(','), '--rate', 'all=off'];

  const dry = await runCli([...args, '--dry-run', '--json'], { cwd: dryDir, env });
  expect(dry.code, dry.stderr).toBe(0);
  const live = await runCli([...args, '--yes', '--expect-count', String(JSON.parse(dry.stdout).people.reached)], { cwd: liveDir, env });
  expect(live.code, live.stderr).toBe(0);

  // What each run planned, message by message: the same deliveries, and what the fakes got is the live plan's text.
  const plannedIn = (dir: string) => {
    const runId = readdirSync(join(dir, '.notify/runs')).find((f) => f.endsWith('.jsonl'))!.slice(0, -'.jsonl'.length);
    return readJournal(runId, dir).filter((e) => e.kind === 'planned') as { channel: string; message: { to: string; text: string } }[];
  };
  const livePlan = plannedIn(liveDir);
  const dryPlan = plannedIn(dryDir);
  const addresses = (plan: typeof livePlan) => plan.map((p) => `${p.channel} ${p.message.to}`).sort();
  expect(addresses(livePlan)).toEqual(addresses(dryPlan)); // the same deliveries

  for (const name of CHANNEL_NAMES) {
    const expected = livePlan.filter((p) => p.channel === name);
    expect(expected.length, `the plan has ${name} messages`).toBeGreaterThan(0);
    const received = fakes[name]!.messages;
    expect(received, `${name} received each planned message once`).toHaveLength(expected.length);
    // Line ends as the reader's client shows them (SMTP carries CRLF).
    const read = (r: Received) => sameRun((shown[name] ?? ((m: Received) => m.text))(r).replace(/\r\n/g, '\n'));
    const plain = (text: string) => (shown[name] ? read({ to: '', text }) : sameRun(text));
    // Teams: a line that is only a [Label](url) link becomes the card's button, and blank lines become spacing.
    const card = (text: string) => (name === 'teams' ? text.replace(/^\[[^\]]+\]\([^)]+\)$/gm, '').replace(/\n{2,}/g, '\n') : text);
    for (const message of received) {
      const match = expected.find((e) => card(plain(e.message.text)).trim() === card(read(message)).trim());
      expect(match, `${name}: "${read(message).slice(0, 60)}…" is a message of the plan`).toBeDefined();
    }
  }
}, 120_000);

/** Templates may quote the run's id and time ({{run.id}}, {{run.time}}): the one thing two runs never share. */
function sameRun(text: string): string {
  return text.replace(/\d{4}-\d{2}-\d{2}-\d{4}-[a-z-]+-[0-9a-f]{4}/g, 'RUN').replace(/\d{1,2}\/\d{1,2}\/\d{2,4},? \d{1,2}:\d{2}(?: [AP]M)?/g, 'TIME');
}
