/**
 * Behind a company proxy (HTTPS_PROXY / HTTP_PROXY, NO_PROXY), the channels' requests go
 * through it; this machine's own addresses never do. The proxy here is a loopback one the
 * test starts: it takes requests for made-up hosts (telegram.test) and forwards them to the
 * fake on 127.0.0.1, so nothing leaves the machine, and a request that skipped the proxy
 * would fail to find its host.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpConnection } from '../../src/channels/http-connection.js';
import { proxyFor, proxySettings } from '../../src/channels/proxy.js';
import { startTelegramFake } from '../fakes/telegram.js';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';

const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
function setEnv(values: Record<string, string>) {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
}
afterEach(() => setEnv(Object.fromEntries(Object.entries(saved).filter((e): e is [string, string] => e[1] !== undefined))));

/** What the proxy saw: each request line (absolute URL or CONNECT host:port) and its Proxy-Authorization. */
interface Seen {
  line: string;
  auth?: string;
}

/** An HTTP proxy on 127.0.0.1 that sends every request to 127.0.0.1 at the port asked for, and refuses CONNECT. */
function startProxy() {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ line: `${req.method} ${req.url}`, ...(req.headers['proxy-authorization'] && { auth: req.headers['proxy-authorization'] }) });
    const target = new URL(req.url!);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request({ host: '127.0.0.1', port: target.port, path: target.pathname + target.search, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    seen.push({ line: `CONNECT ${req.url}`, ...(req.headers['proxy-authorization'] && { auth: req.headers['proxy-authorization'] }) });
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  return new Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

describe('proxyFor: the route the environment gives a request', () => {
  it('https through HTTPS_PROXY, http through HTTP_PROXY, in either case; none set: straight there', () => {
    setEnv({});
    expect(proxyFor(new URL('https://api.twilio.com/2010-04-01'))).toBeUndefined();
    setEnv({ HTTPS_PROXY: 'http://proxy.corp:3128' });
    expect(proxyFor(new URL('https://api.twilio.com/2010-04-01'))).toBe('http://proxy.corp:3128');
    expect(proxyFor(new URL('http://relay.corp/hook'))).toBeUndefined();
    setEnv({ http_proxy: 'http://proxy.corp:8080' });
    expect(proxyFor(new URL('http://relay.corp/hook'))).toBe('http://proxy.corp:8080');
  });

  it('a proxy written without a scheme is plain HTTP, as curl reads it', () => {
    setEnv({ HTTPS_PROXY: 'proxy.corp:3128' });
    expect(proxyFor(new URL('https://slack.com/api/chat.postMessage'))).toBe('http://proxy.corp:3128');
  });

  it('NO_PROXY hosts, and this machine\'s own addresses, are reached directly', () => {
    setEnv({ HTTPS_PROXY: 'http://proxy.corp:3128', HTTP_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.internal.corp,smtp.corp' });
    expect(proxyFor(new URL('https://teams.internal.corp/hook'))).toBeUndefined();
    expect(proxyFor(new URL('https://api.telegram.org/bot1/sendMessage'))).toBe('http://proxy.corp:3128');
    for (const local of ['http://127.0.0.1:8080/', 'http://localhost:8080/', 'http://[::1]:8080/']) expect(proxyFor(new URL(local)), local).toBeUndefined();
    setEnv({ HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '*' });
    expect(proxyFor(new URL('https://api.telegram.org/'))).toBeUndefined();
  });
});

describe('proxySettings: what notify check --live shows', () => {
  it('each variable set, with any user name and password hidden', () => {
    setEnv({ https_proxy: 'http://crisis:s3cret@proxy.corp:3128', HTTP_PROXY: 'ops:pw@proxy.corp:8080', NO_PROXY: '.internal.corp' });
    expect(proxySettings()).toEqual(['HTTPS_PROXY=http://***@proxy.corp:3128', 'HTTP_PROXY=***@proxy.corp:8080', 'NO_PROXY=.internal.corp']);
    setEnv({});
    expect(proxySettings()).toEqual([]);
  });
});

describe('HttpConnection behind a proxy', () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let fake: Awaited<ReturnType<typeof startTelegramFake>>;
  beforeAll(async () => {
    [proxy, fake] = await Promise.all([startProxy(), startTelegramFake()]);
  });
  afterAll(() => Promise.all([proxy.close(), fake.close()]));

  it('sends an http request through the proxy, with the credentials written in its URL', async () => {
    proxy.seen.length = 0;
    setEnv({ HTTP_PROXY: proxy.url.replace('http://', 'http://crisis:pa%20ss@') });
    const port = new URL(fake.env.TELEGRAM_API_URL!).port;
    const connection = await HttpConnection.open();
    try {
      const res = await connection.fetch(`http://telegram.test:${port}/bot${fake.env.TELEGRAM_BOT_TOKEN}/getMe`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true });
    } finally {
      connection.close();
    }
    expect(proxy.seen).toEqual([{ line: `GET http://telegram.test:${port}/bot${fake.env.TELEGRAM_BOT_TOKEN}/getMe`, auth: `Basic ${Buffer.from('crisis:pa ss').toString('base64')}` }]);
  });

  it('asks the proxy for a tunnel (CONNECT) to an https host; a refusal fails as a network error, not as the provider\'s 403', async () => {
    proxy.seen.length = 0;
    setEnv({ HTTPS_PROXY: proxy.url });
    const connection = await HttpConnection.open();
    try {
      const failure = await connection.fetch('https://api.telegram.test/bot1/getMe').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TypeError);
      expect((failure as TypeError).cause).toMatchObject({ code: 'EPROXY', message: expect.stringContaining('the proxy refused to open a connection to api.telegram.test (HTTP 403)') });
    } finally {
      connection.close();
    }
    expect(proxy.seen).toEqual([{ line: 'CONNECT api.telegram.test:443' }]);
  });

  it('notify check --live asks the provider through the proxy, and says which proxy without its password', async () => {
    proxy.seen.length = 0;
    const port = new URL(fake.env.TELEGRAM_API_URL!).port;
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), 'name,role,groups,phone,email,slack,telegram,locale\nAnn,,staff,,,,1001,en\n');
    const env = baseEnv({ ...fake.env, TELEGRAM_API_URL: `http://telegram.test:${port}`, HTTP_PROXY: proxy.url.replace('http://', 'http://crisis:s3cret@') });
    const run = await runCli(['check', '--live', '--channels', 'telegram', '--var', 'eta=14:00'], { cwd, env });
    expect(run.stdout + run.stderr).toContain('telegram: ok');
    expect(run.stdout + run.stderr).toContain(`Through the proxy: HTTP_PROXY=http://***@127.0.0.1:${new URL(proxy.url).port}`);
    expect(run.stdout + run.stderr).not.toContain('s3cret');
    expect(proxy.seen.map((s) => s.line.replace(/^\w+ /, ''))).toEqual([`http://telegram.test:${port}/bot${fake.env.TELEGRAM_BOT_TOKEN}/getMe`]);
  });

  it('a send through a proxy that refuses says so, and counts the message as not sent', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), 'name,role,groups,phone,email,slack,telegram,locale\nAnn,,staff,,,,1001,en\n');
    const env = baseEnv({ ...fake.env, TELEGRAM_API_URL: 'https://api.telegram.test', HTTPS_PROXY: proxy.url });
    const run = await runCli(['outage', '--yes', '--json', '--var', 'eta=14:00', '--channels', 'telegram', '--max-attempts', '1'], { cwd, env });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.channels.telegram).toMatchObject({ planned: 1, delivered: 0, failed: 1 });
    expect(JSON.stringify(report)).toContain('the proxy (HTTPS_PROXY) refused the connection');
    expect(report.mayBeDuplicated).toEqual([]);
  });

  it('a send through the CLI reaches the provider through the proxy', async () => {
    proxy.seen.length = 0;
    fake.messages.length = 0;
    const port = new URL(fake.env.TELEGRAM_API_URL!).port;
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), 'name,role,groups,phone,email,slack,telegram,locale\nAnn,,staff,,,,1001,en\nBob,,staff,,,,1002,fr\n');
    const env = baseEnv({ ...fake.env, TELEGRAM_API_URL: `http://telegram.test:${port}`, HTTP_PROXY: proxy.url });
    const run = await runCli(['outage', '--yes', '--var', 'eta=14:00', '--channels', 'telegram', '--rate', 'all=off'], { cwd, env });
    expect(run.code, run.stderr).toBe(0);
    expect(fake.messages.map((m) => m.to).sort()).toEqual(['1001', '1002']);
    const sends = proxy.seen.filter((s) => s.line.startsWith(`POST http://telegram.test:${port}/bot`));
    expect(sends).toHaveLength(fake.messages.length);
  });
});
