/**
 * Roll-call bench: the time from replies reaching the fakes to the tally showing them, for
 * one `notify rollcall` poll of a drill sent to ROLLCALL_PEOPLE people (SMS + Telegram +
 * email), beside `notify report` on the same journal — same process start, same journal
 * read, no provider calls — measured in the same run. Also the polls per minute per
 * channel at the default --every. Run alone with `npx tsx bench/rollcall.ts` or as a
 * section of `npm run bench`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAllFakes } from '../test/helpers/fakes.js';
import { phoneFor } from './contacts.js';
import { baseEnv, expectExit, median, now, runCli } from './process.js';

const ROLLCALL_PEOPLE = 200;
const ROUNDS = 3;
/** The default of rollcall --every (src/commands/rollcall.ts). */
const DEFAULT_EVERY_S = 30;

type Fakes = Awaited<ReturnType<typeof startAllFakes>>;
export type RowFn = (section: string, measure: string, value: string, baseline?: string, ratio?: number) => void;

export async function rollCallBench(fakes: Fakes, row: RowFn): Promise<Record<string, unknown>> {
  const polls: number[] = [];
  const reports: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const cwd = mkdtempSync(join(tmpdir(), 'notify-bench-rollcall-'));
    const phone = phoneFor;
    const rows = Array.from({ length: ROLLCALL_PEOPLE }, (_, i) => `Person ${i},ops,staff|crisis-team,${phone(i)},p${i}@example.com,,${7000 + i},fr`);
    writeFileSync(join(cwd, 'contacts.csv'), `name,role,groups,phone,email,slack,telegram,locale\n${rows.join('\n')}\n`);
    const env = baseEnv(fakes.env);
    expectExit(await runCli(['drill', '--yes', '--expect-count', String(ROLLCALL_PEOPLE), '--rate', 'all=off', '--concurrency', 'all=8'], { cwd, env, timeoutMs: 120_000 }), 0, 'roll-call drill');
    // Every other person answers, half by SMS, half by Telegram.
    for (let i = 0; i < ROLLCALL_PEOPLE; i += 2) {
      if (i % 4 === 0) fakes.sms.reply(phone(i), '1');
      else fakes.telegram.userMessage(String(7000 + i), '2');
    }
    const injected = now();
    const poll = expectExit(await runCli(['rollcall', '--json'], { cwd, env, timeoutMs: 120_000 }), 1, 'rollcall poll');
    const answered = (JSON.parse(poll.stdout) as { people: { status: string }[] }).people.filter((p) => p.status === 'answered').length;
    if (answered !== ROLLCALL_PEOPLE / 2) throw new Error(`rollcall counted ${answered} answers, expected ${ROLLCALL_PEOPLE / 2}`);
    polls.push(poll.exitedAtMs - injected);
    const report = await runCli(['report'], { cwd, env, timeoutMs: 60_000 });
    reports.push(report.wallMs);
    rmSync(cwd, { recursive: true, force: true });
  }
  const poll = median(polls);
  const report = median(reports);
  const name = `Roll call (median of ${ROUNDS}, ${ROLLCALL_PEOPLE} people, ${ROLLCALL_PEOPLE / 2} replies)`;
  row(name, 'replies at the fakes → tally printed (one poll)', `${poll.toFixed(0)} ms`, `${report.toFixed(0)} ms notify report`, poll / report);
  row(name, 'polls per minute per channel (--watch, default --every)', `${60 / DEFAULT_EVERY_S}`, '');
  row(name, 'reply → tally with --watch at the default --every (worst case)', `${DEFAULT_EVERY_S} s + ${poll.toFixed(0)} ms`, '');
  return { people: ROLLCALL_PEOPLE, pollMs: polls, reportMs: reports, ratio: poll / report, pollsPerMinutePerChannel: 60 / DEFAULT_EVERY_S };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fakes = await startAllFakes();
  try {
    const table: string[] = [];
    const result = await rollCallBench(fakes, (section, measure, value, baseline = '', ratio) =>
      table.push(`${section} | ${measure} | ${value} | ${baseline} | ${ratio === undefined ? '' : ratio.toFixed(2)}`));
    process.stdout.write(`${table.join('\n')}\n${JSON.stringify(result)}\n`);
  } finally {
    await fakes.close();
  }
}
