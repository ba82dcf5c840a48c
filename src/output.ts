/**
 * Human output goes to stderr (stdout is kept for --json). No colour when NO_COLOR is
 * set, stderr is not a terminal, or CI is set. In CI (or with --mask) phone numbers and
 * email addresses are masked in everything printed.
 *
 * Printing never stops a send: when whoever reads stdout or stderr goes away
 * (`notify outage --yes 2>&1 | head -3`), the write fails with EPIPE; that stream is
 * then left alone and the run goes on. The journal is the record, and the exit code
 * says what happened to the messages, not to the output.
 */
import { Chalk, chalkStderr } from 'chalk';

type Std = NodeJS.WriteStream;
/** Streams whose reader is gone: nothing more is written to them. */
const closed = new WeakSet<Std>();
const guarded = new WeakSet<Std>();

/** Ignore write errors on a standard stream from now on (an unhandled one would end the process). */
function guard(stream: Std): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', () => closed.add(stream));
}

/** Write to stdout or stderr; a reader that went away is not an error. */
export function write(stream: Std, text: string): void {
  guard(stream);
  if (closed.has(stream) || stream.destroyed) return;
  try {
    stream.write(text);
  } catch {
    closed.add(stream); // a synchronous failure (a file descriptor closed under us)
  }
}

/** Guard both streams as soon as output is used, before the first line is printed. */
export function guardStandardStreams(): void {
  guard(process.stdout);
  guard(process.stderr);
}

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
// Phone-like runs: at least 8 digits, possibly spaced or dotted (+33 6 12 34 56 78, 0612345678).
const PHONE = /\+?\d(?:[ .()]?\d){7,}/g;

export function maskEmail(email: string): string {
  return email.replace(EMAIL, '$1***@$2');
}

export function maskPhone(phone: string): string {
  return phone.replace(PHONE, (m) => {
    const digits = m.replace(/\D/g, '');
    return `${m.startsWith('+') ? '+' : ''}${digits.slice(0, 3)}${'•'.repeat(Math.max(0, digits.length - 5))}${digits.slice(-2)}`;
  });
}

export function maskText(text: string): string {
  return maskPhone(maskEmail(text));
}

export interface Output {
  color: InstanceType<typeof Chalk>;
  mask: boolean;
  /** One line to stderr (masked when masking is on). */
  line(text?: string): void;
  /** Mask an address if masking is on. */
  address(text: string): string;
  /** The --json result on stdout (masked like the rest when masking is on). */
  json(value: unknown): void;
}

export function createOutput(options: { ci: boolean; mask?: boolean }): Output {
  guardStandardStreams();
  const mask = options.ci || options.mask === true;
  const color = options.ci ? new Chalk({ level: 0 }) : chalkStderr;
  return {
    color,
    mask,
    line: (text = '') => write(process.stderr, (mask ? maskText(text) : text) + '\n'),
    address: (text) => (mask ? maskText(text) : text),
    json: (value) => {
      const masked = mask ? (_key: string, v: unknown) => (typeof v === 'string' ? maskText(v) : v) : undefined;
      write(process.stdout, JSON.stringify(value, masked, 2) + '\n');
    },
  };
}
