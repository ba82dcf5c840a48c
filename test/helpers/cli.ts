/** Run the built CLI as a user would: a subprocess, its own working directory and environment. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/notify.js');
export const NO_NETWORK = join(ROOT, 'test/helpers/no-network.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Folders made by tempDir in this test file: removed when it is done (test/helpers/cleanup.ts). */
const made: string[] = [];

export function tempDir(prefix = 'notify-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A full run used to leave ~300 folders (some of 70 MB journals) in /tmp; KEEP_TEST_DIRS=1 keeps them to look into. */
export function removeTempDirs(): void {
  if (process.env.KEEP_TEST_DIRS) return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A clean environment: no credentials, no CI, no colour — unless the test adds them. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', TZ: 'Europe/Paris', ...extra };
}

export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; nodeArgs?: string[]; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      cwd: options.cwd ?? tempDir(),
      env: options.env ?? baseEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
