/** The pure parts of notify watch: durations, the decision, reminders, JSON paths, watch.yaml errors. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../../src/core/duration.js';
import { latestCustomerRun, openIncident } from '../../src/core/incident.js';
import { tempDir } from '../helpers/cli.js';
import { parseWatchConfig } from '../../src/core/watch/config.js';
import { decide, FRESH, reminderDue, type Memory, type Rules } from '../../src/core/watch/decide.js';
import { checkJson, readPath } from '../../src/core/watch/probes.js';
import { UserError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000], ['5m', 300_000], ['1h30m', 5_400_000], ['1h 30m', 5_400_000], ['500ms', 500], [90, 90_000], ['2', 2000],
    ['5 sec', undefined], ['soon', undefined], ['', undefined], ['5mm', undefined],
  ])('%j → %j', (input, expected) => expect(parseDuration(input)).toBe(expected));
});

describe('readPath / checkJson', () => {
  const body = JSON.stringify({ status: { indicator: 'none' }, components: [{ status: 'operational' }] });
  it.each([
    ['status.indicator', 'none'], ['components.0.status', 'operational'], ['components[0].status', 'operational'], ['status.nope', undefined],
  ])('%s → %j', (path, expected) => expect(readPath(JSON.parse(body), path)).toBe(expected));
  it.each([
    [{ path: 'status.indicator', equals: ['none'] }, undefined],
    [{ path: 'status.indicator', equals: ['minor', 'none'] }, undefined],
    [{ path: 'status.indicator', equals: ['major'] }, 'status.indicator is "none" (expected "major")'],
    [{ path: 'status.missing' }, 'the answer has no status.missing'],
    [{ path: 'status' }, undefined],
  ])('%j → %j', (rule, expected) => expect(checkJson(body, rule)).toBe(expected));
  it('says when the answer is not JSON', () => expect(checkJson('<html>', { path: 'a' })).toBe('the answer is not JSON'));
});

describe('decide', () => {
  const rules: Rules = { downAfter: { failed: 3, of: 4 }, agree: 2, upAfter: 3 };
  const t0 = Date.parse('2026-11-25T10:00:00Z');
  /** Feed rounds ("ab" = probes a and b failed, "" = none) and collect the changes. */
  function play(rounds: string[], start: Memory = FRESH) {
    let memory = start;
    const changes: string[] = [];
    rounds.forEach((failing, i) => {
      const d = decide(memory, { at: new Date(t0 + i * 60_000), failing: failing.split(''), total: 3 }, rules, 'WhatsApp');
      memory = d.memory;
      changes.push(d.change ?? '-');
    });
    return { memory, changes: changes.join(' ') };
  }
  it.each([
    ['one flaky probe never calls it down', ['a', 'a', 'a', 'a', 'a'], '- - - - -'],
    ['two probes, 3 failed rounds of 4', ['ab', 'ab', '', 'ab', 'ab'], '- - - down -'],
    ['3 failed rounds in a row', ['ab', 'bc', 'abc'], '- - down'],
    ['2 of 4 is not enough', ['ab', '', 'ab', '', 'ab', ''], '- - - - - -'],
    ['back up after 3 clean rounds', ['ab', 'ab', 'ab', '', 'a', '', 'c'], '- - down - - up -'],
    ['a failed round resets the clean streak', ['ab', 'ab', 'ab', '', '', 'ab', '', '', ''], '- - down - - - - - up'],
    ['after recovery, a new outage needs 3 new failed rounds', ['ab', 'ab', 'ab', '', '', '', 'ab', 'ab', 'ab'], '- - down - - up - - down'],
  ])('%s', (_name, rounds, expected) => expect(play(rounds).changes).toBe(expected));

  it('dates the outage from the first failed round of the window, and explains itself', () => {
    const first = decide(FRESH, { at: new Date(t0), failing: ['a', 'b'], total: 3 }, rules, 'WhatsApp');
    const second = decide(first.memory, { at: new Date(t0 + 60_000), failing: ['a'], total: 3 }, rules, 'WhatsApp');
    expect(second.explanation).toContain('1 of 3 probes failed (a); that alone does not count, a round fails only when at least 2 probes agree');
    expect(second.explanation).toContain('down needs 3 of 4, so WhatsApp still counts as up');
    const { memory } = play(['ab', 'a', 'ab', 'ab']);
    expect(memory.status).toBe('down');
    expect(memory.downSince).toBe(new Date(t0).toISOString());
  });
});

