/** notify watch as a user runs it: the built CLI, its own folder, no credentials unless given. */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, waitUntil } from '../delivery/helpers.js';
import { baseEnv, ROOT, runCli, tempDir } from '../helpers/cli.js';

function workdir(): string {
  const cwd = tempDir('notify-watch-cli-');
  copyFileSync(join(ROOT, 'contacts.example.csv'), join(cwd, 'contacts.csv'));
  return cwd;
}

/** A port nothing listens on: opened, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** The shipped example, as a new user copies it, with its probes pointed at a closed port and a name that does not exist. */
async function exampleWatch(cwd: string, edit: (yaml: string) => string = (y) => y): Promise<void> {
  const port = await closedPort();
  const yaml = readFileSync(join(ROOT, 'watch.example.yaml'), 'utf8')
    .replace('https://web.whatsapp.com/', `http://127.0.0.1:${port}/`)
    .replace('https://metastatus.com/whatsapp-business-api', 'http://status.crisis-notify-test.invalid/');
  writeFileSync(join(cwd, 'watch.yaml'), edit(yaml));
}

describe('notify watch (CLI)', () => {
  it('without watch.yaml: one sentence naming the example to copy, exit 2', async () => {
    const { code, stderr } = await runCli(['watch', '--once'], { cwd: workdir() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^notify: No .*watch\.yaml; copy the example .*watch\.example\.yaml/m);
  });

  it('a mistake in watch.yaml: file, line and what to do, exit 2, no stack trace', async () => {
    const cwd = workdir();
    await exampleWatch(cwd, (y) => y.replace('max_time: 5s', 'max_time: 5 sec'));
    const { code, stderr } = await runCli(['watch', '--once'], { cwd });
    expect(code).toBe(2);
    const line = readFileSync(join(cwd, 'watch.yaml'), 'utf8').split('\n').findIndex((l) => l.includes('max_time: 5 sec')) + 1;
    expect(stderr.trim()).toBe(`notify: watch.yaml:${line}: probe "whatsapp web": max_time "5 sec" is not a duration; write it like 30s, 5m or 1h; fix it and run notify watch again.`);
  });

  it('an auto: send that could not go out is refused before the first round', async () => {
    const cwd = workdir();
    await exampleWatch(cwd, (y) => `${y}\nauto:\n  scenario: outage\n  group: vip\n`);
    const { code, stderr } = await runCli(['watch', '--once'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain('uses {{eta}}, which is not provided');
    expect(stderr).toMatch(/notify: the auto: send of watch\.yaml \(values go under auto: vars:\) cannot be sent as things stand/);
  });

  it('the example pointed at a closed port: every round explains its decision in plain words; --once --json prints one line', async () => {
    const cwd = workdir();
    await exampleWatch(cwd);
    const { code, stdout, stderr } = await runCli(['watch', '--once', '--json'], { cwd });
    expect(stderr).toMatch(/✗ whatsapp web\s+connection refused by 127\.0\.0\.1:\d+/);
    expect(stderr).toMatch(/✗ status page\s+cannot resolve status\.crisis-notify-test\.invalid/);
    expect(stderr).toContain('→ 2 of 2 probes failed (whatsapp web, status page): a failed round. Failed rounds: 1 of the last 1; down needs 3 of 4, so WhatsApp still counts as up.');
    expect(stderr).toContain('No channel is configured to reach the crisis team');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ round: 1, status: 'up', roundFailed: true, failedRounds: 1, actions: [], incident: { open: false } });
  });

  it('Ctrl-C exits 130 and keeps the state; a second watcher in the same folder is refused; the next run resumes the counts', async () => {
    const cwd = workdir();
    await exampleWatch(cwd, (y) => y.replace('interval: 1m ', 'interval: 1h '));
    const env = baseEnv();
    const run = startCli(['watch'], { cwd, env });
    await waitUntil(() => run.stderr().includes('round 1'), run, 'the first round');

    const second = await runCli(['watch', '--once'], { cwd, env });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/Another notify watch \(pid \d+\) is already watching from this folder/);

    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    expect(code).toBe(130);
    expect(stderr).toContain('Stopped. State kept in .notify/watch/state.json (round 1)');
    expect(existsSync(join(cwd, '.notify/watch/lock'))).toBe(false);

    const again = await runCli(['watch', '--once', '--json'], { cwd, env });
    expect(again.stderr).toContain('Resuming from .notify/watch/state.json: 1 rounds so far');
    expect(JSON.parse(again.stdout)).toMatchObject({ round: 2, failedRounds: 2, windowRounds: 2 });
  });
});
