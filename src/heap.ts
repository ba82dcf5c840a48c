/**
 * A large plan or journal allocates far more than it keeps (rendered messages, records,
 * hashes), and by default V8 lets the old generation grow several times past what is live
 * before a full collection (a 100,000-contact dry run: ~270 MB of RSS instead of ~180).
 * Growing it 10% at a time keeps the peak near what is live.
 *
 * Commands that read a contact list or a journal call this once their modules are loaded.
 * From process start it made loading the CLI itself collect far more often: 30–40 ms of a
 * 1,000-contact send's time to first message, and more of a 100,000-contact dry run. For
 * the same reason a small contact list (under 1 MB, ~12,000 people) does without it.
 */
import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

/** Below this, an input is small enough that the default growth costs little memory and saves collections. */
const LARGE_INPUT_BYTES = 1024 * 1024;

/** `input`: the file the command reads; the setting is skipped when it is small (a 1,000-contact list). */
export function keepHeapNearLive(input?: string): void {
  if (input !== undefined && sizeOf(input) < LARGE_INPUT_BYTES) return;
  setFlagsFromString('--heap-growing-percent=10');
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return Infinity; // the command says what is wrong with it
  }
}