describe('reminderDue', () => {
  const at = new Date('2026-11-25T10:32:00Z');
  const incident = { scenario: 'outage', runId: 'r', at };
  const min = (m: number) => new Date(at.getTime() + m * 60_000);
  it.each([
    ['before the due time', min(29), undefined, false],
    ['at the due time', min(30), undefined, true],
    ['later, never reminded', min(45), undefined, true],
    ['already reminded for this due time', min(45), min(30).toISOString(), false],
    ['reminded for an earlier due time', min(45), min(0).toISOString(), true],
  ])('%s', (_name, now, remindedFor, due) => {
    expect(Boolean(reminderDue(incident, 30 * 60_000, remindedFor, now))).toBe(due);
  });
  it('no incident or no update_every: no reminder', () => {
    expect(reminderDue(undefined, 60_000, undefined, min(99))).toBeUndefined();
    expect(reminderDue(incident, undefined, undefined, min(99))).toBeUndefined();
  });
});

describe('watch.yaml', () => {
  const ok = 'probes:\n  - { name: a, http: "http://127.0.0.1:1/" }\n  - { name: b, dns: example.invalid }\n';
  it('reads defaults', () => {
    const config = parseWatchConfig(ok, 'watch.yaml');
    expect(config).toMatchObject({ intervalMs: 60_000, downAfter: { failed: 3, of: 4 }, agree: 2, upAfter: 3, team: 'crisis-team' });
    expect(config.probes.map((p) => [p.kind, p.timeoutMs])).toEqual([['http', 10_000], ['dns', 10_000]]);
  });
  const error = (source: string) => {
    try {
      parseWatchConfig(source, 'watch.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  it.each([
    ['a bad duration', 'interval: 1m\nprobes:\n  - name: a\n    http: "http://x/"\n    timeout: 5 sec\n  - { name: b, dns: x }\n',
      'watch.yaml:5: probe "a": timeout "5 sec" is not a duration; write it like 30s, 5m or 1h; fix it and run notify watch again.'],
    ['an unknown key', 'probes:\n  - name: a\n    http: "http://x/"\n    contain: up\n  - { name: b, dns: x }\n',
      'watch.yaml:4: unknown setting "contain" in probe "a"'],
    ['two kinds in one probe', 'probes:\n  - { name: a, dns: x, tcp: "x:1" }\n  - { name: b, dns: x }\n',
      'watch.yaml:2: probe "a" must have exactly one of http, dns, tcp, command (it has dns and tcp)'],
    ['a single probe with agree 2', 'probes:\n  - { name: a, dns: x }\n',
      'only 1 is listed; add an independent probe (another host or provider) or set agree: 1'],
    ['down_after in words', 'down_after: three of four\nprobes:\n  - { name: a, dns: x }\n  - { name: b, dns: y }\n',
      'watch.yaml:1: down_after must read "N of M", e.g. "3 of 4"'],
    ['auto without a group', 'probes:\n  - { name: a, dns: x }\n  - { name: b, dns: y }\nauto:\n  scenario: outage\n',
      'watch.yaml:4: auto.group is missing'],
    ['http options on a dns probe', 'probes:\n  - { name: a, dns: x }\n  - name: b\n    dns: y\n    status: 200\n',
      'watch.yaml:5: "status" only applies to http probes, and "b" is a dns probe'],
    ['broken YAML', 'probes:\n  - name: a\n   dns: [\n', 'watch.yaml:'],
  ])('%s', (_name, source, expected) => expect(error(source)).toContain(expected));
});

describe('openIncident (from the run journals)', () => {
  function runs(list: [string, string, object?][]): string {
    const cwd = tempDir('notify-incident-');
    mkdirSync(join(cwd, '.notify/runs'), { recursive: true });
    for (const [at, scenario, extra] of list) {
      const runId = `${at.slice(0, 16).replace('T', '-').replace(':', '')}-${scenario}-abcd`;
      const run = { at, kind: 'run', runId, scenario, dryRun: false, publish: true, variables: {}, ...extra };
      writeFileSync(join(cwd, '.notify/runs', `${runId}.jsonl`), `${JSON.stringify(run)}\n`);
    }
    return cwd;
  }
  it('the latest published live outage/update/resolved run decides', async () => {
    const cwd = runs([
      ['2026-11-25T10:02:00Z', 'outage'],
      ['2026-11-25T10:40:00Z', 'update', { dryRun: true }],
      ['2026-11-25T10:41:00Z', 'update', { publish: undefined }], // a test send, not on the status page
      ['2026-11-25T10:42:00Z', 'drill'],
      ['2026-11-25T10:43:00Z', 'alert-team'],
    ]);
    expect(await openIncident(cwd)).toMatchObject({ scenario: 'outage', at: new Date('2026-11-25T10:02:00Z') });
  });
  it('resolved closes it, even in the same minute as an update (compared by time, not by name)', async () => {
    const cwd = runs([['2026-11-25T10:02:00Z', 'outage'], ['2026-11-25T11:00:05Z', 'resolved'], ['2026-11-25T11:00:01Z', 'update']]);
    expect(await latestCustomerRun(cwd)).toMatchObject({ scenario: 'resolved' });
    expect(await openIncident(cwd)).toBeUndefined();
  });
  it('no runs, no incident', async () => expect(await openIncident(tempDir())).toBeUndefined());
});
