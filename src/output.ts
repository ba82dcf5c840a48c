/**
 * Human output goes to stderr (stdout is kept for --json). No colour when NO_COLOR is
 * set, stderr is not a terminal, or CI is set. In CI (or with --mask) phone numbers and
 * email addresses are masked in everything printed.
 */
import { Chalk, chalkStderr } from 'chalk';

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
  const mask = options.ci || options.mask === true;
  const color = options.ci ? new Chalk({ level: 0 }) : chalkStderr;
  return {
    color,
    mask,
    line: (text = '') => process.stderr.write((mask ? maskText(text) : text) + '\n'),
    address: (text) => (mask ? maskText(text) : text),
    json: (value) => {
      const masked = mask ? (_key: string, v: unknown) => (typeof v === 'string' ? maskText(v) : v) : undefined;
      process.stdout.write(JSON.stringify(value, masked, 2) + '\n');
    },
  };
}
