/**
 * The folder of run journals, `.notify/runs/`, and the only way from a run id typed by a
 * user to a file: a run id names a journal in that folder, nothing else. A path, `..`,
 * a link leading out of the folder or an id that matches no run is refused (exit 2) with
 * the recent runs, so `notify report ../../x` or `notify resume /tmp/x` can never read,
 * append to or re-send from a file elsewhere.
 */
import { accessSync, constants, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { UserError } from '../errors.js';

export const RUNS_DIR = join('.notify', 'runs');
const SUFFIX = '.jsonl';

export function journalPath(runId: string, cwd = process.cwd()): string {
  return join(cwd, RUNS_DIR, `${runId}${SUFFIX}`);
}

/**
 * What is wrong with `.notify/runs/` as a folder, in one sentence, or undefined when it
 * is a folder or does not exist yet. (`.notify` left as a file by hand or by another tool.)
 */
export function runsDirProblem(cwd = process.cwd()): string | undefined {
  for (const part of ['.notify', RUNS_DIR]) {
    let isDir: boolean;
    try {
      isDir = statSync(join(cwd, part)).isDirectory();
    } catch {
      return undefined; // missing: created on the first run
    }
    if (!isDir) {
      return `${part} here is a file, not a folder: notify keeps its run journals in ${RUNS_DIR}/; rename or remove that file (it was not written by notify), or run notify from another folder`;
    }
  }
  return undefined;
}

/** Run ids in the journal folder, oldest first (ids start with the date and time). */
export function listRuns(cwd = process.cwd()): string[] {
  const problem = runsDirProblem(cwd);
  if (problem) throw new UserError(`${problem}.`);
  let names: string[];
  try {
    names = readdirSync(join(cwd, RUNS_DIR));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`Cannot read ${RUNS_DIR}/ (${(error as NodeJS.ErrnoException).code}); check the folder's permissions.`);
  }
  return names.filter((f) => f.endsWith(SUFFIX) && f.length > SUFFIX.length).map((f) => f.slice(0, -SUFFIX.length)).sort();
}

/**
 * Why the journal of `runId` must not be read, or undefined when it is a plain file of
 * the folder (a link is followed only when it stays inside the folder).
 */
export function journalFileProblem(runId: string, cwd = process.cwd()): string | undefined {
  const path = journalPath(runId, cwd);
  const shown = join(RUNS_DIR, `${runId}${SUFFIX}`);
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
    if (link) {
      const dir = realpathSync(join(cwd, RUNS_DIR));
      const target = realpathSync(path);
      const inside = relative(dir, target);
      if (!inside || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
        return `${shown} is a link to ${target}, outside ${RUNS_DIR}/; notify only reads journals inside that folder (remove the link, or copy the journal into the folder)`;
      }
    }
    if (!statSync(path).isFile()) return `${shown} is not a file`;
    accessSync(path, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return link && code === 'ENOENT' ? `${shown} is a link to nothing` : `${shown} cannot be read (${code}); check its permissions`;
  }
  return undefined;
}

export interface ResolvedRun {
  runId: string;
  path: string;
}

/**
 * The run a user means by `input`: an id of `.notify/runs/` or a unique beginning of one
 * (`notify report 2026-11-25-0214`). Anything else is a UserError listing recent runs.
 */
export function resolveRun(input: string, cwd = process.cwd()): ResolvedRun {
  const runs = listRuns(cwd);
  const wanted = input.endsWith(SUFFIX) ? input.slice(0, -SUFFIX.length) : input;
  if (!wanted || /[/\\\0]/.test(wanted) || wanted.includes('..') || isAbsolute(wanted)) {
    throw new UserError(`"${input}" is not a run id: give the name of a run in ${RUNS_DIR}/, not a path${recent(runs)}.`);
  }
  let runId = runs.find((r) => r === wanted);
  if (!runId) {
    const matches = runs.filter((r) => r.startsWith(wanted));
    if (matches.length > 1) {
      const shown = matches.slice(-5);
      throw new UserError(
        `"${input}" matches ${matches.length} runs (${matches.length > shown.length ? '…, ' : ''}${shown.join(', ')}); give more of the run id.`,
      );
    }
    runId = matches[0];
  }
  if (!runId) throw new UserError(`No run "${input}" in ${RUNS_DIR}/${recent(runs)}.`);
  const problem = journalFileProblem(runId, cwd);
  if (problem) throw new UserError(`${problem}.`);
  return { runId, path: journalPath(runId, cwd) };
}

function recent(runs: string[]): string {
  const last = runs.slice(-5);
  return last.length ? `; recent runs: ${last.join(', ')}` : '; there are no runs yet (run a scenario first, e.g. notify outage --dry-run)';
}
