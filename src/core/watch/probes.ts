/**
 * One check of one probe, always ending in a result, never in an exception: a network
 * that is gone, a name that does not resolve, a server that never answers or a script
 * that hangs is a failed check with a reason in plain words, not a crashed watcher.
 * The caller's `signal` cuts the check (its timeout, or Ctrl-C); the reason it carries
 * is what the result says.
 */
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { formatDuration } from '../duration.js';
import type { ProbeSpec } from './config.js';

export interface ProbeResult {
  ok: boolean;
  /** What was seen, in words: "HTTP 200 in 143ms", "connection refused by web.example.com:443". */
  detail: string;
  /** How long the check took (not measured for a check that was cut). */
  ms?: number;
}

/** Bodies read for `contains` / `json` stop here: a status page is small; a huge answer is not what we check. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Output of a command probe kept for the explanation. */
const MAX_OUTPUT_CHARS = 2000;

export async function runProbe(probe: ProbeSpec, signal: AbortSignal, cwd = process.cwd()): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  try {
    switch (probe.kind) {
      case 'http': return await httpCheck(probe, signal, elapsed);
      case 'dns': return await dnsCheck(probe.host, signal, elapsed);
      case 'tcp': return await tcpCheck(probe.host, probe.port, signal, elapsed);
      case 'command': return await commandCheck(probe.command, signal, cwd, elapsed);
    }
  } catch (error) {
    if (signal.aborted) return { ok: false, detail: cutReason(signal) };
    return { ok: false, detail: networkError(error, probe) };
  }
}

/** Why a check was cut, from its signal's reason. */
function cutReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'stopped';
}

type Http = Extract<ProbeSpec, { kind: 'http' }>;

async function httpCheck(probe: Http, signal: AbortSignal, elapsed: () => number): Promise<ProbeResult> {
  const response = await fetch(probe.url, { method: probe.method, headers: probe.headers, signal, redirect: 'follow' });
  const needsBody = probe.contains !== undefined || probe.json !== undefined;
  const body = needsBody ? await readLimited(response) : (await response.body?.cancel(), '');
  const ms = elapsed();
  const took = `in ${formatDuration(ms)}`;
  const statusOk = probe.status.length > 0 ? probe.status.includes(response.status) : response.status >= 200 && response.status < 400;
  if (!statusOk) {
    const expected = probe.status.length > 0 ? probe.status.join(' or ') : '2xx or 3xx';
    return { ok: false, detail: `HTTP ${response.status} ${took} (expected ${expected})`, ms };
  }
  if (probe.maxTimeMs !== undefined && ms > probe.maxTimeMs) {
    return { ok: false, detail: `HTTP ${response.status} but slow: ${took}, over the ${formatDuration(probe.maxTimeMs)} limit`, ms };
  }
  if (probe.contains !== undefined && !body.includes(probe.contains)) {
    return { ok: false, detail: `HTTP ${response.status} ${took}, but the page does not contain "${probe.contains}"`, ms };
  }
  if (probe.json) {
    const verdict = checkJson(body, probe.json);
    if (verdict) return { ok: false, detail: `HTTP ${response.status} ${took}, but ${verdict}`, ms };
    return { ok: true, detail: `HTTP ${response.status} ${took}, ${probe.json.path} = ${JSON.stringify(readPath(JSON.parse(body), probe.json.path))}`, ms };
  }
  return { ok: true, detail: `HTTP ${response.status} ${took}`, ms };
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) break; // leaving the loop cancels the rest of the body
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Undefined when the JSON answer passes; otherwise what is wrong with it. */
export function checkJson(body: string, rule: { path: string; equals?: (string | number | boolean)[] }): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return 'the answer is not JSON';
  }
  const value = readPath(data, rule.path);
  if (value === undefined) return `the answer has no ${rule.path}`;
  if (rule.equals === undefined) return value === false || value === null ? `${rule.path} is ${JSON.stringify(value)}` : undefined;
  if (rule.equals.some((expected) => String(expected) === String(value))) return undefined;
  return `${rule.path} is ${JSON.stringify(value)} (expected ${rule.equals.map((e) => JSON.stringify(e)).join(' or ')})`;
}

/**
 * A dotted path into parsed JSON: `status.indicator`, `components.0.status` or
 * `components[0].status`. Deliberately tiny (no wildcards, no filters): a probe checks
 * one value, and a JSONPath library would be one more dependency for one line of YAML.
 */
