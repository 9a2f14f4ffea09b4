/**
 * A memory budget shared by every image decode in flight in one process. No sharp import
 * here: the CLI configures the budget at start-up without loading libvips.
 */
import { UsageError, expected } from '../core/errors.js';

/**
 * Default decoding memory of a whole process, in bytes: 512 MiB, so a run on a laptop
 * stays well under a GiB whatever its images. Set by `QUORUM_DECODE_MEMORY` for the CLI.
 */
export const DEFAULT_DECODE_MEMORY = 512 * 1024 ** 2;

/**
 * A weighted async semaphore over bytes of decoding memory. Each decode asks for its
 * estimated footprint (from the header, `decodeFootprint` in `_sharp.ts`) and waits until
 * the decodes already in flight leave room for it; waiters are served in order, so a large
 * image is not starved by a stream of small ones. An image that needs more than the whole
 * budget is not refused: it waits until nothing else is in flight and then runs alone.
 *
 * The bound is on the estimates, which were measured as peak RSS growth and rounded up;
 * decodes that skip libvips (the synchronous PNG check in `_png.ts`, at most 32 MiB, one
 * at a time) are not counted.
 *
 * @example
 * const budget = new DecodeBudget(256 * 1024 ** 2);
 * const pixels = await budget.use(6000 * 6000 * 3, () => decode(file)); // waits for room first
 */
export class DecodeBudget {
  #capacity: number;
  #inUse = 0;
  #peak = 0;
  readonly #waiting: { bytes: number; start: () => void }[] = [];

  /** @param capacity bytes of decoding memory, at least 1. */
  constructor(capacity: number = DEFAULT_DECODE_MEMORY) {
    this.#capacity = checkCapacity(capacity);
  }

  /** Bytes the decodes in flight may hold together. Raising it starts waiting decodes that now fit. */
  get capacity(): number {
    return this.#capacity;
  }

  set capacity(bytes: number) {
    this.#capacity = checkCapacity(bytes);
    this.#startWaiting();
  }

  /** Estimated bytes held by the decodes in flight now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** The largest `inUse` seen so far (an image over the whole budget counts as the budget). */
  get peak(): number {
    return this.#peak;
  }

  /** Decodes waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `decode` once `bytes` of the budget are free, and frees them when it settles
   * (resolved or rejected). `bytes` above the whole budget count as the whole budget.
   */
  async use<T>(bytes: number, decode: () => Promise<T>): Promise<T> {
    if (!(bytes >= 0)) throw new UsageError(expected('bytes', 'a number >= 0', bytes));
    const weight = Math.min(bytes, this.#capacity);
    if (this.#waiting.length > 0 || !this.#fits(weight)) {
      await new Promise<void>((start) => this.#waiting.push({ bytes: weight, start }));
    } else {
      this.#take(weight);
    }
    try {
      return await decode();
    } finally {
      this.#inUse -= weight;
      this.#startWaiting();
    }
  }

  /** Whole when nothing else runs: an image as large as the budget always gets it alone. */
  #fits(weight: number): boolean {
    return this.#inUse === 0 || this.#inUse + weight <= this.#capacity;
  }

  #take(weight: number): void {
    this.#inUse += weight;
    if (this.#inUse > this.#peak) this.#peak = this.#inUse;
  }

  #startWaiting(): void {
    for (let next = this.#waiting[0]; next !== undefined && this.#fits(next.bytes); next = this.#waiting[0]) {
      this.#waiting.shift();
      // Taken here, not when the waiter resumes, so the room cannot be given twice.
      this.#take(next.bytes);
      next.start();
    }
  }
}

function checkCapacity(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 1) throw new UsageError(expected('decodeMemory', 'a number of bytes >= 1', bytes));
  return bytes;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Reads a memory size as a user writes it: bytes, or a number with a binary unit
 * (`K`, `M`, `G`, optionally followed by `iB` or `B`; all powers of 1024).
 *
 * @example
 * parseMemorySize('QUORUM_DECODE_MEMORY', '2G'); // => 2147483648
 * parseMemorySize('QUORUM_DECODE_MEMORY', '768MiB'); // => 805306368
 */
export function parseMemorySize(name: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(text);
  const bytes = match ? Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? NaN) : NaN;
  if (!(bytes >= 1) || !Number.isFinite(bytes)) {
    throw new UsageError(expected(name, 'a memory size such as 512M, 2G or a number of bytes', text));
  }
  return Math.round(bytes);
}

/**
 * The budget every decode in this process shares unless given its own: memory is a
 * property of the process, so two runs in one process (or a library caller's own
 * `Promise.all`) share it too. The CLI sets its capacity from `QUORUM_DECODE_MEMORY`
 * at start-up, beside sharp's other process-wide settings.
 */
export const sharedDecodeBudget = new DecodeBudget();
