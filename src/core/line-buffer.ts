/**
 * Lines waiting to be written to a file, encoded as UTF-8 straight into one reused buffer:
 * writing a line gives its length in bytes, where measuring each (Buffer.byteLength), keeping
 * the strings and joining them at every write cost a plan of 400,000 messages about half a
 * second, and a live one writing its messages twice that.
 */
import { writeSync } from 'node:fs';

const NEWLINE = Buffer.from('\n');

export class LineBuffer {
  private readonly buffer: Buffer;
  private used = 0;

  constructor(private readonly fd: () => number | undefined, size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Bytes waiting. */
  get length(): number {
    return this.used;
  }

  /** Adds `text` and a newline (written first, with what waits, when they may not fit); returns their length in bytes. */
  addLine(text: string): number {
    // A UTF-16 unit never takes more than 3 bytes of UTF-8.
    if (text.length * 3 + 1 > this.buffer.length - this.used) {
      this.flush();
      if (text.length * 3 + 1 > this.buffer.length) {
        const bytes = Buffer.from(text + '\n');
        this.writeAll(bytes);
        return bytes.length;
      }
    }
    const bytes = this.buffer.write(text, this.used);
    this.buffer[this.used + bytes] = 0x0a;
    this.used += bytes + 1;
    return bytes + 1;
  }

  /** Adds bytes already encoded, and a newline; returns their length. */
  addBytesLine(bytes: Buffer): number {
    if (bytes.length + 1 > this.buffer.length - this.used) {
      this.flush();
      if (bytes.length + 1 > this.buffer.length) {
        this.writeAll(Buffer.concat([bytes, NEWLINE]));
        return bytes.length + 1;
      }
    }
    bytes.copy(this.buffer, this.used);
    this.buffer[this.used + bytes.length] = 0x0a;
    this.used += bytes.length + 1;
    return bytes.length + 1;
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
