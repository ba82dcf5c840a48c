/**
 * A number per item (or `width` numbers), for millions of items: fixed-size chunks of a
 * typed array rather than one array grown by copying. A growing array wastes up to half its
 * size, and each copy leaves a freed block of tens of megabytes that the process rarely gives
 * back (a million contacts make three million deliveries: about 150 MB of RSS went that way).
 * A chunk is made when a value other than 0 is first stored in it, so a column that stays 0
 * (attempts, flags and reasons of a dry run) costs nothing.
 */
type TypedArray = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** Entries per chunk. */
export const CHUNK_BITS = 16;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;

export class Column {
  private readonly chunks: (TypedArray | undefined)[] = [];
  constructor(private readonly make: (n: number) => TypedArray, private readonly width = 1) {}
  /** Room for items 0 … size - 1 (new ones read 0). */
  ensure(size: number): void {
    while (this.chunks.length << CHUNK_BITS < size) this.chunks.push(undefined);
  }
  get(i: number, k = 0): number {
    const chunk = this.chunks[i >>> CHUNK_BITS];
    return chunk === undefined ? 0 : chunk[(i & CHUNK_MASK) * this.width + k]!;
  }
  set(i: number, value: number, k = 0): void {
    let chunk = this.chunks[i >>> CHUNK_BITS];
    if (chunk === undefined) {
      if (value === 0) return;
      chunk = this.chunks[i >>> CHUNK_BITS] = this.make((CHUNK_MASK + 1) * this.width);
    }
    chunk[(i & CHUNK_MASK) * this.width + k] = value;
  }
}
