/**
 * `notify status-page --out` pointing somewhere it cannot write: one sentence saying what
 * to do (exit 2), never "unexpected error". After a send (`--status-page DIR`) the same
 * sentence is shown, and the send's own outcome stands.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, baseEnv, ROOT, runCli, tempDir, type CliResult } from '../helpers/cli.js';

/** Others may enter the folders down to `dir` and read `dir` itself: the checkout is code, not secrets. */
function letOthersRead(dir: string): void {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode & 0o7777;
    const wanted = d === dir ? 0o005 : 0o001;
    if ((mode & wanted) !== wanted) chmodSync(d, mode | wanted);
  }
}

/** Run the CLI as a user who is not root (root writes into read-only folders anyway). */
function runAsUser(args: string[], cwd: string): Promise<CliResult> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(cwd, 0o755); // let "nobody" in
    letOthersRead(ROOT); // a checkout in a `mktemp -d` folder (mode 0700) would keep "nobody" from the CLI itself
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd, env: baseEnv({ HOME: cwd }), stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot && { uid: 65534, gid: 65534 }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('notify status-page --out that cannot be written', () => {
  it('a file: says it is a file and to give a folder', async () => {
    const cwd = tempDir('status-page-out-');
    writeFileSync(join(cwd, 'public'), 'not a folder');
    const result = await runCli(['status-page', '--out', 'public'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('notify: public is a file, not a folder; give the status page a folder (it is created if missing).\n');
  });

  it('a folder inside a file: says so', async () => {
    const cwd = tempDir('status-page-out-');
    writeFileSync(join(cwd, 'public'), 'not a folder');
    const result = await runCli(['status-page', '--out', 'public/site'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('notify: public/site is inside a file, not a folder; give the status page a folder (it is created if missing).\n');
  });

  it('a read-only folder: says it is read-only and what to do', async () => {
    const cwd = tempDir('status-page-out-');
    mkdirSync(join(cwd, 'public'));
    chmodSync(join(cwd, 'public'), 0o555);
    const result = await runAsUser(['status-page', '--out', 'public'], cwd);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toBe(
      'notify: The status page cannot be written into public: that folder is read-only for you (EACCES); choose a folder you can write to, or change its permissions.\n',
    );
  });

  it('after a dry run with --status-page pointing at a file: the run is reported as usual, then the sentence', async () => {
    const cwd = tempDir('status-page-out-');
    writeFileSync(join(cwd, 'public'), 'not a folder');
    const result = await runCli(['outage', '--dry-run', '--status-page', 'public'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/People: \d+ targeted, \d+ would be reached\.\n/);
    expect(result.stderr).toContain('The status page in public could not be updated: public is a file, not a folder; give the status page a folder (it is created if missing).');
    expect(result.stderr).not.toContain('unexpected error');
  });
});
