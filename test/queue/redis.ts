/**
 * A private redis-server for the queue tests: its own free port on 127.0.0.1, its own temp
 * dir, never the machine's 6379. Where redis-server is missing the queue tests are skipped
 * and say so, once, naming the package to install.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tempDir } from '../helpers/cli.js';

export const REDIS_MISSING = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error !== undefined;
let warned = false;
export function redisAvailable(): boolean {
  if (REDIS_MISSING && !warned) {
    warned = true;
    process.stderr.write('queue tests SKIPPED: redis-server is not on the PATH; install Debian\'s "redis-server" package (apt-get install redis-server)\n');
  }
  return !REDIS_MISSING;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  /** SIGKILL the server (an outage); `start()` brings it back on the same port and dir. */
  kill(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `persistent`: append-only file fsynced on every write, so a SIGKILL loses nothing (the
 * outage test); otherwise nothing is written to disk. `args`: more server options (ACL users).
 */
export async function startRedis(options: { persistent?: boolean; args?: string[] } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir('notify-redis-');
  let child: ChildProcess | undefined;
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.args ?? []),
  ];
  const start = async () => {
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 10_000);
      const check = () => {
        if (/Ready to accept connections/.test(log)) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 20);
      };
      check();
      child!.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
    });
  };
  const stop = (signal: NodeJS.Signals) => new Promise<void>((resolve) => {
    if (!child || child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
  await start();
  return {
    port, dir, url: `redis://127.0.0.1:${port}`,
    kill: () => stop('SIGKILL'),
    start,
    // Its folder goes with it (the bench starts one too, outside any test file's clean-up).
    close: () => stop('SIGTERM').then(() => rmSync(dir, { recursive: true, force: true })),
  };
}