export function readPath(data: unknown, path: string): unknown {
  let value = data;
  for (const key of path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

async function dnsCheck(host: string, signal: AbortSignal, elapsed: () => number): Promise<ProbeResult> {
  // getaddrinfo cannot be cancelled: the lookup is abandoned (it ends in the background), not awaited.
  const addresses = await untilAborted(lookup(host, { all: true }), signal);
  const ms = elapsed();
  const first = addresses[0]?.address ?? 'nothing';
  return { ok: addresses.length > 0, detail: `${host} resolves to ${first}${addresses.length > 1 ? ` (+${addresses.length - 1})` : ''} in ${formatDuration(ms)}`, ms };
}

async function tcpCheck(host: string, port: number, signal: AbortSignal, elapsed: () => number): Promise<ProbeResult> {
  const socket = connect({ host, port });
  try {
    await untilAborted(new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }), signal);
  } finally {
    socket.destroy();
  }
  const ms = elapsed();
  return { ok: true, detail: `connected to ${host}:${port} in ${formatDuration(ms)}`, ms };
}

async function commandCheck(command: string, signal: AbortSignal, cwd: string, elapsed: () => number): Promise<ProbeResult> {
  // Its own process group, so a cut kills the shell and whatever it started (curl, ping…).
  const child = spawn(command, { shell: true, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (data: Buffer) => (output = (output + data.toString('utf8')).slice(-MAX_OUTPUT_CHARS));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  signal.addEventListener('abort', kill, { once: true });
  try {
    const code = await untilAborted(new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exit) => resolve(exit));
    }), signal);
    const ms = elapsed();
    const lastLine = output.trim().split('\n').at(-1)?.trim();
    const said = lastLine ? `: ${lastLine.slice(0, 200)}` : '';
    return code === 0
      ? { ok: true, detail: `exit 0 in ${formatDuration(ms)}${said}`, ms }
      : { ok: false, detail: `exit ${code ?? 'by signal'}${said}`, ms };
  } finally {
    signal.removeEventListener('abort', kill);
  }
}

/** Settles with `work`, or rejects as soon as `signal` aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(cutReason(signal)));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(cutReason(signal)));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const NETWORK_WORDS: Record<string, (target: string) => string> = {
  ENOTFOUND: (t) => `cannot resolve ${t} (no such name)`,
  EAI_AGAIN: (t) => `cannot resolve ${t} (no answer from the DNS resolver: is the network up?)`,
  ECONNREFUSED: (t) => `connection refused by ${t}`,
  ECONNRESET: (t) => `connection to ${t} reset`,
  ETIMEDOUT: (t) => `connection to ${t} timed out`,
  UND_ERR_CONNECT_TIMEOUT: (t) => `connection to ${t} timed out`,
  EHOSTUNREACH: (t) => `${t} is unreachable (no route)`,
  ENETUNREACH: (t) => `network unreachable for ${t}`,
  UND_ERR_SOCKET: (t) => `connection to ${t} closed before the answer`,
  CERT_HAS_EXPIRED: (t) => `the TLS certificate of ${t} has expired`,
  ERR_TLS_CERT_ALTNAME_INVALID: (t) => `the TLS certificate does not match ${t}`,
  DEPTH_ZERO_SELF_SIGNED_CERT: (t) => `${t} presents a self-signed TLS certificate`,
  ENOENT: (t) => `${t}: not found`,
};

/** A thrown network error → "connection refused by web.example.com:443". */
function networkError(error: unknown, probe: ProbeSpec): string {
  const target = probe.kind === 'http' ? hostOf(probe.url) : probe.kind === 'tcp' ? `${probe.host}:${probe.port}` : probe.kind === 'dns' ? probe.host : probe.command;
  // fetch wraps the real error in `cause` (sometimes twice).
  let e = error as { code?: string; message?: string; cause?: unknown } | undefined;
  while (e && !e.code && e.cause) e = e.cause as typeof e;
  const code = e?.code;
  const words = code ? NETWORK_WORDS[code] : undefined;
  if (words) return words(target);
  const message = e?.message ?? String(error);
  if (message === 'bad port') return `${target}: fetch refuses this port (one browsers block); probe it with tcp: instead`;
  return `${target}: ${code ? `${code} ` : ''}${message}`.slice(0, 300);
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return url;
  }
}
