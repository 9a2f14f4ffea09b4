/**
 * Shared fixtures for the scoring tests: a temporary folder of test images of known
 * quality, the database a CLI run wrote (opened with better-sqlite3, as a user with the
 * sqlite3 shell would), and readers for the test servers' request logs.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { JudgeServer, RecordedRequest } from '../support/judge-server/index.js';
import { makeTestImage, type TestImageOptions } from '../support/test-images.js';

export interface TempDir {
  dir: string;
  /** `<dir>/images`, created empty: the folder to score, so databases in `dir` stay out of it. */
  images: string;
  /** A path inside the folder. */
  path(...parts: string[]): string;
  cleanup(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), 'quorum-scoring-'));
  const images = join(dir, 'images');
  await mkdir(images);
  return { dir, images, path: (...parts) => join(dir, ...parts), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface ImageSpec extends Partial<TestImageOptions> {
  name: string;
  quality: number;
}

/** Writes test images (64x64 PNG unless told otherwise) and returns their paths, in order. */
export async function writeImages(dir: string, specs: readonly ImageSpec[]): Promise<string[]> {
  return Promise.all(
    specs.map(async ({ name, ...options }, i) => {
      const path = join(dir, name);
      await writeFile(path, await makeTestImage({ seed: 100 + i, ...options }));
      return path;
    }),
  );
}

/** `count` images named img-00.png.. with qualities spread over [1.5, 4.5]. */
export function spread(count: number, prefix = 'img'): ImageSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${String(i).padStart(2, '0')}.png`,
    quality: count === 1 ? 3 : 1.5 + (3 * i) / (count - 1),
  }));
}

/** The image object `quorum score --format json` prints. */
export interface ScoredImage {
  path: string;
  sha256: string | null;
  score: number | null;
  std: number | null;
  samples: number[];
  levels: Record<string, number> | null;
  coverage: number | null;
  reasoning: string | null;
  method: string;
  ok: number;
  failed: number;
  cached: number;
  status: 'ok' | 'partial' | 'failed' | 'error' | 'not-run';
  errors: string[];
  duplicateOf?: string;
}

export function parseScores(stdout: string): ScoredImage[] {
  try {
    return JSON.parse(stdout) as ScoredImage[];
  } catch {
    throw new Error(`stdout is not JSON:\n${stdout.slice(0, 2000)}`);
  }
}

/** Scores by file name (the part after the last slash). */
export function byName(scores: readonly ScoredImage[]): Map<string, ScoredImage> {
  return new Map(scores.map((s) => [s.path.split(/[/\\]/).pop()!, s]));
}

/** Opens a database a CLI run wrote. Close it before the next run touches the file. */
export function openDb(file: string): Database.Database {
  return new Database(file, { fileMustExist: true });
}

/** Reads from a database and closes it again. */
export function withDb<T>(file: string, read: (db: Database.Database) => T): T {
  const db = openDb(file);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Completion requests the server answered with 2xx, in arrival order (from `from` on). */
export function answered(server: JudgeServer, from = 0): RecordedRequest[] {
  return server.requests.slice(from).filter((r) => r.endpoint === 'complete' && r.status !== undefined && r.status < 300);
}

/** Completion requests received, answered or not. */
export function completions(server: JudgeServer, from = 0): RecordedRequest[] {
  return server.requests.slice(from).filter((r) => r.endpoint === 'complete');
}

/** The `n` an OpenAI request asked for (1 when absent). */
export function choicesOf(request: RecordedRequest): number {
  const n = (request.body as { n?: unknown } | undefined)?.n;
  return typeof n === 'number' ? n : 1;
}

/** The sha256 (of the bytes sent) of the first image in a request. */
export function imageOf(request: RecordedRequest): string {
  const image = request.images?.[0];
  if (!image) throw new Error(`request ${request.index} carried no image`);
  return image.sha256;
}

/** The messages of a request body (OpenAI and Anthropic both have `messages`). */
export function messagesOf(request: RecordedRequest): { role: string; content: unknown }[] {
  return ((request.body as { messages?: unknown[] } | undefined)?.messages ?? []) as { role: string; content: unknown }[];
}

/** All text of a message's content (string or parts). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { type?: string; text?: string }) => (p.type === 'text' ? (p.text ?? '') : '')).join('\n');
}

/** The run name the CLI reported on stderr (`run score-1a2b3c4d5e: ...`). */
export function runNameOf(stderr: string): string {
  const m = /^run (\S+?)(?: \(resumed\))?:/m.exec(stderr);
  if (!m?.[1]) throw new Error(`no run line on stderr:\n${stderr}`);
  return m[1];
}

/** Non-empty stderr lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** The `error:` and `failed:` lines of stderr. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^(error|failed):/.test(l));
}

/** A port on 127.0.0.1 that was just free: connections to it are refused. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Config text with one named judge per server (`sim1`, `sim2`, .. speaking the server's
 * protocol, key from $SIM_KEY, no retries, plus `judgeLines`) and the panel `name` made of
 * the `panel` lines (written as under the panel's key).
 */
export function panelConfig(servers: readonly JudgeServer[], name: string, panel: readonly string[], judgeLines: readonly string[] = []): string {
  return [
    'judges:',
    ...servers.flatMap((s, i) => [`  sim${i + 1}:`, `    judge: ${s.protocol}:sim`, `    baseUrl: ${s.url}`, '    apiKeyEnv: SIM_KEY', '    retries: 0', ...judgeLines.map((l) => `    ${l}`)]),
    'panels:',
    `  ${name}:`,
    ...panel.map((l) => `    ${l}`),
  ].join('\n');
}
