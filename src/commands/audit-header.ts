/**
 * The audit header of a run record: who ran it, on which machine, from which commit of
 * the plan's repository, with which inputs (their SHA-256) and the command line as typed,
 * secrets redacted. Everything here is read without spawning a process (git is read from
 * .git directly): it runs before the first message of every send.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { CHANNEL_LIST } from '../channels/index.js';
import { secretValues } from '../core/channel.js';
import type { AuditHeader } from '../core/journal.js';
import type { Config } from '../config.js';

export interface HeaderInput {
  config: Config;
  contactsFile: string;
  templatesDir: string;
  variables: Record<string, string>;
  argv?: string[];
  /** The contacts file's SHA-256 when already known (the contact list's first pass computes it). */
  contactsSha256?: string;
}

export function auditHeader(input: HeaderInput): AuditHeader {
  const git = gitCommit([input.templatesDir, dirname(input.contactsFile), process.cwd()]);
  return {
    chain: 1,
    user: safe(() => userInfo().username) ?? process.env.USER ?? 'unknown',
    host: safe(() => hostname()) ?? 'unknown',
    ...(git && { git }),
    argv: redactArgv(input.argv ?? process.argv.slice(2), input.config),
    inputs: {
      ...(existsSync(input.contactsFile) && { contacts: { file: input.contactsFile, sha256: input.contactsSha256 ?? fileSha256(input.contactsFile) } }),
      templates: { dir: input.templatesDir, ...treeSha256(input.templatesDir) },
      variables: variablesSha256(input.variables),
    },
  };
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

// ───────────────────────────── hashes of the inputs ─────────────────────────────

/** SHA-256 of a file, read a megabyte at a time (a contact list can be 100 MB). */
export function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) hash.update(chunk.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * SHA-256 over every file of a folder, in path order: for each, its path (relative, with
 * `/`), a NUL, its own SHA-256, a newline. Renaming, adding or editing any file changes it.
 */
export function treeSha256(dir: string): { sha256: string; files: number } {
  const hash = createHash('sha256');
  let files = 0;
  for (const path of listFiles(dir)) {
    hash.update(`${relative(dir, path).split(sep).join('/')}\0${fileSha256(path)}\n`);
    files += 1;
  }
  return { sha256: hash.digest('hex'), files };
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    let names: string[];
    try {
      names = readdirSync(at).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(at, name);
      const stat = safe(() => statSync(path));
      if (stat?.isDirectory()) walk(path);
      else if (stat?.isFile()) out.push(path);
    }
  };
  walk(dir);
  return out;
}

/** SHA-256 of the variables as sorted JSON: the same values always give the same hash. */
export function variablesSha256(variables: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(variables).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

// ───────────────────────────── the command line ─────────────────────────────

const REDACTED = '[redacted]';
/** Variable names that say they hold a secret. */
const SECRET_NAME = /token|secret|passw|pwd|api[_-]?key|auth|credential|private/i;

/**
 * The command line with secrets replaced: any channel secret's value (tokens from the
 * environment or .env, should one be pasted on the command line), the password of a URL
 * (`smtp://user:pass@host`), and the value of a `--var` whose name says it is secret.
 */
export function redactArgv(argv: string[], config: Pick<Config, 'env'>): string[] {
  const secrets = CHANNEL_LIST.flatMap((c) => secretValues(c, config)).filter((s) => s.length >= 4);
  let afterVar = false;
  return argv.map((arg) => {
    let out = arg;
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    out = out.replace(/(\w+:\/\/[^:/@\s]*:)[^@\s]+@/g, `$1${REDACTED}@`);
    const assignment = /^(--var=)?([^=]+)=(.*)$/s.exec(out);
    if (assignment && (afterVar || assignment[1]) && SECRET_NAME.test(assignment[2]!)) out = `${assignment[1] ?? ''}${assignment[2]}=${REDACTED}`;
    afterVar = arg === '--var';
    return out;
  });
}

/** Variables as the run record keeps them: a value whose name says it is secret is replaced. */
export function redactVariables(variables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, SECRET_NAME.test(k) ? REDACTED : v]));
}

// ───────────────────────────── git, read directly ─────────────────────────────

/** The commit checked out in the first of `dirs` inside a git repository, read from .git. */
export function gitCommit(dirs: string[]): AuditHeader['git'] | undefined {
  for (const start of dirs) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const dotGit = join(dir, '.git');
      if (existsSync(dotGit)) {
        const commit = safe(() => readHead(dotGit));
        return commit ? { repo: dir, commit } : undefined;
      }
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

function readHead(dotGit: string): string | undefined {
  // A worktree or submodule has a .git file naming its git directory.
  let gitDir = dotGit;
  if (statSync(dotGit).isFile()) {
    const target = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
    if (!target) return undefined;
    gitDir = resolve(dirname(dotGit), target);
  }
  const common = existsSync(join(gitDir, 'commondir')) ? resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim()) : gitDir;
  const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
  const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
  if (!ref) return /^[0-9a-f]{40,64}$/.test(head) ? head : undefined;
  for (const base of [gitDir, common]) {
    const loose = join(base, ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
  }
  const packed = safe(() => readFileSync(join(common, 'packed-refs'), 'utf8')) ?? '';
  return new RegExp(`^([0-9a-f]{40,64}) ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(packed)?.[1];
}
