/**
 * Where the queue lives: `--queue URL` or `NOTIFY_QUEUE_URL`, a redis:// or rediss:// (TLS)
 * URL with an optional ACL user and password, and `NOTIFY_QUEUE_PREFIX` (default `notify`)
 * so that staging and production can share one Redis without seeing each other's jobs.
 *
 * ioredis and BullMQ are loaded here, lazily: `notify --help`, a dry run or an in-process
 * send never pay for them.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvFile } from '../env-file.js';
import { UserError } from '../errors.js';

export const QUEUE_ENV = 'NOTIFY_QUEUE_URL';
export const PREFIX_ENV = 'NOTIFY_QUEUE_PREFIX';
const DEFAULT_PREFIX = 'notify';
/** How long the first contact with Redis may take before the command gives up (exit 2). */
const PROBE_TIMEOUT_MS = 5_000;

export interface QueueTarget {
  url: string;
  /** The URL with its password replaced by ***: the only form ever printed. */
  shown: string;
  /** What the user wrote it in, for error messages: `--queue` or `NOTIFY_QUEUE_URL`. */
  from: string;
  /** Key prefix of every key notify writes (BullMQ's and its own). */
  prefix: string;
}

/** The queue named by the flag or the environment; undefined when neither is set (send in-process). */
export function queueTarget(flag: string | undefined, env: NodeJS.ProcessEnv = environment()): QueueTarget | undefined {
  const fromFlag = flag !== undefined && flag !== '';
  const raw = fromFlag ? flag : env[QUEUE_ENV]?.trim();
  if (!raw) return undefined;
  const from = fromFlag ? '--queue' : QUEUE_ENV;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(`${from} is not a valid URL; write it like redis://user:password@host:6379 (or rediss:// for TLS).`);
  }
  const shown = maskUrl(url);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UserError(`${from} ${shown} must start with redis:// or rediss:// (TLS), not ${url.protocol}//; write it like redis://user:password@host:6379.`);
  }
  const prefix = env[PREFIX_ENV]?.trim() || DEFAULT_PREFIX;
  if (!/^[\w.-]{1,64}$/.test(prefix)) {
    throw new UserError(`${PREFIX_ENV} "${prefix}" must be letters, digits, dots, dashes or underscores (e.g. notify-staging).`);
  }
  return { url: raw, shown, from, prefix };
}

/** The environment with .env under it, as for the providers' variables (a real variable wins). */
function environment(): NodeJS.ProcessEnv {
  const file = join(process.cwd(), '.env');
  return { ...(existsSync(file) ? readEnvFile(file) : {}), ...process.env };
}

/** Like queueTarget, for commands that cannot work without a queue (`notify worker`). */
export function requireQueueTarget(flag: string | undefined, command: string): QueueTarget {
  const target = queueTarget(flag);
  if (!target) throw new UserError(`${command} needs a queue: pass --queue redis://host:6379 or set ${QUEUE_ENV}.`);
  return target;
}

export function maskUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href.replace(/\/$/, '');
}

/**
 * A connection for long-lived use (workers, following a run): every command waits for
 * Redis to come back instead of failing (`maxRetriesPerRequest: null`, as BullMQ requires
 * for workers), reconnecting with a capped backoff.
 */
export async function connect(target: QueueTarget, name: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(target.url, options(name, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2_000) }));
}

/**
 * First contact: a PING with a short time limit, so that a wrong URL, a refused password
 * or a Redis that is not running is one sentence and exit 2 before anything is sent.
 */
export async function probe(target: QueueTarget): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(target.url, options('notify-probe', {
    maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true, connectTimeout: PROBE_TIMEOUT_MS,
  }));
  let cause: unknown;
  client.on('error', (error) => (cause ??= error)); // the socket's own error says more than "Connection is closed"
  try {
    await withTimeout(client.connect().then(() => client.ping()), PROBE_TIMEOUT_MS);
  } catch (error) {
    throw new UserError(`Cannot reach the queue at ${target.shown} (${target.from}): ${describeRedisError(cause ?? error)}; start Redis or fix the URL; nothing was sent.`);
  } finally {
    client.disconnect();
  }
}

function options(name: string, extra: RedisOptions): RedisOptions {
  return { connectionName: name, enableReadyCheck: true, ...extra };
}

/** One short clause, never the URL (which may carry the password). */
export function describeRedisError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string })?.code;
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(message)) return 'the user name or password was refused';
  if (/NOPERM/i.test(message)) return 'the ACL user lacks a permission notify needs (give it ~<prefix>:* keys and +@all minus dangerous commands)';
  if (code === 'ECONNREFUSED') return 'connection refused (is Redis running on that host and port?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host name';
  if (/timed out|ETIMEDOUT/i.test(message)) return 'no answer in time';
  return message.replace(/redis(s)?:\/\/\S+/g, 'the URL');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms))),
  ]).finally(() => clearTimeout(timer));
}
