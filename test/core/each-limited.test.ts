import { describe, expect, it } from 'vitest';
import { eachLimited } from '../../src/core/each-limited.js';
import { packageRoot } from '../../src/core/package-root.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('eachLimited', () => {
  it('runs every item once, at most `limit` at a time, starting them in order', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    await eachLimited([...Array(25).keys()], 4, async (item, index) => {
      expect(item).toBe(index);
      started.push(index);
      running++;
      most = Math.max(most, running);
      for (let i = 0; i < (index % 3) + 1; i++) await tick();
      running--;
    });
    expect(started).toEqual([...Array(25).keys()]);
    expect(most).toBe(4);
  });

  it('rejects with the first error and starts nothing after it', async () => {
    const started: number[] = [];
    await expect(
      eachLimited([...Array(20).keys()], 3, async (item) => {
        started.push(item);
        await tick();
        if (item === 4) throw new Error('item 4 failed');
      }),
    ).rejects.toThrow('item 4 failed');
    await tick();
    // Items 0-6 had started when item 4 failed; no worker takes a new one after that.
    expect(Math.max(...started)).toBeLessThan(8);
  });

  it('handles no items, and a limit above the item count', async () => {
    await eachLimited([], 8, async () => {
      throw new Error('never');
    });
    const seen: string[] = [];
    await eachLimited(['a', 'b'], 16, async (x) => {
      seen.push(x);
    });
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('packageRoot', () => {
  it("finds Quorum's folder (the bin script and the built CLI bundle are named from it)", () => {
    expect(existsSync(join(packageRoot(), 'package.json'))).toBe(true);
    expect(existsSync(join(packageRoot(), 'bin', 'quorum.js'))).toBe(true);
  });
});
