/**
 * A set of row ids (positive integers, dense: SQLite hands them out in order), one bit
 * each: a run's million linked calls take 125 KB where a `Set` keeps an entry per id to
 * the end of the run (bench/scale.ts, a cached rerun of a million samples: peak RSS 380
 * MB with a Set, 337 MB with this).
 */
export class IdSet {
  #bits: Uint8Array;
  /** Ids too large for a bitmap of reasonable size (a database whose ids jumped), kept as a Set. */
  readonly #sparse = new Set<number>();

  constructor(ids: Iterable<number> = []) {
    this.#bits = new Uint8Array(1024);
    for (const id of ids) this.add(id);
  }

  has(id: number): boolean {
    if (!inBitmap(id)) return this.#sparse.has(id);
    const at = id >>> 3;
    return at < this.#bits.length && (this.#bits[at]! & (1 << (id & 7))) !== 0;
  }

  add(id: number): void {
    if (!inBitmap(id)) {
      this.#sparse.add(id);
      return;
    }
    const at = id >>> 3;
    if (at >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(at + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[at]! |= 1 << (id & 7);
  }
}

/** Ids below this live in the bitmap (at most 32 MiB); the rest in a Set. */
const MAX_BITS = 2 ** 28;

const inBitmap = (id: number): boolean => Number.isInteger(id) && id >= 0 && id < MAX_BITS;
