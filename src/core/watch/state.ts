/**
 * What the watcher keeps under `.notify/watch/`, so a restarted watcher resumes its
 * counts instead of starting blind:
 *
 * | file            | what                                                                 |
 * |-----------------|----------------------------------------------------------------------|
 * | `state.json`    | the verdict, the window of recent rounds, each probe's last check,   |
 * |                 | messages decided but not sent yet, the last reminder's due time      |
 * | `history.jsonl` | one line per round: what each probe saw and what was decided         |
 * | `lock`          | the pid of the running watcher (two watchers would page twice)       |
 *
 * `state.json` is replaced atomically (written aside, then renamed): a crash leaves the
 * old state or the new one, never half of it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { FRESH, type Memory } from './decide.js';

export const WATCH_DIR = join('.notify', 'watch');

export interface ProbeMemory {
  /** When it last ran (ISO); a probe with a longer interval is not re-run before its time. */
  lastRun: string;
  ok: boolean;
  detail: string;
}

/** A message the watcher decided to send and has not started yet (retried next round if nothing went out). */
export type PendingMessage =
  | { kind: 'alert' | 'recovered' | 'auto'; decidedAt: string; vars: Record<string, string> }
  | { kind: 'reminder'; decidedAt: string; dueAt: string; vars: Record<string, string> };

export interface WatchState {
  version: 1;
  memory: Memory;
  probes: Record<string, ProbeMemory>;
  /** The crisis team was alerted for the current outage (so it is told when it ends). */
  alerted: boolean;
  pending: PendingMessage[];
  /** Due time (ISO) of the last update reminder sent: one reminder per due time. */
  remindedFor?: string;
}

export const freshState = (): WatchState => ({ version: 1, memory: structuredClone(FRESH), probes: {}, alerted: false, pending: [] });

export class WatchStore {
  readonly dir: string;
  constructor(cwd = process.cwd()) {
    this.dir = join(cwd, WATCH_DIR);
  }

  private path(name: string): string {
    return join(this.dir, name);
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The saved state; `notice` says when a damaged file was set aside. */
  load(): { state: WatchState; resumed: boolean; notice?: string } {
    const file = this.path('state.json');
    if (!existsSync(file)) return { state: freshState(), resumed: false };
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as WatchState;
      if (state.version !== 1 || !state.memory) throw new Error('unknown format');
      return { state: { ...freshState(), ...state }, resumed: true };
    } catch (error) {
      // A damaged state must not stop the watching: keep it for a post-mortem, start afresh.
      const aside = `${file}.damaged-${Date.now()}`;
      renameSync(file, aside);
      return { state: freshState(), resumed: false, notice: `${file} could not be read (${(error as Error).message}); kept as ${aside}, counting from zero.` };
    }
  }

  save(state: WatchState): void {
    this.ensureDir();
    const file = this.path('state.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  /** One line per round, appended. */
  record(round: object): void {
    this.ensureDir();
    const fd = openSync(this.path('history.jsonl'), 'a', 0o600);
    try {
      writeSync(fd, JSON.stringify(round) + '\n');
    } finally {
      closeSync(fd);
    }
  }

  /** Take the folder's watcher lock; a live watcher already holding it is a user error. Returns the release. */
  lock(pid = process.pid): () => void {
    this.ensureDir();
    const file = this.path('lock');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, String(pid));
        closeSync(fd);
        return () => {
          try {
            if (readFileSync(file, 'utf8').trim() === String(pid)) unlinkSync(file);
          } catch {
            // already gone
          }
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(readFileSync(file, 'utf8').trim());
        if (holder && holder !== pid && alive(holder)) {
          throw new UserError(`Another notify watch (pid ${holder}) is already watching from this folder (${file}); stop it first, or run this one from another folder.`);
        }
        unlinkSync(file); // left by a watcher that died: take it over
      }
    }
    throw new UserError(`Cannot take the watcher lock ${file}; remove it if no notify watch is running.`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
