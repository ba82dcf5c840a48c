/**
 * A loopback HTTP server fed scripted answers: the base of the Twilio, Slack and
 * Telegram fakes. It listens on 127.0.0.1 only, on an ephemeral port, records every
 * request and lets a test queue faults (429, 5xx, reset, hang) for the next requests,
 * and hold answers to sends until it releases them (see gate.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createGate, type Gate } from './gate.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Form or JSON body as an object; raw text otherwise. */
  body: Record<string, string>;
  raw: string;
  /** When the request arrived (ms since the epoch): rate tests read the provider's own clock. */
  at: number;
}

/** What the fake answers. */
export type Answer =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { reset: true }
  | { hang: true };

export type Fault =
  | { kind: 'rate-limit'; retryAfterS?: number }
  | { kind: 'server-error'; status?: 500 | 502 | 503 }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'permanent' }
  | { kind: 'temporary' };

export interface HttpFake extends Gate {
  url: string;
  requests: RecordedRequest[];
  /** Answer the next requests that `handle` marks as faultable with these, in order. */
  queue(...answers: Answer[]): void;
  /** Delay every answer by this long. To keep a send in flight, `hold()` it instead: a delay races the client. */
  latencyMs: number;
  close(): Promise<void>;
}

/**
 * `handle` answers normally; return `undefined` from `faultable` requests to let a
 * queued answer (if any) take over. Requests for which `isFaultable` is true consume
 * the queue: send endpoints are faultable, credential checks are not.
 */
export async function startHttpFake(
  handle: (req: RecordedRequest) => Answer,
  isFaultable: (req: RecordedRequest) => boolean = () => true,
): Promise<HttpFake> {
  const queued: Answer[] = [];
  const sockets = new Set<Socket>();
  const gate = createGate();
  const fake: HttpFake = {
    hold: gate.hold,
    release: gate.release,
    held: gate.held,
    until: gate.until,
    url: '',
    requests: [],
    latencyMs: 0,
    queue: (...answers) => queued.push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    const raw = await readBody(req);
    const recorded: RecordedRequest = {
      at,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: parseBody(raw, req.headers['content-type']),
      raw,
    };
    fake.requests.push(recorded);
    gate.changed();
    const faultable = isFaultable(recorded);
    // The answer is decided (and a send recorded by `handle`) on arrival: a held send
    // reached the provider, only its answer is late.
    const answer = (faultable && queued.shift()) || handle(recorded);
    const gone = () => new Promise<void>((resolve) => res.once('close', () => resolve()));
    if ('hang' in answer) return gate.hang(gone); // never answer; the socket is destroyed on close()
    if (faultable) await gate.pass(gone);
    if (fake.latencyMs > 0) await new Promise((r) => setTimeout(r, fake.latencyMs));
    if ('reset' in answer) return req.socket.destroy();
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.json));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function parseBody(raw: string, type: string | undefined): Record<string, string> {
  if (type?.includes('application/json')) {
    try {
      return JSON.parse(raw) as Record<string, string>;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

/**
 * The controls every HTTP provider fake shares (see ProviderFake): send requests counted,
 * scripted faults in the provider's own error shape, per-address faults, latency, the gate
 * and close. A fake adds its messages, env and own extras with Object.assign, which keeps
 * the latency accessor.
 */
export function providerControls(http: HttpFake, isSend: (req: RecordedRequest) => boolean, toAnswer: (fault: Fault) => Answer, faultFor: Map<string, Fault>) {
  return {
    sendAttempts: () => http.requests.filter(isSend).length,
    fail: (...faults: Fault[]) => http.queue(...faults.map((fault) => toAnswer(fault))),
    failFor: (address: string, fault: Fault) => void faultFor.set(address, fault),
    get latencyMs() {
      return http.latencyMs;
    },
    set latencyMs(ms: number) {
      http.latencyMs = ms;
    },
    hold: http.hold,
    release: http.release,
    held: http.held,
    until: http.until,
    close: () => http.close(),
  };
}
