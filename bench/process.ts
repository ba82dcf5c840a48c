/**
 * Running and timing processes for the bench: the built CLI as users run it (node
 * bin/notify.js, a subprocess), bare `node -e 0`, and the baseline worker. Times are
 * epoch milliseconds with sub-millisecond resolution, so they compare with the journal's
 * ISO timestamps and with the fakes' arrival times recorded in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

export const ROOT = resolve(import.meta.dirname, '..');
export const BIN = join(ROOT, 'bin/notify.js');
const USAGE_PRELOAD = join(ROOT, 'bench/usage.mjs');

export const now = () => performance.timeOrigin + performance.now();

export interface Usage {
  maxRssKb: number;
  userCpuUs: number;
  systemCpuUs: number;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  spawnedAtMs: number;
  exitedAtMs: number;
  wallMs: number;
  /** Peak RSS and CPU of the child, when run with `usage: true`. */
  usage?: Usage;
  /** Killed for running past `timeoutMs`. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  /** Preload bench/usage.mjs to learn the child's peak RSS and CPU time. */
  usage?: boolean;
  nodeArgs?: string[];
  /** Kill the child (SIGKILL) after this long, so one runaway run cannot eat the bench's time budget. */
  timeoutMs?: number;
  onSpawn?(child: ChildProcess): void;
}

/** Spawn `node [nodeArgs] argv…` and time it from spawn() to exit. */
export function runNode(argv: string[], options: RunOptions): Promise<Run> {
  const usageFile = join(options.cwd, `.usage-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const env = options.usage ? { ...options.env, BENCH_USAGE_FILE: usageFile } : options.env;
  const nodeArgs = [...(options.usage ? ['--import', USAGE_PRELOAD] : []), ...(options.nodeArgs ?? [])];
  return new Promise((resolvePromise, reject) => {
    const spawnedAtMs = now();
    const child = spawn(process.execPath, [...nodeArgs, ...argv], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    options.onSpawn?.(child);
    child.on('close', (code) => {
      const exitedAtMs = now();
      clearTimeout(timer);
      let usage: Usage | undefined;
      if (options.usage && existsSync(usageFile)) {
        usage = JSON.parse(readFileSync(usageFile, 'utf8')) as Usage;
        rmSync(usageFile);
      }
      resolvePromise({
        code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(),
        spawnedAtMs, exitedAtMs, wallMs: exitedAtMs - spawnedAtMs, timedOut, ...(usage && { usage }),
      });
    });
  });
}

export function runCli(args: string[], options: RunOptions): Promise<Run> {
  return runNode([BIN, ...args], options);
}

/** Fail the bench loudly: a figure measured on a run that went wrong means nothing. */
export function expectExit(run: Run, code: number | number[], what: string): Run {
  if (![code].flat().includes(run.code ?? NaN)) {
    throw new Error(`${what}: ${run.timedOut ? 'killed after its time limit' : `exit ${run.code}`}, expected ${code}\n--- stderr (end) ---\n${run.stderr.slice(-2000)}\n--- stdout (start) ---\n${run.stdout.slice(0, 1000)}`);
  }
  return run;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A clean environment, as the CLI tests use: no credentials unless given, no colour. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', TZ: 'Europe/Paris', ...extra };
}
