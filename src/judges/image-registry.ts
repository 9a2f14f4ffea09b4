import PQueue from 'p-queue';
import { describeError, InputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { ImagePart } from '../core/provider.js';
import { encodeForJudge, loadImage, passThrough, readImageFile, type DecodeBudget, type LoadedImage } from '../images/index.js';
import type { Store } from '../store/store.js';

/** An input image known by content: its hash, the path it came from, and a lazy encoder. */
export interface RegisteredImage {
  path: string;
  sha256: string;
  /** Encoded for the judge on first use, once per run; shared by every call that needs it. */
  encode(): Promise<ImagePart>;
}

export interface ImageRegistryOptions {
  /**
   * Decoding memory shared by the images in flight (checks and encodes), each weighted by
   * its footprint estimated from the header; an image larger than the whole budget is
   * decoded alone. Runs in one process share one budget unless given their own.
   * @default the process-wide `sharedDecodeBudget` (512 MiB; env `QUORUM_DECODE_MEMORY` in the CLI)
   */
  decodeBudget?: DecodeBudget | undefined;
}

/**
 * Reads and registers input images for a run. Each file is hashed from its bytes; a hash
 * already in the store was validated when first seen, so a cached rerun decodes nothing.
 * New images are checked (decoded) and stored once. Encoding happens only when a call
 * actually needs the pixels, at most four decodes at a time (CPU) and within the shared
 * decoding budget (memory: six 6000 x 6000 interlaced PNGs at once would need 750 MiB);
 * a file the judge can take as it is (`passThrough`) is sent unchanged, with no decode.
 */
export class ImageRegistry {
  readonly #store: Store;
  readonly #maxSide: number;
  readonly #decoding = new PQueue({ concurrency: 4 });
  readonly #encoded = new Map<string, Promise<ImagePart>>();
  readonly #decodeBudget: DecodeBudget | undefined;

  constructor(store: Store, maxSide: number, options: ImageRegistryOptions = {}) {
    this.#store = store;
    this.#maxSide = maxSide;
    this.#decodeBudget = options.decodeBudget;
  }

  /**
   * Reads, hashes and (if new) validates one file; throws `InputError` naming the file.
   * `stored`: the content hash a run's stored result gives this path; a file that still
   * hashes to it is known (its image and path rows were written with that result), so the
   * store is not asked.
   */
  async register(path: string, stored?: string): Promise<RegisteredImage> {
    let source;
    try {
      source = await readImageFile(path);
    } catch (error) {
      throw error instanceof InputError ? error : new InputError(path, describeError(error), { cause: error });
    }
    const hash = sha256(source.data);
    // The hash this path's stored result names: the image and path rows were written with it.
    const storedHere = stored === hash;
    const known = storedHere ? undefined : this.#store.getImage(hash);
    let loaded: LoadedImage | undefined;
    // Image rows are rebuilt from the file if lost, so they ride along with the next call's
    // transaction rather than paying a commit of their own (Store.putImage).
    if (known) this.#store.putImage({ ...known, path }, { deferred: true, known: true, knownPath: known.path });
    else if (!storedHere) {
      loaded = await this.#decoding.add(() => loadImage({ ...source, sha256: hash }, { decodeBudget: this.#decodeBudget }));
      this.#store.putImage(
        { sha256: hash, bytes: loaded.bytes, format: loaded.format, width: loaded.width, height: loaded.height, path },
        { deferred: true },
      );
    }
    const encode = (): Promise<ImagePart> => {
      let pending = this.#encoded.get(hash);
      if (!pending) {
        // A file the judge can read as it is goes unchanged (no decode, no new artefacts).
        const asIs = loaded && passThrough(loaded, source, this.#maxSide);
        pending = asIs ? Promise.resolve(asIs) : this.#decoding.add(() =>
              encodeForJudge(source, { maxSide: this.#maxSide, decodeBudget: this.#decodeBudget }),
            );
        this.#encoded.set(hash, pending);
      }
      return pending;
    };
    return { path, sha256: hash, encode };
  }

  /** Drops an encoded image that no pending call needs any more. */
  release(hash: string): void {
    this.#encoded.delete(hash);
  }
}
