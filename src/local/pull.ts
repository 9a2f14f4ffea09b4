/**
 * Downloads GGUF files into the models folder with node-llama-cpp's own resolver and
 * downloader (`hf:` URIs, https URLs, `MODEL_ENDPOINT`/`HF_ENDPOINT` endpoints, resumable
 * Range downloads through ipull), and adds what a judge needs on top:
 *
 * - nothing half-done under the final name: files download into `<dir>/.partial/`
 *   (ipull keeps its progress in `<file>.ipull` there), are checked, and only then renamed
 *   into `<dir>`; an interrupted pull resumes from the last saved 5 MiB chunk;
 * - checks before the rename: the size the server announced, the catalogue's exact size
 *   and SHA-256 where it has them, and a GGUF header whose tensors fit the file (an HTML
 *   error page or a cut file is refused and deleted);
 * - a file already in place and valid is not downloaded again (no request at all);
 * - a host that cannot be reached fails at once, in one line (ipull alone would retry a
 *   refused connection for minutes).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, ModelFileError, QuorumError } from '../core/errors.js';
import { formatBytes } from './catalogue.js';
import { inspectModelFile } from './model-file.js';

/** A download that failed: the file it was for, and why. Nothing is left under `path`. */
export class DownloadError extends QuorumError {
  override readonly name = 'DownloadError';
  constructor(
    readonly source: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${reason}`, options);
  }
}

/** One file to pull. */
export interface PullFile {
  /** `hf:user/repo/file.gguf`, `hf:user/repo:QUANT`, or an http(s) URL. */
  source: string;
  /** Name in the models folder; for `hf:user/repo:QUANT` it may be left out (the resolver names it). */
  fileName?: string | undefined;
  /** Exact size in bytes, when known: another size is refused before any byte is fetched. */
  bytes?: number | undefined;
  /** SHA-256 (hex), when known: checked before the file gets its final name. */
  sha256?: string | undefined;
}

export interface PullProgress {
  file: string;
  downloadedBytes: number;
  totalBytes: number;
  /** Bytes already on disk from an earlier, interrupted pull. */
  resumedFromBytes: number;
}

export interface PullOptions {
  /** The models folder (created when missing). */
  dir: string;
  /**
   * Hugging Face endpoint for `hf:` URIs (a mirror, or a test hub).
   * @default `MODEL_ENDPOINT`, then `HF_ENDPOINT`, then https://huggingface.co/ (the CLI reads them)
   */
  endpoint?: string | undefined;
  /** Extra request headers (e.g. `Authorization` for gated repos); never logged or stored. */
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: PullProgress) => void) | undefined;
  /** Called when a file starts downloading: its name, size and any bytes resumed. */
  onStart?: ((p: PullProgress) => void) | undefined;
}

export interface PulledFile {
  source: string;
  path: string;
  bytes: number;
  /** `false` when the file was already there and valid: nothing was fetched. */
  downloaded: boolean;
  /** Bytes an earlier interrupted pull had saved, which this one did not fetch again. */
  resumedFromBytes: number;
}

/** Folder (inside the models folder) where files download before they are checked. */
export const PARTIAL_DIR = '.partial';

/**
 * Checks a GGUF file in place: header readable, tensors inside the file, and the exact
 * size and SHA-256 when given. Returns why it is not right, or `undefined`.
 */
export async function checkDownloadedFile(path: string, expect: { bytes?: number | undefined; sha256?: string | undefined }): Promise<string | undefined> {
  try {
    const info = await inspectModelFile(path);
    if (expect.bytes !== undefined && info.sizeBytes !== expect.bytes) {
      return `size mismatch: ${info.sizeBytes} bytes, expected ${expect.bytes}`;
    }
  } catch (error) {
    return error instanceof ModelFileError ? error.message.replace(`${error.path}: `, '') : describeError(error);
  }
  if (expect.sha256 !== undefined) {
    const digest = await sha256Of(path);
    if (digest !== expect.sha256.toLowerCase()) return `checksum mismatch: SHA-256 ${digest}, expected ${expect.sha256.toLowerCase()}`;
  }
  return undefined;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Fails fast, in one line, when the host of a download cannot be reached at all. */
async function assertReachable(source: string, endpoint: string | undefined, signal: AbortSignal | undefined): Promise<void> {
  const base = /^https?:\/\//i.test(source) ? source : (endpoint ?? 'https://huggingface.co/');
  const origin = new URL(base).origin;
  try {
    const timeout = AbortSignal.timeout(20_000);
    const response = await fetch(origin, { method: 'HEAD', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    await response.body?.cancel();
  } catch (error) {
    if (signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new DownloadError(source, `cannot reach ${origin} (${cause?.code ?? describeError(error)}); check the network${endpoint ? ' and MODEL_ENDPOINT / HF_ENDPOINT' : ''}`, { cause: error });
  }
}

/** The file at `path` when it is already there and passes `checkDownloadedFile`: nothing to fetch. */
async function validInPlace(path: string, file: PullFile): Promise<PulledFile | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile() || (await checkDownloadedFile(path, file)) !== undefined) return undefined;
  return { source: file.source, path, bytes: info.size, downloaded: false, resumedFromBytes: 0 };
}

/**
 * Pulls one file into `options.dir`; see the module comment for the guarantees.
 *
 * @example
 * const [model] = await pullFiles([{ source: 'hf:ggml-org/Qwen2.5-VL-7B-Instruct-GGUF/Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf' }], { dir: '/home/me/.cache/quorum/models' });
 */
export async function pullFile(file: PullFile, options: PullOptions): Promise<PulledFile> {
  const { dir } = options;
  if (file.fileName !== undefined) {
    const existing = await validInPlace(join(dir, file.fileName), file);
    if (existing) return existing;
  }
  await assertReachable(file.source, options.endpoint, options.signal);
  const staging = join(dir, PARTIAL_DIR);
  await mkdir(staging, { recursive: true });
  const { createModelDownloader } = await import('node-llama-cpp');
  let downloader: Awaited<ReturnType<typeof createModelDownloader>>;
  try {
    downloader = await createModelDownloader({
      modelUri: file.source,
      dirPath: staging,
      ...(file.fileName !== undefined ? { fileName: file.fileName } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.endpoint ? { endpoints: { huggingFace: options.endpoint } } : {}),
      showCliProgress: false,
      // Ctrl-C keeps the partial file: the next pull resumes it.
      deleteTempFileOnCancel: false,
      skipExisting: true,
      parallelDownloads: 1,
    });
  } catch (error) {
    throw new DownloadError(file.source, describeError(error).replace(/^Error: /, ''), { cause: error });
  }
  const name = downloader.entrypointFilename;
  const finalPath = join(dir, name);
  const total = downloader.totalSize;
  if (file.fileName === undefined) {
    // Named by the resolver (hf:user/repo:QUANT): now we know where it would go.
    const existing = await validInPlace(finalPath, file);
    if (existing) {
      await downloader.cancel({ deleteTempFile: false });
      return existing;
    }
  }
  if (file.bytes !== undefined && total > 0 && total !== file.bytes) {
    await downloader.cancel({ deleteTempFile: true });
    throw new DownloadError(file.source, `size mismatch: the server offers ${total} bytes, the catalogue expects ${file.bytes}; nothing was kept`);
  }
  const resumedFromBytes = downloader.downloadedSize;
  const progress = (downloaded: number): PullProgress => ({ file: name, downloadedBytes: downloaded, totalBytes: total, resumedFromBytes });
  options.onStart?.(progress(resumedFromBytes));
  const timer = options.onProgress ? setInterval(() => options.onProgress?.(progress(downloader.downloadedSize)), 200) : undefined;
  timer?.unref();
  let staged: string;
  try {
    staged = await downloader.download(options.signal ? { signal: options.signal } : {});
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new DownloadError(file.source, `download failed: ${describeError(error)} (run the same pull again to resume)`, { cause: error });
  } finally {
    if (timer) clearInterval(timer);
  }
  options.onProgress?.(progress(total));
  const size = (await stat(staged)).size;
  const problem =
    total > 0 && size !== total
      ? `size mismatch: ${size} bytes downloaded, the server announced ${total}`
      : await checkDownloadedFile(staged, file);
  if (problem) {
    await rm(staged, { force: true });
    throw new DownloadError(file.source, `${problem}; the download was deleted`);
  }
  await rename(staged, finalPath);
  return { source: file.source, path: finalPath, bytes: size, downloaded: true, resumedFromBytes };
}

/** Pulls files one after the other (model, then projector); stops at the first failure. */
export async function pullFiles(files: readonly PullFile[], options: PullOptions): Promise<PulledFile[]> {
  const out: PulledFile[] = [];
  for (const f of files) out.push(await pullFile(f, options));
  return out;
}

/** One line for a pulled file: `downloaded x.gguf (4.7 GB)` / `x.gguf is already there`. */
export function describePulled(p: PulledFile): string {
  if (!p.downloaded) return `${p.path} is already there (${formatBytes(p.bytes)})`;
  const resumed = p.resumedFromBytes > 0 ? `, resumed after ${formatBytes(p.resumedFromBytes)}` : '';
  return `downloaded ${p.path} (${formatBytes(p.bytes)}${resumed})`;
}
