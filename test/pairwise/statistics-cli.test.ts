import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';

/**
 * The statistics `compare` and `rank` print, through the real CLI: reproducible intervals
 * (run, cached rerun and `quorum show` agree, whatever order the answers arrived in),
 * honest intervals with few pairs, items never compared listed as not ranked, and low
 * level coverage flagged as `score` flags it.
 */
describe('compare and rank statistics', () => {
  let dir: string;
  let jittery: JudgeServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorum-stats-'));
    for (const d of ['items', 'A', 'B', 'A4', 'B4']) await mkdir(join(dir, d));
    for (let i = 0; i < 6; i++) {
      await writeFile(join(dir, 'items', `i${i}.png`), await makeTestImage({ quality: 1.5 + i * 0.45, seed: 10 + i }));
      await writeFile(join(dir, 'A', `c${i}.png`), await makeTestImage({ quality: 2 + i * 0.3, seed: 30 + i }));
      await writeFile(join(dir, 'B', `c${i}.png`), await makeTestImage({ quality: 2.3 + i * 0.3, seed: 50 + i }));
    }
    for (let i = 0; i < 4; i++) {
      await writeFile(join(dir, 'A4', `c${i}.png`), await makeTestImage({ quality: 1.5, seed: 70 + i }));
      await writeFile(join(dir, 'B4', `c${i}.png`), await makeTestImage({ quality: 4.5, seed: 80 + i }));
    }
    // Half of the answers are delayed: with several requests in flight they arrive out of order.
    jittery = await startOpenAIServer({ seed: 5, noiseSd: 0.4, faultRate: 0.5, faultKinds: [{ kind: 'slow', ms: 40 }] });
  });
  afterAll(async () => {
    await jittery?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const quorum = (args: string[], server: JudgeServer = jittery) =>
    runQuorum([...args, '--judge', 'openai:sim', '--base-url', server.url, '--db', 'q.db', '--quiet'], { cwd: dir });
  const show = (run: string, format: string) => runQuorum(['show', run, '--db', 'q.db', '--format', format], { cwd: dir });

  it('rank: the run, its cached rerun and `quorum show` give the same scores and intervals, and print the seed', async () => {
    const args = ['rank', '--items', 'items', '--strategy', 'round-robin', '--concurrency', '6', '--run', 'repro-rank'];
    const first = await quorum([...args, '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const calls = jittery.calls;
    const again = await quorum([...args, '--format', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(jittery.calls).toBe(calls); // every answer from the cache, in another order
    const shown = await show('repro-rank', 'json');
    expect(shown.code, shown.stderr).toBe(0);

    const [a, b, c] = [first, again, shown].map((r) => JSON.parse(r.stdout));
    expect(a.ranking).toHaveLength(6);
    for (const item of a.ranking) expect(item.upper - item.lower).toBeGreaterThan(0);
    expect(b.ranking).toEqual(a.ranking);
    expect(c.ranking).toEqual(a.ranking);
    expect(c.pairs.map((p: { key: string }) => p.key)).toEqual(a.pairs.map((p: { key: string }) => p.key));
    expect(a.summary.intervals).toEqual({ level: 0.95, method: 'bootstrap+posterior', rounds: 200, seed: 0, priorSigma: 2 });
    expect(c.summary.intervals).toEqual(a.summary.intervals);

    const table = await show('repro-rank', 'table');
    expect(table.stdout).toContain('percentile bootstrap over judged pairs (200 rounds, seed 0)');
  });

  it('compare: the run, its cached rerun and `quorum show` give the same summary, with the interval method recorded', async () => {
    const args = ['compare', 'A', 'B', '--concurrency', '6', '--run', 'repro-compare'];
    const first = await quorum([...args, '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const again = await quorum([...args, '--format', 'json']);
    const shown = await show('repro-compare', 'json');
    const [a, b, c] = [first, again, shown].map((r) => JSON.parse(r.stdout));
    expect(b.summary).toEqual(a.summary);
    expect(c.summary).toEqual(a.summary);
    expect(a.summary.intervals).toEqual({ level: 0.95, winRate: 'wilson', difference: 'posterior', priorSigma: 3 });
    const table = await show('repro-compare', 'table');
    expect(table.stdout).toContain('win rate: Wilson score interval; B-A: Bradley-Terry posterior, prior N(0, 3^2) per system');
  });

  it('compare on 4 pairs: B winning all of them gives a wide, flagged interval, not [1.00, 1.00]', async () => {
    const r = await quorum(['compare', 'A4', 'B4', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).summary;
    expect(s.winsB).toBe(4);
    expect(s.few).toBe(true);
    expect(s.winRateB.estimate).toBe(1);
    expect(s.winRateB.lower).toBeLessThan(0.6);
    expect(s.bradleyTerry.upper - s.bradleyTerry.lower).toBeGreaterThan(3);
    const table = await quorum(['compare', 'A4', 'B4']);
    expect(table.stdout).not.toContain('[1.00, 1.00]');
    expect(table.stdout).toContain('FEW PAIRS: 4 judged (< 5)');
  });

  it('rank within a small budget: items never compared are listed as not ranked, with no score', async () => {
    const r = await quorum(['rank', '--items', 'items', '--strategy', 'random', '--budget', '4', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ranking).toHaveLength(6);
    const ranked = out.ranking.filter((x: { status: string }) => x.status === 'ranked');
    const unranked = out.ranking.filter((x: { status: string }) => x.status === 'not-ranked');
    expect(ranked.length).toBeGreaterThanOrEqual(2);
    expect(ranked.length).toBeLessThanOrEqual(4);
    expect(unranked.length).toBe(6 - ranked.length);
    expect(out.summary.notRanked).toBe(unranked.length);
    for (const x of unranked) {
      expect(x).toMatchObject({ score: null, lower: null, upper: null, rank: null, comparisons: 0 });
      expect(x.reason).toMatch(/not compared/);
    }
    for (const x of ranked) {
      expect(x.few).toBe(true);
      expect(x.upper - x.lower).toBeGreaterThan(2);
    }
    const csv = await quorum(['rank', '--items', 'items', '--strategy', 'random', '--budget', '4', '--format', 'csv']);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('rank,name,status,score,lower,upper,comparisons,wins,few,low_coverage_pairs');
    expect(lines.filter((l) => l.includes(',not-ranked,'))).toHaveLength(unranked.length);
    const table = await quorum(['rank', '--items', 'items', '--strategy', 'random', '--budget', '4']);
    expect(table.stdout).toContain('not ranked: not compared');
  });

  it('low level coverage is flagged in compare and rank, in table, json and csv', async () => {
    const careless = await startOpenAIServer({ seed: 6, levelCoverage: 0.3 });
    try {
      const json = JSON.parse((await quorum(['compare', 'A', 'B', '--format', 'json'], careless)).stdout);
      expect(json.summary.lowCoverage).toHaveLength(6);
      for (const p of json.pairs) {
        expect(p.lowCoverage).toBe(true);
        expect(p.coverage).toBeCloseTo(0.3, 1);
      }
      const csv = (await quorum(['compare', 'A', 'B', '--format', 'csv'], careless)).stdout.trim().split('\n');
      expect(csv[0]).toBe('key,status,verdict,preference_b,consistent,order_gap,coverage,low_coverage');
      expect(csv.slice(1).every((l) => l.endsWith(',0.30,true'))).toBe(true);
      const table = (await quorum(['compare', 'A', 'B'], careless)).stdout;
      expect(table).toMatch(/LOW level coverage 0\.30/);
      expect(table).toContain('LOW level coverage (< 0.5) in 6/6 pairs');

      const rank = JSON.parse((await quorum(['rank', 'A', 'B', '--strategy', 'round-robin', '--format', 'json'], careless)).stdout);
      expect(rank.summary.lowCoveragePairs).toBe(6);
      for (const x of rank.ranking) expect(x.lowCoveragePairs).toBe(6);
      const rankTable = (await quorum(['rank', 'A', 'B', '--strategy', 'round-robin'], careless)).stdout;
      expect(rankTable).toContain('LOW level coverage in 6 pairs');
    } finally {
      await careless.close();
    }
  });

  it('a fine judge raises no coverage flag', async () => {
    const json = JSON.parse((await quorum(['compare', 'A', 'B', '--format', 'json'])).stdout);
    expect(json.summary.lowCoverage).toEqual([]);
    expect(json.pairs.every((p: { lowCoverage: boolean }) => p.lowCoverage === false)).toBe(true);
  });
});
