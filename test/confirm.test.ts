/**
 * Big sends need more than a reflexive "y": in a real pseudo-terminal the lead types the
 * number of people; a script states it with --expect-count. Every refusal sends nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, baseEnv, ROOT, runCli, type CliResult } from './helpers/cli.js';
import { startAllFakes } from './helpers/fakes.js';
import { crowd, workdir } from './delivery/helpers.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

const FAST = ['--rate', 'all=off', '--channels', 'email'];
const received = () => fakes.email.messages.length;

/** The CLI in a pseudo-terminal (test/helpers/terminal.py), typing `answers` at its prompts. */
function inTerminal(args: string[], cwd: string, answers: [prompt: string, reply: string][]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [join(ROOT, 'test/helpers/terminal.py'), JSON.stringify(answers), process.execPath, BIN, ...args], {
      cwd, env: baseEnv(fakes.env),
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
}

describe('typed confirmation above --confirm-threshold', () => {
  it('in a terminal: a wrong count sends nothing, the right one sends to everyone', async () => {
    const cwd = workdir(crowd(60));
    const before = received();
    const wrong = await inTerminal(['drill', ...FAST], cwd, [['Type 60 to send', '59\r']]);
    expect(wrong.stdout).toMatch(/Type 60 to send 60 messages to 60 people on 1 channel: /);
    expect(wrong.stdout).toMatch(/Not confirmed \(typed "59", expected 60\); nothing was sent\./);
    expect(wrong.code).toBe(2);
    expect(received()).toBe(before);

    const right = await inTerminal(['drill', ...FAST], cwd, [['Type 60 to send', '60\r']]);
    expect(right.code).toBe(0);
    expect(received()).toBe(before + 60);
  });

  it('below the threshold, y/N is enough', async () => {
    const cwd = workdir(crowd(3));
    const before = received();
    const result = await inTerminal(['drill', ...FAST], cwd, [['[y/N]', 'y\r']]);
    expect(result.stdout).toMatch(/Send 3 messages to 3 people on 1 channel now\? \[y\/N\]/);
    expect(result.code).toBe(0);
    expect(received()).toBe(before + 3);
  });

  it('without a terminal, --yes above the threshold needs --expect-count, which must match the plan', async () => {
    const cwd = workdir(crowd(60));
    const env = baseEnv(fakes.env);
    const before = received();
    const bare = await runCli(['drill', '--yes', ...FAST], { cwd, env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/add --expect-count 60 to --yes/);
    const grown = await runCli(['drill', '--yes', '--expect-count', '55', ...FAST], { cwd, env });
    expect(grown.code).toBe(2);
    expect(grown.stderr).toMatch(/--expect-count 55 does not match the plan, which reaches 60 people/);
    expect(received()).toBe(before);

    const raised = await runCli(['drill', '--yes', '--confirm-threshold', '100', ...FAST], { cwd, env });
    expect(raised.code).toBe(0);
    const counted = await runCli(['drill', '--yes', '--expect-count', '60', ...FAST], { cwd, env });
    expect(counted.code).toBe(0);
    expect(received()).toBe(before + 120);
  });

  it('a count flag that is not a whole number is refused before planning', async () => {
    const result = await runCli(['drill', '--yes', '--expect-count', '1.5'], { cwd: workdir(crowd(2)) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--expect-count 1\.5 must be a whole number of people/);
  });
});
