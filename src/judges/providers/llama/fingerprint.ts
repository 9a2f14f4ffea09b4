/**
 * sha256 of model files, streamed (multi-GB files never sit in memory), computed once
 * per file version: results are memoised by path, size and modification time.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';

const memo = new Map<string, string>();
const keyOf = (path: string, size: number, mtimeMs: number): string => `${path}\0${size}\0${mtimeMs}`;

/** Hex sha256 of a file's bytes. */
export async function fileSha256(path: string): Promise<string> {
  const s = await stat(path);
  const key = keyOf(path, s.size, s.mtimeMs);
  const known = memo.get(key);
  if (known) return known;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  const hex = hash.digest('hex');
  memo.set(key, hex);
  return hex;
}

/** The same, synchronously (for `identity()` called before `open()`); still streamed. */
export function fileSha256Sync(path: string): string {
  const s = statSync(path);
  const key = keyOf(path, s.size, s.mtimeMs);
  const known = memo.get(key);
  if (known) return known;
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const hex = hash.digest('hex');
  memo.set(key, hex);
  return hex;
}
