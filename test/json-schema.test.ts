/** Every --json output validates against the schema documented in the README. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, ROOT, runCli, tempDir } from './helpers/cli.js';
import { startAllFakes } from './helpers/fakes.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'schema/notify-result.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true });
ajv.addSchema(schema);
const validate = (definition: string, value: unknown) => {
  const check = ajv.getSchema(`${schema.$id}#/definitions/${definition}`)!;
  const ok = check(value);
  return ok ? 'valid' : ajv.errorsText(check.errors);
};

let fakes: Awaited<ReturnType<typeof startAllFakes>>;
beforeAll(async () => {
  fakes = await startAllFakes();
});
afterAll(() => fakes.close());

describe('--json outputs match schema/notify-result.schema.json', () => {
  it('dry run', async () => {
    const r = await runCli(['outage', '--dry-run', '--json']);
    expect(validate('runReport', JSON.parse(r.stdout))).toBe('valid');
  });
  it('live send with a failure, then report', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'contacts.csv'), readFileSync(join(ROOT, 'contacts.example.csv')));
    const env = baseEnv({ ...fakes.env, TELEGRAM_BOT_TOKEN: '1:wrong' });
    const r = await runCli(['resolved', '--yes', '--json', '--rate', 'all=off'], { cwd, env });
    const report = JSON.parse(r.stdout);
    expect(report.failures.length).toBeGreaterThan(0);
    expect(validate('runReport', report)).toBe('valid');
    const again = await runCli(['report', report.runId, '--json'], { cwd, env });
    expect(validate('runReport', JSON.parse(again.stdout))).toBe('valid');
    expect(JSON.parse(again.stdout).channels).toEqual(report.channels);
  });
  it('check, passing and failing', async () => {
    const ok = await runCli(['check', '--json']);
    expect(validate('checkResult', JSON.parse(ok.stdout))).toBe('valid');
    const faults = join(ROOT, 'test/fixtures/check-faults');
    const bad = await runCli(['check', '--json', '--contacts', join(faults, 'contacts.csv'), '--templates', join(faults, 'templates')]);
    expect(JSON.parse(bad.stdout).ok).toBe(false);
    expect(validate('checkResult', JSON.parse(bad.stdout))).toBe('valid');
  });
  it('preview', async () => {
    const r = await runCli(['preview', 'outage', '--json']);
    const previews = JSON.parse(r.stdout);
    expect(previews.length).toBeGreaterThan(4);
    expect(validate('preview', previews)).toBe('valid');
  });
});
