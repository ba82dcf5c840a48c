/** A published roll call shows its aggregate on the status page: counts only, never names. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startAllFakes } from '../helpers/fakes.js';

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

describe('status page of a published roll call', () => {
  it('counts answers and the silent, and names nobody', async () => {
    const cwd = tempDir();
    cpSync(join(ROOT, 'templates'), join(cwd, 'templates'), { recursive: true });
    const yaml = join(cwd, 'templates/outage/scenario.yaml');
    writeFileSync(yaml, `${readFileSync(yaml, 'utf8')}\nanswers: {"1": safe, "2": needs help}\n`);
    writeFileSync(join(cwd, 'contacts.csv'), 'name,role,groups,phone,email,slack,telegram,locale\nAlice Martin,lead,staff,+33639980101,,,,fr\nBob Stone,ops,staff,+33639980102,,,,en\n');
    const env = baseEnv(fakes.env);
    const sent = await runCli(['outage', '--yes', '--var', 'eta=15:00', '--status-page', 'public', '--rate', 'all=off'], { cwd, env });
    expect(sent.code).toBe(0);
    fakes.sms.reply('+33639980101', '1');
    expect((await runCli(['rollcall'], { cwd, env })).code).toBe(1);
    expect((await runCli(['status-page', '--out', 'public', '--locale', 'en'], { cwd, env })).code).toBe(0);
    const status = JSON.parse(readFileSync(join(cwd, 'public/status.json'), 'utf8'));
    expect(status.updates[0].rollCall).toEqual({ answers: [{ key: '1', label: 'safe', count: 1 }, { key: '2', label: 'needs help', count: 0 }], silent: 1, unreachable: 0 });
    const html = readFileSync(join(cwd, 'public/index.html'), 'utf8');
    expect(html).toContain('Roll call: safe: 1 · needs help: 0 · no answer yet: 1');
    for (const file of ['status.json', 'index.html', 'feed.xml']) expect(readFileSync(join(cwd, 'public', file), 'utf8')).not.toMatch(/Alice|Bob|\+33639980101/);
  });
});
