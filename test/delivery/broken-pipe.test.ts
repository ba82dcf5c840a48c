/**
 * A closed pipe never stops or fails a send: `notify outage --yes … 2>&1 | head -3` must
 * deliver everything and exit 0, whether the reader went away while the plan was being
 * printed or after it, while the messages were going out. The journal is the record.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, baseEnv } from '../helpers/cli.js';
import { crowd, journal, workdir } from './helpers.js';

const PEOPLE = 40;
const TOKEN = '123456:AAtesttokentesttokentesttokentestto';

/**
 * A Telegram Bot API that accepts every message but answers only once `open()` is called:
 * the test decides when the sends complete, with no clock involved.
 */
async function gatedTelegram() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let firstRequest!: () => void;
  const requested = new Promise<void>((resolve) => (firstRequest = resolve));
  const received: string[] = [];
  let nextId = 1;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (!req.url?.endsWith('/sendMessage')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: { id: 123456, is_bot: true, first_name: 'Fake' } }));
      return;
    }
    const chatId = req.headers['content-type']?.includes('json') ? (JSON.parse(body) as { chat_id: string }).chat_id : new URLSearchParams(body).get('chat_id');
    firstRequest();
    await gate;
    received.push(String(chatId));
    const result = { message_id: nextId++, chat: { id: Number(chatId), type: 'private', first_name: 'Fake' }, date: Math.floor(Date.now() / 1000), text: 'x' };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_URL: url },
    received,
    open,
    requested,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

let fake: Awaited<ReturnType<typeof gatedTelegram>> | undefined;
afterEach(async () => {
  fake?.open();
  await fake?.close();
});

/** A live send of the drill to PEOPLE Telegram chats, with --json, both outputs piped to the test. */
function start(cwd: string, env: Record<string, string>) {
  const args = ['drill', '--yes', '--json', '--channels', 'telegram', '--rate', 'all=off'];
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
  // The reader going away: our end of both pipes is closed, so every later write by the child fails with EPIPE.
  const hangUp = () => {
    child.stdout.destroy();
    child.stderr.destroy();
  };
  return { child, exited, hangUp };
}

const people = () => crowd(PEOPLE).map((p, i) => ({ name: p.name, telegram: String(300000 + i) }));

function expectAllDelivered(cwd: string) {
  const entries = journal(cwd);
  expect(entries.filter((e) => e.kind === 'planned')).toHaveLength(PEOPLE);
  expect(entries.filter((e) => e.kind === 'delivered')).toHaveLength(PEOPLE);
  expect(entries.at(-1)).toMatchObject({ kind: 'finished', interrupted: false });
}

describe('a closed pipe never stops or fails a send', () => {
  it('closed while the plan is being printed: everything is still sent, exit 0', async () => {
    fake = await gatedTelegram();
    fake.open();
    const cwd = workdir(people());
    const run = start(cwd, fake.env);
    run.hangUp(); // before the first line of the plan
    expect(await run.exited).toBe(0);
    expect(fake.received).toHaveLength(PEOPLE);
    expectAllDelivered(cwd);
  });

  it('closed after the plan was printed, while messages are going out: everything is sent, exit 0', async () => {
    fake = await gatedTelegram();
    const cwd = workdir(people());
    const run = start(cwd, fake.env);
    let printed = '';
    run.child.stderr.on('data', (d) => (printed += d));
    // The plan is printed and sending has begun; no answer yet.
    await Promise.race([fake.requested, run.exited.then((code) => Promise.reject(new Error(`exited ${code} before sending:\n${printed}`)))]);
    expect(printed).toContain(`${PEOPLE} people targeted.`);
    run.hangUp();
    fake.open(); // now the answers come, and the report is printed to nobody
    expect(await run.exited).toBe(0);
    expect(fake.received).toHaveLength(PEOPLE);
    expectAllDelivered(cwd);
  });

  it('notify drill --yes 2>&1 | head -3, as typed: everything is sent, and notify exits 0', async () => {
    fake = await gatedTelegram();
    fake.open();
    const cwd = workdir(people());
    const line = `"${process.execPath}" "${BIN}" drill --yes --channels telegram --rate all=off 2>&1 | head -3; exit \${PIPESTATUS[0]}`;
    const child = spawn('bash', ['-c', line], { cwd, env: baseEnv(fake.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let shown = '';
    child.stdout.on('data', (d) => (shown += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(shown.trim().split('\n')).toHaveLength(3);
    expect(code).toBe(0);
    expect(fake.received).toHaveLength(PEOPLE);
    expectAllDelivered(cwd);
  });
});
