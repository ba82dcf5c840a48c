/**
 * HTTP for the channels' SDKs over node:http(s) with keep-alive agents, handed to each SDK
 * the way it documents: Twilio as its `httpClient`, Slack and Telegram as their `fetch`.
 *
 * Why not the platform fetch (undici) or axios: on Node 20 a small POST through fetch costs
 * about five times the CPU of the same request through http.request (≈ 320 µs against ≈ 60 µs
 * on the 2-core bench machine; axios sits in between), and a fan-out is one request per
 * message. Requests we cannot send as they are (a FormData or stream body: file uploads,
 * which no channel makes) still go through the platform fetch.
 *
 * One connection per channel transport: its own sockets, released by `close()`. Through
 * the proxy HTTPS_PROXY / HTTP_PROXY name, when they do (proxy.ts).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { loadProxyAgents, type ProxyAgents } from './proxy.js';

/** A backstop for a request made without a signal; the dispatcher's signal is the real time limit. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Aborts the request: it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Without a signal, the request fails with `ETIMEDOUT` after this long without a byte. */
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** Header names and values as received, in pairs (for a fetch Response). */
  rawHeaders: string[];
  body: string;
}

export class HttpConnection {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  /** `proxies`: the routes through a proxy, when the environment names one (loadProxyAgents). */
  constructor(private readonly proxies?: ProxyAgents) {}

  /** A connection that goes through the environment's proxy, if it names one. */
  static async open(): Promise<HttpConnection> {
    return new HttpConnection(await loadProxyAgents());
  }

  /** One request; a socket error rejects with the error as Node gives it (its `code`: ECONNRESET, ECONNREFUSED…). */
  request(url: URL, { method, headers, body, signal, timeoutMs = DEFAULT_TIMEOUT_MS }: HttpRequest): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') return reject(new TypeError(`unsupported protocol ${url.protocol}`));
      const withLength = body === undefined ? headers : { ...headers, 'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength) };
      const viaProxy = this.proxies?.agentFor(url);
      const options = { method, headers: withLength, agent: viaProxy ?? this.agents[secure ? 'https:' : 'http:'], ...(!signal && { timeout: timeoutMs }) };
      const req = (secure ? https : http).request(url, options, (res) => {
        if (proxyRefused !== undefined) {
          res.resume();
          return fail(Object.assign(new Error(`the proxy refused to open a connection to ${url.host} (HTTP ${proxyRefused}); check HTTPS_PROXY and NO_PROXY`), { code: 'EPROXY' }));
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', fail);
        // The connection closed before the answer was complete (no 'end' comes).
        res.on('close', () => res.complete || fail(Object.assign(new Error('the connection closed during the answer'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          done();
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders, body: text });
        });
      });
      // One listener of our own rather than http.request's `signal` option, which also
      // watches the request's end with several stream listeners per request.
      const onAbort = () => req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      const done = () => signal?.removeEventListener('abort', onAbort);
      function fail(error: Error) {
        done();
        reject(signal?.aborted ? signal.reason : error);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      // A proxy that refuses the tunnel has its answer passed on as if it were the provider's
      // (https-proxy-agent): a 403 would read as a bad token. It is a network failure: nothing was sent.
      let proxyRefused: number | undefined;
      if (viaProxy) {
        req.once('proxyConnect', ({ statusCode }: { statusCode: number }) => {
          if (statusCode !== 200) proxyRefused = statusCode;
        });
      }
      if (!signal) req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.end(body);
    });
  }

  /**
   * A `fetch` for the SDKs that take one: string, URLSearchParams and byte bodies go out
   * through `request`; anything else through the platform fetch. Failures look like fetch's:
   * the signal's reason when aborted, else `TypeError('fetch failed')` with the socket error
   * as its `cause`.
   */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const { body, signal } = init;
    const plain = body == null || typeof body === 'string' || body instanceof URLSearchParams || body instanceof Uint8Array;
    if (!plain || input instanceof Request) return globalThis.fetch(input, init);
    const url = new URL(input);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (body != null && headers['content-type'] === undefined) {
      headers['content-type'] = body instanceof URLSearchParams ? 'application/x-www-form-urlencoded;charset=UTF-8' : 'text/plain;charset=UTF-8';
    }
    let answer: HttpAnswer;
    try {
      answer = await this.request(url, {
        method: (init.method ?? 'GET').toUpperCase(), headers,
        ...(body != null && { body: body instanceof URLSearchParams ? body.toString() : body }),
        ...(signal && { signal }),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new TypeError('fetch failed', { cause: error });
    }
    if (REDIRECT.has(answer.status) && init.redirect !== 'manual') {
      if (init.redirect === 'error') throw new TypeError('fetch failed', { cause: new Error(`unexpected redirect (HTTP ${answer.status})`) });
      return globalThis.fetch(input, init); // rare: let the platform follow it
    }
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) pairs.push([answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!]);
    return new Response(NULL_BODY.has(answer.status) ? null : answer.body, { status: answer.status, statusText: answer.statusText, headers: pairs });
  };

  /** Close the idle keep-alive sockets (and any still open). */
  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
    this.proxies?.close();
  }
}

/**
 * A value handed to code that an SDK calls synchronously from inside one of its calls (its
 * HTTP client, its fetch), for the SDKs that take no per-call signal or header. Instead of
 * AsyncLocalStorage, which on Node 20 puts hooks on every promise of the process from its
 * first use. Valid only while the SDK reaches its HTTP layer without an await in between:
 * the channel tests check that the signal (a hung request is aborted) and the per-call
 * headers (Twilio's idempotency token) still arrive.
 */
export class CallContext<T> {
  private value: T | undefined;

  run<R>(value: T, call: () => R): R {
    const outer = this.value;
    this.value = value;
    try {
      return call();
    } finally {
      this.value = outer;
    }
  }

  get current(): T | undefined {
    return this.value;
  }
}
