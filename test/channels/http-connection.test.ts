/**
 * The HTTP layer the SDKs are given (src/channels/http-connection.ts), against a loopback
 * server: the fetch it hands Slack and Telegram behaves like the platform's where the SDKs
 * look (status, headers, body, errors and their causes, aborts), and what it cannot send
 * itself goes through the platform fetch. The channel and contract suites drive it through
 * the real SDKs; this covers the paths they never take.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallContext, HttpConnection } from '../../src/channels/http-connection.js';
import { closedPort } from '../helpers/channel.js';

interface Seen {
  method: string;
  path: string;
  type: string | undefined;
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
const http = new HttpConnection();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, type: req.headers['content-type'], body });
      if (req.url === '/hang') return; // never answers
      if (req.url === '/reset') return req.socket.destroy();
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/ok' });
        return res.end();
      }
      if (req.url === '/empty') {
        res.writeHead(204);
        return res.end();
      }
      res.writeHead(req.url === '/limited' ? 429 : 200, { 'content-type': 'application/json', 'retry-after': '7', 'x-twice': ['a', 'b'] });
      res.end(JSON.stringify({ ok: true, echo: body, é: 'ü' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  http.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the fetch handed to the SDKs', () => {
  it('sends a form body with its content type and reads the answer as fetch would', async () => {
    const res = await http.fetch(`${base}/ok`, { method: 'POST', body: new URLSearchParams({ text: 'a & b é' }) });
    expect(seen.at(-1)).toEqual({ method: 'POST', path: '/ok', type: 'application/x-www-form-urlencoded;charset=UTF-8', body: 'text=a+%26+b+%C3%A9' });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('x-twice')).toBe('a, b');
    expect(await res.json()).toEqual({ ok: true, echo: 'text=a+%26+b+%C3%A9', é: 'ü' });
  });

  it('keeps the caller\'s content type and passes an error status through', async () => {
    const res = await http.fetch(`${base}/limited`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'channel=C1' });
    expect(seen.at(-1)).toMatchObject({ type: 'application/x-www-form-urlencoded', body: 'channel=C1' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('answers a 204 with no body', async () => {
    const res = await http.fetch(`${base}/empty`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('a body it does not send itself (multipart: a file upload) goes through the platform fetch', async () => {
    const form = new FormData();
    form.append('file', new Blob(['bytes']), 'a.txt');
    const res = await http.fetch(`${base}/ok`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(seen.at(-1)!.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.at(-1)!.body).toContain('bytes');
  });

  it('follows a redirect (through the platform fetch), or refuses it when asked to', async () => {
    const followed = await http.fetch(`${base}/moved`);
    expect(followed.status).toBe(200);
    expect(seen.at(-1)!.path).toBe('/ok');
    const refused = await http.fetch(`${base}/moved`, { redirect: 'error' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
  });

  it('an abort rejects with the signal\'s reason and closes the request', async () => {
    const controller = new AbortController();
    const pending = http.fetch(`${base}/hang`, { method: 'POST', body: 'x', signal: controller.signal });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => seen.at(-1)?.path === '/hang' && (clearInterval(poll), resolve()), 2);
    });
    const reason = new Error('time limit');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('a connection lost or refused fails as fetch does: TypeError, with the socket error as its cause', async () => {
    const reset = await http.fetch(`${base}/reset`, { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(TypeError);
    expect((reset as { cause?: { code?: string } }).cause?.code).toBe('ECONNRESET');
    const refused = await http.fetch(`http://127.0.0.1:${await closedPort()}/`).catch((e: unknown) => e);
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });
});

describe('a request made without a signal', () => {
  it('fails with ETIMEDOUT after its backstop time without an answer', async () => {
    const error = await http.request(new URL(`${base}/hang`), { method: 'GET', headers: {}, timeoutMs: 50 }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ETIMEDOUT');
  });
});

describe('CallContext: a value for what an SDK calls synchronously', () => {
  it('is seen inside the call, nested calls see their own, and it is gone after', () => {
    const context = new CallContext<string>();
    const seenInside: (string | undefined)[] = [];
    context.run('outer', () => {
      seenInside.push(context.current);
      context.run('inner', () => seenInside.push(context.current));
      seenInside.push(context.current);
    });
    expect(seenInside).toEqual(['outer', 'inner', 'outer']);
    expect(context.current).toBeUndefined();
  });
});
