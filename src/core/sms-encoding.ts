/**
 * SMS length accounting. A message is GSM-7 when every character is in the GSM 03.38
 * basic set or its extension table (extension characters cost two septets); otherwise
 * it is UCS-2. French `ê â î ô û ç` are not in GSM-7 (only `é è ù ì ò à Ç` are), so one
 * of them switches the whole message to UCS-2.
 *
 * | encoding | one segment | per segment when concatenated |
 * |----------|-------------|-------------------------------|
 * | GSM-7    | 160 septets | 153 septets                   |
 * | UCS-2    | 70 units    | 67 units                      |
 */
import { lastAnswer } from './last-answer.js';

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '^{}\\[~]|€\f';

const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

export const SMS_LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const;

export interface SmsLength {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
  /** The first character that forced UCS-2, to tell the author what to change. */
  nonGsmChar?: string;
}

export const smsLength = lastAnswer(measure);

function measure(text: string): SmsLength {
  let septets = 0;
  let nonGsmChar: string | undefined;
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extension.has(ch)) septets += 2;
    else {
      nonGsmChar = ch;
      break;
    }
  }
  const encoding = nonGsmChar === undefined ? 'GSM-7' : 'UCS-2';
  // UCS-2 counts UTF-16 code units: an emoji outside the BMP takes two.
  const units = encoding === 'GSM-7' ? septets : text.length;
  const { single, multi } = SMS_LIMITS[encoding];
  const segments = units === 0 ? 0 : units <= single ? 1 : concatenatedSegments(text, encoding, multi);
  return nonGsmChar === undefined ? { encoding, units, segments } : { encoding, units, segments, nonGsmChar };
}

/**
 * Segments of a long message, filled character by character: an extension character's two
 * septets (GSM-7) or a surrogate pair (UCS-2) is never split across two segments, so a
 * message can take one segment more than its length divided by 153 or 67.
 */
function concatenatedSegments(text: string, encoding: SmsLength['encoding'], capacity: number): number {
  let segments = 1;
  let used = 0;
  for (const ch of text) {
    const cost = encoding === 'GSM-7' ? (extension.has(ch) ? 2 : 1) : ch.length;
    if (used + cost > capacity) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return segments;
}

const TYPOGRAPHY: Record<string, string> = { '’': "'", '‘': "'", '“': '"', '”': '"', '«': '"', '»': '"', '–': '-', '—': '-', '…': '...', '\u00a0': ' ' };

/**
 * The text as it would read with plain GSM-7 characters (accents dropped, typographic
 * quotes and dashes made plain, anything else "?"): what the preview compares against
 * to say how many segments a character costs.
 */
export function gsmEquivalent(text: string): string {
  let out = '';
  for (const ch of text) {
    if (basic.has(ch) || extension.has(ch)) out += ch;
    else {
      const plain = TYPOGRAPHY[ch] ?? ch.normalize('NFD').replace(/\p{M}/gu, '');
      out += [...plain].every((c) => basic.has(c) || extension.has(c)) ? plain : '?';
    }
  }
  return out;
}
