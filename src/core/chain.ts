/**
 * The hashes of the journal's audit trail.
 *
 * `linkHash(line)`: what the next record stores as `prev` — SHA-256 of the record's line as
 * written (its bytes, without the newline), kept to 96 bits and written in base64url (16
 * characters). Why these choices:
 * - SHA-256 is in node:crypto (native, no dependency, ~1 µs for a 200-byte record) and is
 *   what auditors expect to see named;
 * - 96 bits, because every record pays for them (a dry run of a million contacts writes
 *   several million records, and the target is ≤ 300 bytes per delivery): 16 characters
 *   instead of 64 for the full hex digest. Forging an edited record whose truncated hash
 *   still matches is a second-preimage search of 2^96 work — out of reach — while an
 *   accidental change is caught with certainty. (A chain is only as strong as its end:
 *   anyone can rewrite a whole journal and recompute every link, so `notify audit verify`
 *   prints the hash of the last record, to be kept outside the machine — a CI log, the
 *   incident ticket — where a rewritten journal no longer matches it.)
 *
 * `messageDigest(body)`: the same hash over the rendered message, kept in each planned
 * record, so a message read back for sending (or resending) is the one that was checked.
 * Its parts are hashed as they are, each after its length (so no two messages share an
 * input), not as JSON: serialising every message first was a tenth of a 400,000-message
 * plan's time. Journals written before hashed the JSON form (`legacyMessageDigest`). The
 * message store keeps that same input, so a live run builds each message's string once.
 */
import { createHash, hash } from 'node:crypto';

/** Characters of base64url kept: 16 × 6 = 96 bits. */
const KEEP = 16;

export function linkHash(line: string | Buffer): string {
  // crypto.hash: one call, no Hash object per record (a million-contact run hashes millions).
  return hash('sha256', line, 'base64url').slice(0, KEEP);
}

/** The rendered parts of a message that a digest covers, in a fixed order. */
export interface MessageBody {
  text: string;
  subject?: string;
  html?: string;
}

export function bodyJson(body: MessageBody): string {
  return JSON.stringify([body.text, body.subject ?? null, body.html ?? null]);
}

export function messageDigest(body: MessageBody): string {
  return linkHash(digestInput(body));
}

/**
 * A message as its digest reads it, and as the message store keeps it: each part after its
 * length in UTF-16 units (`5:hello0:0:`), read back by `fromDigestInput`.
 */
export function digestInput(body: MessageBody): string {
  const { text, subject = '', html = '' } = body;
  return `${text.length}:${text}${subject.length}:${subject}${html.length}:${html}`;
}

/** The message a `digestInput` string holds (an empty subject or HTML is none); undefined if it is not one. */
export function fromDigestInput(input: string): MessageBody | undefined {
  const parts: string[] = [];
  let at = 0;
  while (parts.length < 3) {
    const colon = input.indexOf(':', at);
    const length = colon > at ? Number(input.slice(at, colon)) : NaN;
    if (!Number.isSafeInteger(length) || colon + 1 + length > input.length) return undefined;
    parts.push(input.slice(colon + 1, colon + 1 + length));
    at = colon + 1 + length;
  }
  if (at !== input.length) return undefined;
  const [text, subject, html] = parts as [string, string, string];
  return { text, ...(subject && { subject }), ...(html && { html }) };
}

/** The digest journals held before `messageDigest` (SHA-256 of the message as JSON). */
export function legacyMessageDigest(body: MessageBody): string {
  return linkHash(bodyJson(body));
}

/** SHA-256 of a file's bytes, in hex (input hashes in the run record), read in chunks. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
