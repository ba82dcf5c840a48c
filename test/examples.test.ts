/**
 * The shipped GitHub Actions workflow: valid against the workflow schema, installs crisis-notify
 * only from a pinned commit (never by a package name someone else could publish), cannot run
 * with its placeholders unedited, gives secrets only to the steps that need them, says the same
 * as the README's install section, and only calls commands and flags that exist.
 * (That the install path itself works is proven by .ci/install-check.sh, run by .ci/run.)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runCli, tempDir } from './helpers/cli.js';

const WORKFLOW_FILE = join(ROOT, 'examples/github-actions/crisis-drill.yml');
const source = readFileSync(WORKFLOW_FILE, 'utf8');
const workflow = parse(source);

interface Step { name?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown>; 'working-directory'?: string }
const steps: Step[] = workflow.jobs.drill.steps;
const stepNamed = (name: string) => steps.find((s) => s.name === name)!;
const notifyCalls = steps
  .flatMap((s) => (s.run ?? '').split('\n'))
  .map((line) => line.trim())
  .filter((line) => line.startsWith('notify '));

/** The @action-validator/cli devDependency: the GitHub Actions workflow schema (SchemaStore's), compiled to WASM. */
function validate(file: string) {
  return spawnSync(process.execPath, [join(ROOT, 'node_modules/@action-validator/cli/cli.mjs'), file], { encoding: 'utf8' });
}

/** A step's script as GitHub runs it on Linux: `bash --noprofile --norc -eo pipefail {0}`. */
function runStep(step: Step, env: Record<string, string>) {
  return spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {
    encoding: 'utf8', cwd: tempDir(), env: { PATH: process.env.PATH ?? '', ...env },
  });
}

