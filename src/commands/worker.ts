/**
 * `notify worker`: take deliveries from the queue and send them, on a machine that holds
 * the providers' credentials. One BullMQ Worker per channel served; the channels' own
 * adapters send; the ledger (src/queue/ledger.ts) guards every send. Runs until Ctrl-C or
 * SIGTERM, which let the messages in flight finish (a second signal stops at once: those
 * become "outcome unknown" for the next worker, as after a crash).
 */
import { CHANNEL_LIST, channelNamed, describeMissing, parseChannelList } from '../channels/index.js';
import type { Transport } from '../core/channel.js';
import { PermanentError, RetryableError } from '../core/delivery-errors.js';
import type { ChannelName } from '../core/types.js';
import { loadConfig } from '../config.js';
import { EXIT, UserError } from '../errors.js';
import { createOutput } from '../output.js';
import { connect, describeRedisError, probe, requireQueueTarget } from '../queue/connection.js';
import { newWorkerId, startHeartbeat } from '../queue/heartbeat.js';
import { Ledger, queueName } from '../queue/ledger.js';
import { createProcessor, type JobData, type Result } from '../queue/process.js';

export interface WorkerFlags {
  queue?: string;
  channels?: string;
  concurrency?: string[];
}

/** A job whose worker stopped answering is handed to another after this long (BullMQ lock). */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;

export async function worker(flags: WorkerFlags): Promise<number> {
  const target = requireQueueTarget(flags.queue, 'notify worker');
  const config = loadConfig();
  const out = createOutput({ ci: config.ci });
  const channels = flags.channels !== undefined
    ? parseChannelList(flags.channels, '--channels').map(channelNamed)
    : CHANNEL_LIST.filter((c) => c.missingConfig(config).length === 0);
  const missing = channels.map((c) => ({ channel: c.name, missing: c.missingConfig(config) })).filter((m) => m.missing.length > 0);
  if (missing.length > 0) throw new UserError(`Cannot serve ${missing.map((m) => m.channel).join(', ')}: ${describeMissing(missing)}; set them (or .env) on this machine, or leave those out of --channels.`);
  if (channels.length === 0) {
    throw new UserError(`No channel is configured on this machine; set the providers' variables (e.g. ${CHANNEL_LIST[0]?.env.map((v) => v.name).slice(0, 2).join(', ')}) in the environment or .env.`);
  }
  const concurrency = parseConcurrency(flags.concurrency, channels.map((c) => c.name));
  await probe(target);

  const { Queue, Worker, DelayedError } = await import('bullmq');
  const workerId = newWorkerId();
  const redis = await connect(target, `notify-worker:${workerId}`);
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    out.line(`notify worker: Redis at ${target.shown} is unreachable (${describeRedisError(error)}); taking no jobs until it is back…`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    out.line('notify worker: Redis is back; taking jobs again.');
  });
  const ledger = new Ledger(redis, target.prefix);
  const stopHeartbeat = startHeartbeat(redis, target.prefix, {
    id: workerId, host: workerId.split(':')[0]!, pid: process.pid, channels: channels.map((c) => c.name), startedAt: new Date().toISOString(),
  });

  const transports = new Map<ChannelName, Promise<Transport>>();
  const transportOf = (channel: (typeof channels)[number]) => () => {
    let t = transports.get(channel.name);
    if (!t) {
      t = channel.connect(config).catch((error: unknown) => {
        transports.delete(channel.name); // try again on the next job: the cause may pass
        if (error instanceof PermanentError || error instanceof RetryableError) throw error;
        throw new PermanentError(`the ${channel.name} channel could not start: ${(error as Error).message}`);
      });
      transports.set(channel.name, t);
    }
    return t;
  };
  // Load the SDKs before taking the first job: the queue's limiter starts a job every
  // 1000/rate ms, and a first send held up by an SDK loading would arrive bunched with
  // the next ones. (A channel that cannot start fails its jobs, with the reason.)
  await Promise.allSettled(channels.map((c) => transportOf(c)()));
  const queues: { close(): Promise<void> }[] = [];
  const workers = channels.map((channel) => {
    const queue = new Queue(queueName(channel.name), { connection: redis, prefix: target.prefix });
    queues.push(queue);
    const transport = transportOf(channel);
    const handle = createProcessor({
      workerId, prefix: target.prefix, redis, ledger, transport,
      later: async (job, token, ms) => {
        await job.moveToDelayed(Date.now() + ms, token);
        throw new DelayedError();
      },
      pause: async (ms) => {
        await queue.rateLimit(ms);
        throw Worker.RateLimitError();
      },
    });
    const bullWorker: InstanceType<typeof Worker<JobData, Result>> = new Worker<JobData, Result>(queueName(channel.name), (job, token) => handle(job, token), {
      connection: redis, prefix: target.prefix, name: workerId,
      concurrency: concurrency.get(channel.name)!,
      lockDuration: LOCK_MS, stalledInterval: STALLED_CHECK_MS,
      // Our ledger decides about a job handed out again; BullMQ must not give up on it.
      maxStalledCount: 1_000,
    });
    bullWorker.on('error', () => {}); // connection errors: reported once, above
    return bullWorker;
  });
  out.line(`notify worker ${workerId}: serving ${channels.map((c) => `${c.name} (${concurrency.get(c.name)} at a time)`).join(', ')} from ${target.shown}, keys under "${target.prefix}:". Ctrl-C stops.`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) {
        out.line('notify worker: stopping now.');
        process.exit(EXIT.interrupted);
      }
      stopping = true;
      out.line('notify worker: finishing the messages in flight, then stopping (Ctrl-C again to stop now)…');
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
  await stopHeartbeat();
  await Promise.allSettled([...transports.values()].map(async (t) => (await t).close()));
  redis.disconnect();
  out.line('notify worker: stopped.');
  return EXIT.ok;
}

/** `--concurrency 8` (every channel) or `--concurrency sms=8,email=4`; otherwise each channel's default. */
function parseConcurrency(values: string[] = [], channels: ChannelName[]): Map<ChannelName, number> {
  const result = new Map(channels.map((c) => [c, channelNamed(c).defaults.concurrency]));
  for (const item of values.flatMap((v) => v.split(','))) {
    const [left, right] = item.includes('=') ? item.split('=') : ['all', item];
    const n = Number(right);
    const names = left === 'all' ? channels : [left!.trim()];
    if (!Number.isInteger(n) || n <= 0 || !names.every((c) => result.has(c))) {
      throw new UserError(`--concurrency ${item}: write a whole number for every channel (--concurrency 8) or channel=n for a channel this worker serves (${channels.join(', ')}).`);
    }
    for (const c of names) result.set(c, n);
  }
  return result;
}
