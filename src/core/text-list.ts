/**
 * Short strings for millions of items (the names of a contact list), stored end to end as
 * UTF-8 in 1 MB blocks: a million names take ~21 MB, where as string objects in an array
 * they took ~50 MB.
 */
import { Column } from './column.js';

const BLOCK_BITS = 20;
const BLOCK_BYTES = 1 << BLOCK_BITS;

export class TextList {
  private readonly blocks: Buffer[] = [];
  /** Where the next string goes in the last block. */
  private used = BLOCK_BYTES;
  /** Per item: block << 20 | offset, and its length in bytes. */
  private readonly where = new Column((n) => new Uint32Array(n), 2);
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.used + bytes > BLOCK_BYTES) {
      this.blocks.push(Buffer.allocUnsafe(Math.max(BLOCK_BYTES, bytes))); // a longer string gets a block of its own
      this.used = 0;
    }
    const block = this.blocks.length - 1;
    this.blocks[block]!.write(text, this.used);
    this.where.ensure(this.count + 1);
    this.where.set(this.count, (block << BLOCK_BITS) | this.used);
    this.where.set(this.count, bytes, 1);
    this.count += 1;
    this.used += bytes;
  }

  at(i: number): string {
    const place = this.where.get(i);
    const block = this.blocks[place >>> BLOCK_BITS]!;
    const start = place & (BLOCK_BYTES - 1);
    return block.toString('utf8', start, start + this.where.get(i, 1));
  }
}