describe('examples/github-actions/crisis-drill.yml', () => {
  it('is a valid GitHub Actions workflow (schema-checked), and the validator does reject a broken one', () => {
    const valid = validate(WORKFLOW_FILE);
    // The validator cannot check globs yet (pull_request.paths) and says so; anything else is an error.
    expect(valid.stderr.replace(/^WARNING: Glob validation is not yet supported\..*\n?/gm, '')).toBe('');
    expect(valid.status).toBe(0);

    const broken = join(tempDir(), 'crisis-drill.yml');
    writeFileSync(broken, source.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest'));
    const rejected = validate(broken);
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toContain("Additional property 'runs_on' is not allowed");
  });

  it('runs nightly and weekly, with CI set', () => {
    expect(workflow.on.schedule).toHaveLength(2);
    expect(workflow.jobs.drill.env.CI).toBe('true');
    expect(notifyCalls.length).toBeGreaterThanOrEqual(3);
  });

  it('installs nothing by package name: no npx, no registry install, only the pinned checkout', () => {
    const scripts = steps.map((s) => s.run ?? '').join('\n');
    expect(scripts).not.toMatch(/\bnpx\b|\byarn\b|\bpnpm\b/);
    const installs = scripts.split('\n').map((l) => l.trim()).filter((l) => /^npm (install|i|add|ci)\b/.test(l));
    expect(installs.length).toBeGreaterThan(0);
    for (const line of installs) {
      const [, command, ...rest] = line.split(/\s+/);
      const targets = rest.filter((word) => !word.startsWith('-'));
      if (command === 'ci') expect(targets, line).toEqual([]); // exactly what the lock file says
      else expect(targets, line).toEqual(['.']); // the checked-out folder, never a name
    }
    // No other way in: no crisis-notify package name, no tarball or git URL fetched by npm.
    expect(scripts).not.toMatch(/npm[^\n]*(crisis-notify|git\+|https?:|\.tgz)/);
  });

  it('installs from the repository and full commit named at the top, with the lock file', () => {
    const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@') && s.with?.repository)!;
    expect(checkout.with).toMatchObject({
      repository: '${{ env.CRISIS_NOTIFY_REPOSITORY }}',
      ref: '${{ env.CRISIS_NOTIFY_COMMIT }}',
      'persist-credentials': false,
    });
    const install = stepNamed('Install crisis-notify');
    expect(install['working-directory']).toBe(checkout.with!.path);
    expect(install.run).toMatch(/^npm ci\b/m);
    expect(install.run).toMatch(/^npm install --global\b.* \.$/m);
    // the order that makes it so: guard, then the tool, then installing it, then using it
    const at = (step: Step) => steps.indexOf(step);
    expect(at(stepNamed('Check which crisis-notify to install'))).toBe(0);
    expect(at(checkout)).toBeLessThan(at(install));
    expect(at(install)).toBeLessThan(at(stepNamed('Check the plan')));
  });

  describe('the placeholder cannot run unedited', () => {
    const guard = stepNamed('Check which crisis-notify to install');
    const SHA = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';

    it('as shipped, the first step fails and names both values to fill in', () => {
      const result = runStep(guard, workflow.env);
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/::error::Set CRISIS_NOTIFY_REPOSITORY at the top of this workflow/);
      expect(result.stdout).toMatch(/::error::Set CRISIS_NOTIFY_COMMIT at the top of this workflow to the full 40-character commit/);
    });

    it.each([
      ['a branch name', 'main'],
      ['a short commit', 'abc1234'],
      ['a tag', 'v0.1.0'],
      ['an upper-case or padded commit', ` ${SHA.toUpperCase()}`],
    ])('refuses %s as the commit', (_what, commit) => {
      const result = runStep(guard, { CRISIS_NOTIFY_REPOSITORY: 'example-org/crisis-notify', CRISIS_NOTIFY_COMMIT: commit });
      expect(result.status).toBe(1);
      expect(result.stdout).toContain('::error::Set CRISIS_NOTIFY_COMMIT');
      expect(result.stdout).not.toContain('CRISIS_NOTIFY_REPOSITORY at the top');
    });

    it('refuses a repository that is not owner/name, and passes once both are filled in', () => {
      const bad = runStep(guard, { CRISIS_NOTIFY_REPOSITORY: 'https://github.com/example-org/crisis-notify', CRISIS_NOTIFY_COMMIT: SHA });
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain('::error::Set CRISIS_NOTIFY_REPOSITORY');
      const good = runStep(guard, { CRISIS_NOTIFY_REPOSITORY: 'example-org/crisis-notify', CRISIS_NOTIFY_COMMIT: SHA });
      expect(good.stdout).toContain(`Installing crisis-notify from example-org/crisis-notify at commit ${SHA}.`);
      expect(good.status).toBe(0);
    });
  });

  it('gives secrets only to the two check steps: never to the job, the install or the dry runs', () => {
    const withSecrets = steps.filter((s) => JSON.stringify(s).includes('secrets.')).map((s) => s.name);
    expect(withSecrets).toEqual(['Check the plan', 'Check the credentials with each provider (sends nothing)']);
    expect(JSON.stringify(workflow.env)).not.toContain('secrets.');
    expect(JSON.stringify(workflow.jobs.drill.env)).not.toContain('secrets.');
    for (const name of withSecrets) {
      const env = stepNamed(name!).env!;
      for (const v of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM', 'SMTP_URL', 'MAIL_FROM', 'SLACK_BOT_TOKEN', 'TELEGRAM_BOT_TOKEN']) {
        expect(env[v], `${name}: ${v}`).toBe(`\${{ secrets.${v} }}`);
      }
    }
    expect(stepNamed('Check the credentials with each provider (sends nothing)').run).toContain('--live');
  });

  it.each(notifyCalls)('"%s" uses a real command and real flags', async (line) => {
    const words = line.replace(/>.*$/, '').replace(/"\$scenario"/, 'outage').trim().split(/\s+/).slice(1);
    const command = words[0] === 'check' ? ['check'] : [];
    const help = await runCli([...command, '--help']);
    expect(help.code).toBe(0);
    for (const flag of words.filter((w) => w.startsWith('--'))) expect(help.stdout).toContain(flag);
  });
});

describe('README install section', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Install'))!;

  it('gives the same install commands as the workflow, at a pinned commit', () => {
    expect(section).toBeDefined();
    const block = section.match(/```sh\n([\s\S]*?)```/)![1]!;
    const lines = block.split('\n').map((l) => l.replace(/#.*$/, '').trim());
    for (const command of stepNamed('Install crisis-notify').run!.trim().split('\n')) expect(lines).toContain(command.trim());
    expect(block).toMatch(/git checkout <[^>]*40[^>]*>/);
    expect(section).toContain('CRISIS_NOTIFY_REPOSITORY');
    expect(section).toContain('CRISIS_NOTIFY_COMMIT');
  });

  it('has no command installing crisis-notify by name, and runs npx notify only inside the clone', () => {
    const codeBlocks = (text: string) => [...text.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
    const commands = codeBlocks(readme);
    expect(commands).toContain('npm install --global');
    expect(commands).not.toMatch(/npm (install|i|add)\b[^\n]*\bcrisis-notify\b/);
    const npxSections = readme.split(/^## /m).filter((s) => /npx notify/.test(codeBlocks(s))).map((s) => s.split('\n')[0]);
    expect(npxSections).toEqual(['Try it (no credentials needed)']);
  });
});
