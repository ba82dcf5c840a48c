/**
 * `notify rollcall --watch` under CI: one line per change, Ctrl-C exits 130 with the journal
 * intact, and a watch started again neither loses nor double-counts a reply.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, BIN, runCli, tempDir } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

const CONTACTS = `name,role,groups,phone,email,slack,telegram,locale
Alice Martin,lead,staff|crisis-team,+33639980101,,,,fr
Bob Stone,ops,staff|crisis-team,+33639980102,,,,en
Carol Vidal,ops,staff|crisis-team,,,,3003,fr
`;

/** Start a watch; `until(text)` resolves once stderr shows it. */
function watch(cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'rollcall', '--watch', '--every', '1s'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const waiters: { text: RegExp; resolve: () => void }[] = [];
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const w of waiters.filter((w) => w.text.test(stderr))) w.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child, exited, output: () => stderr,
    until: (text: RegExp) => new Promise<void>((resolve) => (text.test(stderr) ? resolve() : waiters.push({ text, resolve }))),
  };
}

const replies = (cwd: string) => {
  const dir = join(cwd, '.notify/runs');
  return readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.kind === 'reply');
};

describe('rollcall --watch', () => {
  it('prints one line per change under CI, exits 130 on Ctrl-C, and a restarted watch neither loses nor double-counts', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), CONTACTS);
    const env = baseEnv({ ...fakes.env, CI: 'true' });
    expect((await runCli(['drill', '--yes', '--rate', 'all=off'], { cwd, env })).code).toBe(0);

    const first = watch(cwd, env);
    await first.until(/Roll call · drill/);
    fakes.sms.reply('+33639980101', '1');
    await first.until(/✓ A\. M\.: 1 \(safe\) by sms/); // names masked under CI
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    expect(first.output()).toMatch(/Interrupted; every reply heard so far is in the journal/);
    expect(first.output()).not.toMatch(/Alice|\+33639980101/);
    expect(replies(cwd)).toHaveLength(1);

    // Replies that arrive while nobody watches are picked up by the next watch, once.
    fakes.telegram.userMessage('3003', '2');
    fakes.sms.reply('+33639980102', 'yes');
    const second = watch(cwd, env);
    expect(await second.exited).toBe(0); // everyone answered: the watch ends by itself
    expect(second.output()).toMatch(/Everyone answered\./);
    expect(replies(cwd).map((r) => r.answer).sort()).toEqual(['1', '1', '2']);
    const tally = JSON.parse((await runCli(['rollcall', '--json'], { cwd, env })).stdout);
    expect(tally.counts).toMatchObject({ 1: 2, 2: 1, silent: 0 });
    expect(replies(cwd)).toHaveLength(3);
  });
});
