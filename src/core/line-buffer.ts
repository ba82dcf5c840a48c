/**
 * Lines waiting to be written to a file, encoded as UTF-8 straight into one reused buffer:
 * writing a line gives its length in bytes, where measuring each (Buffer.byteLength), keeping
 * the strings and joining them at every write cost a plan of 400,000 messages about half a
 * second, and a live one writing its messages twice that. A line can be looked at as bytes
 * before it is kept (`stage`, then `commit`): the message store hashes what it writes.
 */
import { writeSync } from 'node:fs';

const NEWLINE = Buffer.from('\n');

export class LineBuffer {
  private readonly buffer: Buffer;
  private used = 0;
  /** A staged line too long for the buffer, encoded on its own. */
  private long: Buffer | undefined;

  constructor(private readonly fd: () => number | undefined, size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Bytes waiting. */
  get length(): number {
    return this.used;
  }

  /** Adds `text` and a newline (written first, with what waits, when they may not fit); returns their length in bytes. */
  addLine(text: string): number {
    return this.commit(this.stage(text));
  }

  /**
   * `text` encoded, not kept yet: the bytes are valid until the next call, and `commit` keeps
   * them (with a newline); staging another line instead drops them.
   */
  stage(text: string): Buffer {
    // A UTF-16 unit never takes more than 3 bytes of UTF-8.
    if (text.length * 3 + 1 > this.buffer.length - this.used) {
      this.flush();
      if (text.length * 3 + 1 > this.buffer.length) return (this.long = Buffer.from(text));
    }
    this.long = undefined;
    return this.buffer.subarray(this.used, this.used + this.buffer.write(text, this.used));
  }

  /** Keeps the line just staged; returns its length in bytes, newline included. */
  commit(staged: Buffer): number {
    if (staged === this.long) {
      this.long = undefined;
      this.writeAll(Buffer.concat([staged, NEWLINE]));
    } else {
      this.buffer[this.used + staged.length] = 0x0a;
      this.used += staged.length + 1;
    }
    return staged.length + 1;
  }

  /** Writes what waits, now. */
  flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Buffer): void {
    const fd = this.fd();
    if (fd === undefined) return;
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
  }
}
