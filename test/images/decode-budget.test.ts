import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { DecodeBudget, parseMemorySize } from '../../src/images/index.js';
import { runQuorum } from '../support/cli.js';
import { makeTempDir, solidImage, write } from './_fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

const SIDE = 8000;
const BUDGET_MIB = 256;
/**
 * What a run may grow beyond its budget. The budget bounds the decoders' estimated working
 * memory (one 8000 x 8000 interlaced PNG: 220 MiB, so one at a time here); on top come the
 * libraries loaded by the first decode (~30 MiB) and what glibc's allocator keeps in its
 * per-thread arenas after each decode (buffers under its dynamic mmap threshold, up to
 * 32 MiB each): 364-373 MiB of growth in all, against 255 MiB with `MALLOC_ARENA_MAX=1`.
 */
const MARGIN_MIB = 192;

/** An 8000 x 8000 interlaced PNG (Adam7: decoded whole), different for each `i`. */
function interlaced(i: number, side = SIDE) {
  const pixels = Buffer.from([200, 80, 40 + i, 30, 90, 200, 10, 200, 20, 250, 250, 250 - i]);
  return sharp(pixels, { raw: { width: 2, height: 2, channels: 3 } })
    .resize(side, side, { kernel: 'nearest' })
    .png({ compressionLevel: 1, progressive: true });
}

interface Measured {
  encoded: { width: number; height: number; mediaType: string }[];
  budgetPeakMiB: number;
  baselineMiB: number;
  growthMiB: number;
}

async function measure(budgetMiB: number, files: string[]): Promise<Measured> {
  const script = fileURLToPath(new URL('./_peak-memory-run.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', script, String(budgetMiB), '1536', ...files],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
  );
  return JSON.parse(stdout) as Measured;
}

describe('the decoding memory of a whole run is bounded', () => {
  it(`four large interlaced PNGs registered and encoded at once stay within a ${BUDGET_MIB} MiB budget`, async () => {
    const files: string[] = [];
    for (let i = 0; i < 4; i++) files.push(await write(dir, `interlaced-${i}.png`, interlaced(i)));

    const bounded = await measure(BUDGET_MIB, files);
    expect(bounded.encoded).toEqual(Array(4).fill({ width: 1536, height: 1536, mediaType: 'image/jpeg' }));
    expect(bounded.budgetPeakMiB).toBeLessThanOrEqual(BUDGET_MIB);
    expect(bounded.growthMiB, JSON.stringify(bounded)).toBeLessThan(BUDGET_MIB + MARGIN_MIB);

    // The same run with room for everything decodes the four at once (the registry's
    // concurrency) and passes the bound (810-841 MiB): it is the budget that holds memory down.
    const unbounded = await measure(64 * 1024, files);
    expect(unbounded.growthMiB, JSON.stringify(unbounded)).toBeGreaterThan(BUDGET_MIB + MARGIN_MIB);
  });

  it('an image larger than the whole budget is decoded alone instead of failing', async () => {
    // 2000 x 2000 interlaced: about 14 MiB each to decode, over a 4 MiB budget.
    const files = [await write(dir, 'over-a.png', interlaced(1, 2000)), await write(dir, 'over-b.png', interlaced(2, 2000))];
    const measured = await measure(4, files);
    expect(measured.encoded).toEqual(Array(2).fill({ width: 1536, height: 1536, mediaType: 'image/jpeg' }));
    // Each took the whole budget, one after the other.
    expect(measured.budgetPeakMiB).toBe(4);
  });
});

describe('QUORUM_DECODE_MEMORY', () => {
  it('is a usage error, before any work, when it is not a memory size', async () => {
    await write(dir, 'small.png', solidImage(8, 8, '#808080').png());
    // Port 9 (discard) is never reached: the check comes first.
    const { code, stderr } = await runQuorum(
      ['score', dir, '--judge', 'openai:sim', '--base-url', 'http://127.0.0.1:9/v1'],
      { env: { QUORUM_DECODE_MEMORY: 'lots', OPENAI_API_KEY: 'sk-test' } },
    );
    expect(code).toBe(2);
    expect(stderr).toContain(
      'error: Expected `QUORUM_DECODE_MEMORY` to be a memory size such as 512M, 2G or a number of bytes, got `lots`',
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('DecodeBudget', () => {
  /** A decode that runs until `finish()` is called, recording the bytes in use when it started. */
  function gate() {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    return { done, finish };
  }

  it('starts a decode only when its bytes fit, in the order asked, and frees them when it settles', async () => {
    const budget = new DecodeBudget(100);
    const started: string[] = [];
    const a = gate();
    const b = gate();
    const c = gate();
    const runA = budget.use(60, async () => { started.push('a'); await a.done; });
    const runB = budget.use(60, async () => { started.push('b'); await b.done; throw new Error('corrupt'); });
    // Fits beside `a`, but waits behind `b`: a large decode is not starved by small ones.
    const runC = budget.use(10, async () => { started.push('c'); await c.done; });
    await Promise.resolve();
    expect(started).toEqual(['a']);
    expect(budget.waiting).toBe(2);
    a.finish();
    await runA;
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b', 'c']);
    expect(budget.inUse).toBe(70);
    b.finish();
    await expect(runB).rejects.toThrow('corrupt');
    c.finish();
    await runC;
    expect(budget.inUse).toBe(0);
    expect(budget.peak).toBe(70);
  });

  it('runs a decode larger than the budget alone', async () => {
    const budget = new DecodeBudget(100);
    const small = gate();
    const order: string[] = [];
    const runSmall = budget.use(1, async () => { order.push('small'); await small.done; });
    const runHuge = budget.use(1000, async () => { order.push(`huge with ${budget.inUse} in use`); });
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['small']);
    small.finish();
    await Promise.all([runSmall, runHuge]);
    expect(order).toEqual(['small', 'huge with 100 in use']);
  });

  it('reads memory sizes as users write them and refuses anything else', () => {
    expect(parseMemorySize('QUORUM_DECODE_MEMORY', '2G')).toBe(2 * 1024 ** 3);
    expect(parseMemorySize('QUORUM_DECODE_MEMORY', '768MiB')).toBe(768 * 1024 ** 2);
    expect(parseMemorySize('QUORUM_DECODE_MEMORY', '1000000')).toBe(1_000_000);
    expect(() => parseMemorySize('QUORUM_DECODE_MEMORY', 'lots')).toThrow(
      new UsageError('Expected `QUORUM_DECODE_MEMORY` to be a memory size such as 512M, 2G or a number of bytes, got `lots`'),
    );
    expect(() => parseMemorySize('QUORUM_DECODE_MEMORY', '0')).toThrow(UsageError);
  });
});
