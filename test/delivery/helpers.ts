/**
 * Shared by the delivery tests: contact lists built to order, the journal of a run read
 * back, a live CLI process a test can signal, and "what did the fakes receive, per
 * address" — the count every delivery test compares with the journal.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJournal, type JournalEntry, type ReadBackEntry } from '../../src/core/journal.js';
/** The channels these delivery tests run against their fakes. */
export type ChannelName = 'sms' | 'email' | 'slack' | 'telegram';
import type { Received } from '../fakes/provider.js';
import { BIN, tempDir, type CliResult } from '../helpers/cli.js';

export interface Person {
  name: string;
  phone?: string;
  email?: string;
  slack?: string;
  telegram?: string;
  locale?: 'fr' | 'en';
  groups?: string;
}

/**
 * A phone number in the ARCEP fiction range +33 6 39 98 xx xx (src/core/phone.ts accepts
 * it), written the way people do; `e164(i)` is what the plan and the fakes see.
 */
export const phone = (i: number) => `+33 6 39 98 ${String(Math.floor(i / 100)).padStart(2, '0')} ${String(i % 100).padStart(2, '0')}`;
export const e164 = (i: number) => `+3363998${String(i).padStart(4, '0')}`;

export function contactsCsv(people: Person[]): string {
  const rows = people.map((p) =>
    [p.name, 'staff', p.groups ?? 'staff|crisis-team', p.phone ?? '', p.email ?? '', p.slack ?? '', p.telegram ?? '', p.locale ?? 'en'].join(','),
  );
  return ['name,role,groups,phone,email,slack,telegram,locale', ...rows].join('\n') + '\n';
}

/**
 * `count` people, each on 2 to 4 channels: everyone has a phone and an email, every
 * second person a Telegram chat, every third a Slack member id.
 */
export function crowd(count: number): Person[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `Person ${i}`,
    phone: phone(i),
    email: `person${i}@example.com`,
    ...(i % 2 === 0 && { telegram: String(200000 + i) }),
    ...(i % 3 === 0 && { slack: `U0P${String(i).padStart(5, '0')}` }),
    locale: i % 4 === 0 ? 'fr' : 'en',
  }));
}

export function workdir(people: Person[]): string {
  const cwd = tempDir('notify-delivery-');
  writeFileSync(join(cwd, 'contacts.csv'), contactsCsv(people));
  return cwd;
}

export function runIdIn(cwd: string): string | undefined {
  const dir = join(cwd, '.notify/runs');
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir).find((f) => f.endsWith('.jsonl'))?.slice(0, -'.jsonl'.length);
}

/**
 * The journal of the (only) run in `cwd`, read as notify reads it (a torn last line is
 * skipped), planned records with their message restored from the run's message store.
 */
export function journal(cwd: string): ReadBackEntry[] {
  const runId = runIdIn(cwd);
  if (!runId) return [];
  return readJournal(runId, cwd);
}

export type Planned = Extract<ReadBackEntry, { kind: 'planned' }>;
export const plannedIn = (entries: ReadBackEntry[]) => entries.filter((e): e is Planned => e.kind === 'planned');

/** Records about one delivery, in order, without timestamps: the path it took. */
export function pathOf(entries: JournalEntry[], id: string): string[] {
  return entries.flatMap((e) => {
    if (!('id' in e) || e.id !== id || e.kind === 'planned') return [];
    if (e.kind === 'failed') return [`failed#${e.attempt}${e.final ? ' final' : ''}`];
    if (e.kind === 'attempting' || e.kind === 'delivered') return [`${e.kind}#${e.attempt}`];
    return [e.kind];
  });
}

/** Deliveries whose last record is "attempting": in flight when the process died. */
export function inFlight(entries: JournalEntry[]): Set<string> {
  const last = new Map<string, string>();
  for (const e of entries) if ('id' in e && e.kind !== 'planned') last.set(e.id, e.kind);
  return new Set([...last].filter(([, kind]) => kind === 'attempting').map(([id]) => id));
}

/** How many messages each address received (duplicates counted). */
export function received(messages: Received[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.to, (counts.get(m.to) ?? 0) + 1);
  return counts;
}

export interface Fakes {
  sms: { messages: Received[] };
  email: { messages: Received[] };
  slack: { messages: Received[] };
  telegram: { messages: Received[] };
}

/** For each planned delivery, how many copies its address received. */
export function copiesPerDelivery(fakes: Fakes, planned: Planned[]): Map<string, number> {
  const byChannel = Object.fromEntries(
    (['sms', 'email', 'slack', 'telegram'] as ChannelName[]).map((c) => [c, received(fakes[c].messages)]),
  ) as Record<ChannelName, Map<string, number>>;
  return new Map(planned.map((p) => [p.id, byChannel[p.channel as ChannelName].get(p.message.to) ?? 0]));
}

/** A running CLI process: tests wait on the journal, then signal it. */
export interface LiveRun {
  child: ChildProcessWithoutNullStreams;
  done: Promise<CliResult>;
  /** What it has printed on stderr so far. */
  stderr(): string;
}

export function startCli(args: string[], options: { cwd: string; env: Record<string, string> }): LiveRun {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end();
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : null), stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

/** Resolves once `ready()` holds, polling; rejects if the process ends first. */
export async function waitUntil(ready: () => boolean, run: LiveRun, what: string): Promise<void> {
  let ended = false;
  void run.done.then(() => (ended = true));
  while (!ready()) {
    if (ended) {
      const { code, stderr } = await run.done;
      throw new Error(`the run ended (exit ${code}) before ${what}:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Number of "delivered" records in the run's journal, read straight from the file. */
export function deliveredSoFar(cwd: string): number {
  const runId = runIdIn(cwd);
  if (!runId) return 0;
  const text = readFileSync(join(cwd, '.notify/runs', `${runId}.jsonl`), 'utf8');
  return text.split('"kind":"delivered"').length - 1;
}
