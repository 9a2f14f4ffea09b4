/**
 * Helpers for benches that time the built CLI (dist/) in fresh processes: a timed
 * `quorum` run with its peak resident set, tiny distinct test images, and the OpenAI
 * test server in a child process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeTestImage } from '../test/support/test-images.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'quorum.js');

/** The 1, 5 and 15 minute load averages, `3.10 / 2.95 / 2.40`. */
export const load = () => loadavg().map((l) => l.toFixed(2)).join(' / ');

export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli-bundle', 'main.cjs'))) throw new Error('dist/ is missing: run `npm run build` first');
}

export interface Timed {
  code: number | null;
  wallS: number;
  /** User + system CPU seconds of the process (GNU time: 10 ms resolution). */
  cpuS: number;
  peakMB: number;
  stderr: string;
}

/**
 * Runs `node ARGS` (`[BIN, ...]` for quorum) in a fresh process under GNU time, stdout to
 * `outFile`; a clean environment plus `env`.
 */
export async function timedNode(args: readonly string[], outFile: string, env: NodeJS.ProcessEnv = {}): Promise<Timed> {
  const out = openSync(outFile, 'w');
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'QUORUM_BENCH %U %S %M', process.execPath, ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', ...env },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const [code] = (await once(child, 'exit')) as [number | null];
  const wallS = (performance.now() - started) / 1000;
  const m = /QUORUM_BENCH ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  return {
    code,
    wallS,
    cpuS: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
    peakMB: m ? Number(m[3]) / 1024 : Number.NaN,
    stderr: m ? stderr.slice(0, m.index) : stderr,
  };
}

/** `quorum ARGS` in a fresh process (the built CLI), timed; see `timedNode`. */
export const timedQuorum = (args: readonly string[], outFile: string, env: NodeJS.ProcessEnv = {}) => timedNode([BIN, ...args], outFile, env);

/** Counts a file's lines and hands each to `check` (streamed: the files run to hundreds of MB). */
export async function eachLine(file: string, check?: (line: string) => void): Promise<number> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    n++;
    check?.(line);
  }
  return n;
}

/** `count` distinct 16 x 16 PNG test images in `folder` (kept ones are not written again). */
export async function writeImages(folder: string, count: number): Promise<void> {
  mkdirSync(folder, { recursive: true });
  const have = new Set(readdirSync(folder));
  for (let i = 0; i < count; i++) {
    const name = `img-${String(i).padStart(7, '0')}.png`;
    if (have.has(name)) continue;
    await writeFile(join(folder, name), await makeTestImage({ quality: 1 + ((i * 37) % 400) / 100, seed: i, width: 16, height: 16 }));
  }
}

/** The OpenAI test server with `latencyMs` in a child process (bench/_judge-server.ts); port 0 for any. */
export async function startServer(latencyMs: number, port = 0): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/_judge-server.ts', String(latencyMs), String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [url] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { url, stop: () => child.kill('SIGTERM') };
}
