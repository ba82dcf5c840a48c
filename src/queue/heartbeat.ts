/**
 * Worker heartbeats: each worker refreshes a key that expires DEAD_AFTER_MS after its last
 * beat (Redis keeps the time, so the machines' clocks do not matter), and lists itself in
 * one hash with what it serves. `notify check --queue` and the lead read them; a worker
 * finding a delivery "attempting" by another worker reads them to tell a colleague still
 * sending from a dead one.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export const HEARTBEAT_MS = 2_000;
/** A worker silent this long is dead (five missed beats: a busy event loop or a Redis blip is not death). */
export const DEAD_AFTER_MS = 10_000;

const aliveKey = (prefix: string, id: string) => `${prefix}:worker:${id}`;
const listKey = (prefix: string) => `${prefix}:workers`;

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  channels: string[];
  startedAt: string;
}

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Beat until stopped; returns the function that stops and removes this worker. */
export function startHeartbeat(redis: Redis, prefix: string, info: WorkerInfo): () => Promise<void> {
  const beat = () => redis.multi()
    .set(aliveKey(prefix, info.id), '1', 'PX', DEAD_AFTER_MS)
    .hset(listKey(prefix), info.id, JSON.stringify(info))
    .exec()
    .catch(() => {}); // Redis away: the worker says so elsewhere; beats resume when it is back
  void beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  return async () => {
    clearInterval(timer);
    await redis.multi().del(aliveKey(prefix, info.id)).hdel(listKey(prefix), info.id).exec().catch(() => {});
  };
}

export async function isAlive(redis: Redis, prefix: string, id: string): Promise<boolean> {
  return (await redis.exists(aliveKey(prefix, id))) === 1;
}

/** Workers alive now; the dead are forgotten on the way. */
export async function aliveWorkers(redis: Redis, prefix: string): Promise<WorkerInfo[]> {
  const all = await redis.hgetall(listKey(prefix));
  const alive: WorkerInfo[] = [];
  for (const [id, json] of Object.entries(all)) {
    if (await isAlive(redis, prefix, id)) alive.push(JSON.parse(json) as WorkerInfo);
    else await redis.hdel(listKey(prefix), id);
  }
  return alive;
}
