/**
 * Mass sends are deliberate: on a terminal, ask; without one (scripts, CI, `CI` set),
 * require --yes. Above a threshold of people a reflexive "y" is not enough: the lead types
 * the number of people, and a script states it with --expect-count, so a plan that grew
 * since the script was written refuses to send. Any other answer — Ctrl-C included —
 * sends nothing.
 */
import { createInterface } from 'node:readline/promises';
import { UserError } from '../errors.js';
import type { Output } from '../output.js';

/** People above which the count must be typed (or stated with --expect-count). */
export const DEFAULT_CONFIRM_THRESHOLD = 50;

export interface ConfirmOptions {
  yes?: boolean;
  ci: boolean;
  messages: number;
  people?: number;
  channels?: number;
  /** --confirm-threshold; undefined = the default. */
  threshold?: number;
  /** --expect-count: the number of people a script expects to reach. */
  expectCount?: number;
  /** Added to the refusal without a terminal, e.g. " (or --dry-run to try)". */
  alternative?: string;
}

/** `--confirm-threshold 50`, `--expect-count 2000`: whole numbers, or one sentence naming the flag. */
export function countFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/[,_]/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag} ${value} must be a whole number of people, e.g. ${flag} 120.`);
  return n;
}

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, word: string) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;
const persons = (n: number) => (n === 1 ? '1 person' : `${count(n)} people`);

export async function confirmSend(out: Output, options: ConfirmOptions): Promise<void> {
  const { people, expectCount } = options;
  const big = people !== undefined && people > (options.threshold ?? DEFAULT_CONFIRM_THRESHOLD);
  if (expectCount !== undefined && expectCount !== people) {
    throw new UserError(`--expect-count ${count(expectCount)} does not match the plan, which reaches ${persons(people ?? 0)}; check the list and filters, then correct the count; nothing was sent.`);
  }
  const interactive = canAsk(options.ci);
  if (options.yes && !(big && !interactive && expectCount === undefined)) return;
  const messages = plural(options.messages, 'message');
  if (!interactive) {
    throw new UserError(
      options.yes
        ? `This would send ${messages} to ${persons(people!)}, above --confirm-threshold ${options.threshold ?? DEFAULT_CONFIRM_THRESHOLD}; without a terminal add --expect-count ${people} to --yes, so the send stops if the list changes; nothing was sent.`
        : `This would send ${messages}; without a terminal to confirm, add --yes to send them${big ? ` and --expect-count ${people}` : ''}${options.alternative ?? ''}; nothing was sent.`,
    );
  }
  const on = options.channels ? ` on ${plural(options.channels, 'channel')}` : '';
  if (big) {
    const answer = await ask(out.color.bold(`Type ${count(people!)} to send ${messages} to ${persons(people!)}${on}: `));
    if (Number(answer.replace(/[\s,._']/g, '')) !== people || answer === '') {
      throw new UserError(`Not confirmed (typed "${answer}", expected ${count(people!)}); nothing was sent.`);
    }
  } else if (!(await askYesNo(out.color.bold(`Send ${messages}${people === undefined ? '' : ` to ${persons(people)}`}${on} now? [y/N] `)))) {
    throw new UserError('Not confirmed; nothing was sent.');
  }
}

/** A person is there to answer: stdin and stderr are terminals, and CI is not set. */
export function canAsk(ci: boolean): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !ci;
}

/** One question on the terminal; Ctrl-C answers "". */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const interrupted = new AbortController();
  rl.once('SIGINT', () => interrupted.abort());
  try {
    return (await rl.question(question, { signal: interrupted.signal }).catch(() => '')).trim();
  } finally {
    rl.close();
  }
}

/** y/yes/o/oui is yes; anything else, Ctrl-C included, is no. */
export async function askYesNo(question: string): Promise<boolean> {
  return /^(y|yes|o|oui)$/i.test(await ask(question));
}
