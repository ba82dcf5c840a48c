/**
 * `.env` in the working directory. Node's parseEnv skips a line it cannot read without a
 * word and can swallow the lines after it into a garbled name, so a typo such as
 * `TWILIO_FROM +33…` made the channel "not configured" with no hint why: every line is
 * checked first and the first bad one is reported by number (never by content: it may
 * hold a token).
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { UserError } from './errors.js';

const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=(.*)$/;

export function readEnvFile(path: string, shown = '.env'): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`${shown} cannot be read (${(error as NodeJS.ErrnoException).code}); check that it is a file you can read.`);
  }
  const bad = firstMalformedLine(text);
  if (bad !== undefined) {
    const word = /^\s*([A-Za-z_][A-Za-z0-9_]*)\b/.exec(bad.text)?.[1];
    throw new UserError(
      `${shown}:${bad.line}: ${word ? `the line for ${word} ` : 'this line '}is not NAME=value; write it as NAME=value (quote values with spaces; # starts a comment).`,
    );
  }
  return parseEnv(text) as Record<string, string>;
}

/** 1-based number and text of the first line that is neither blank, a comment nor NAME=value. */
export function firstMalformedLine(text: string): { line: number; text: string } | undefined {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const assignment = ASSIGNMENT.exec(line);
    if (!assignment) return { line: i + 1, text: line };
    // A quoted value may run over several lines, up to its closing quote.
    const value = assignment[1]!.trimStart();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && !value.slice(1).includes(quote)) {
      const end = lines.findIndex((l, j) => j > i && l.includes(quote));
      if (end < 0) return { line: i + 1, text: line }; // never closed
      i = end;
    }
  }
  return undefined;
}
