/**
 * Strings → numbers for millions of keys (the emails, phones and names of a contact list),
 * keeping a 64-bit hash of each key instead of the key: 12 bytes an entry in a table at
 * most half full, where a Map of a million emails holds ~50 MB of strings and entries.
 * Two keys with the same hash are taken for one: for a million keys, about one chance in
 * 30 million that any pair does. Callers confirm a hit against the values they hold
 * whenever a wrong one would cost more than a notice (contacts.ts: merged rows).
 */
export class HashedKeys {
  private size = 0;
  private high = new Uint32Array(1024);
  private low = new Uint32Array(1024);
  /** value + 1; 0 = an empty slot. */
  private values = new Uint32Array(1024);

  get(key: string): number | undefined {
    const s = this.find(key);
    return this.values[s] === 0 ? undefined : this.values[s]! - 1;
  }

  set(key: string, value: number): void {
    let s = this.find(key);
    if (this.values[s] === 0) {
      if ((this.size + 1) * 2 > this.values.length) {
        this.grow();
        s = this.find(key);
      }
      this.size += 1;
      this.high[s] = hashHigh;
      this.low[s] = hashLow;
    }
    this.values[s] = value + 1;
  }

  /** The slot holding `key`, or the empty one where it would go (leaves its hash in hashHigh/hashLow). */
  private find(key: string): number {
    hash64(key);
    const mask = this.values.length - 1;
    let s = hashLow & mask;
    while (this.values[s] !== 0 && (this.high[s] !== hashHigh || this.low[s] !== hashLow)) s = (s + 1) & mask;
    return s;
  }

  private grow(): void {
    const { high, low, values } = this;
    const capacity = values.length * 2;
    this.high = new Uint32Array(capacity);
    this.low = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (let old = 0; old < values.length; old++) {
      if (values[old] === 0) continue;
      let s = low[old]! & mask;
      while (this.values[s] !== 0) s = (s + 1) & mask;
      this.high[s] = high[old]!;
      this.low[s] = low[old]!;
      this.values[s] = values[old]!;
    }
  }
}

// The last hash computed, in two 32-bit halves (no array made per key).
let hashHigh = 0;
let hashLow = 0;

/** Two independent 32-bit multiplicative hashes of the UTF-16 code units, each mixed at the end. */
function hash64(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  hashHigh = finish(a ^ Math.imul(b, 0x27d4eb2d)) >>> 0;
  hashLow = finish(b ^ Math.imul(a, 0x165667b1)) >>> 0;
}

function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
