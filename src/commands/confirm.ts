/**
 * Mass sends are deliberate: on a terminal, ask; without one (scripts, CI, `CI` set),
 * require --yes. Any answer but yes — Ctrl-C included — sends nothing.
 */
import { createInterface } from 'node:readline/promises';
import { UserError } from '../errors.js';
import type { Output } from '../output.js';

export interface ConfirmOptions {
  yes?: boolean;
  ci: boolean;
  messages: number;
  people?: number;
  /** Added to the refusal without a terminal, e.g. " (or --dry-run to try)". */
  alternative?: string;
}

export async function confirmSend(out: Output, options: ConfirmOptions): Promise<void> {
  if (options.yes) return;
  const { people } = options;
  const messages = `${options.messages} message${options.messages === 1 ? '' : 's'}`;
  const interactive = process.stdin.isTTY && process.stderr.isTTY && !options.ci;
  if (!interactive) {
    throw new UserError(`This would send ${messages}; without a terminal to confirm, add --yes to send them${options.alternative ?? ''}; nothing was sent.`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const interrupted = new AbortController();
  rl.once('SIGINT', () => interrupted.abort());
  try {
    const question = out.color.bold(`Send ${messages}${people === undefined ? '' : ` to ${people} people`} now? [y/N] `);
    const answer = await rl.question(question, { signal: interrupted.signal }).catch(() => '');
    if (!/^(y|yes|o|oui)$/i.test(answer.trim())) throw new UserError('Not confirmed; nothing was sent.');
  } finally {
    rl.close();
  }
}
