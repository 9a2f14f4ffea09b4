/**
 * A set of row ids (positive integers, dense: SQLite hands them out in order), one bit
 * each: a run's million linked calls take 125 KB instead of the ~25 MB of a `Set`, whose
 * heap the cached rerun of a million samples would otherwise carry to the end.
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
    if (id >= MAX_BITS || id < 0 || !Number.isInteger(id)) return this.#sparse.has(id);
    const at = id >>> 3;
    return at < this.#bits.length && (this.#bits[at]! & (1 << (id & 7))) !== 0;
  }

  add(id: number): void {
    if (id >= MAX_BITS || id < 0 || !Number.isInteger(id)) {
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
