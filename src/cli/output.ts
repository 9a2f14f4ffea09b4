import { fstatSync, writeSync } from 'node:fs';

/** Linux's /dev/null: character device major 1, minor 3. */
const DEV_NULL = (1 << 8) | 3;

/** What a command writes its output and notes to: the process's stdout and stderr, or any writable stream. */
export interface OutputStream {
  write(chunk: string, callback?: () => void): boolean;
  once(event: 'drain', listener: (...args: unknown[]) => void): unknown;
  readonly isTTY?: boolean | undefined;
}

/**
 * Standard output or error written straight to its file descriptor (`fs.writeSync`) while
 * it is a file, a pipe, a socket or /dev/null: Node's `process.stdout` loads its stream modules when
 * first touched (and `net` for a pipe), about a third of what `quorum show` costs beyond
 * Node's own start. Writes are synchronous, as Node's own are for files and, on Linux, for
 * pipes.
 *
 * A terminal gets Node's stream (its width and TTY handling). So does everything written
 * after the descriptor refuses bytes for now (EAGAIN: a non-blocking pipe that is full):
 * the stream waits for the reader, and `write` then asks the caller to wait for `drain`.
 * A reader that went away (EPIPE) ends the process as `onBrokenPipe` says.
 */
export class DirectOutput implements OutputStream {
  readonly #fd: number;
  readonly #stream: () => NodeJS.WriteStream;
  readonly #onBrokenPipe: () => void;
  #direct: boolean | undefined;
  #fallback: NodeJS.WriteStream | undefined;

  constructor(fd: number, stream: () => NodeJS.WriteStream, onBrokenPipe: () => void) {
    this.#fd = fd;
    this.#stream = stream;
    this.#onBrokenPipe = onBrokenPipe;
  }

  get isTTY(): boolean | undefined {
    return this.#isDirect() ? false : this.#streamNow().isTTY;
  }

  write(chunk: string, callback?: () => void): boolean {
    if (!this.#isDirect()) return this.#streamNow().write(chunk, callback);
    const bytes = Buffer.from(chunk, 'utf8');
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.#fd, bytes, written);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') {
        this.#onBrokenPipe();
        return true;
      }
      if (code !== 'EAGAIN') throw error;
      this.#direct = false;
      return this.#streamNow().write(bytes.subarray(written), callback);
    }
    if (callback) process.nextTick(callback);
    return true;
  }

  once(event: 'drain', listener: (...args: unknown[]) => void): this {
    // `write` returns false only once the stream has taken over.
    this.#fallback?.once(event, listener);
    return this;
  }

  /** Resolves once everything written has left (at once unless Node's stream holds some). */
  flushed(): Promise<void> {
    const stream = this.#fallback;
    return stream ? new Promise((resolve) => stream.write('', () => resolve())) : Promise.resolve();
  }

  #isDirect(): boolean {
    if (this.#direct === undefined) {
      try {
        const stat = fstatSync(this.#fd);
        // /dev/null too (Linux's character device 1:3): any other device may be a terminal.
        this.#direct = stat.isFile() || stat.isFIFO() || stat.isSocket() || (stat.isCharacterDevice() && process.platform === 'linux' && stat.rdev === DEV_NULL);
      } catch {
        this.#direct = false;
      }
    }
    return this.#direct;
  }

  #streamNow(): NodeJS.WriteStream {
    return (this.#fallback ??= this.#stream());
  }
}
