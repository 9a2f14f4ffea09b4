import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { krcc, srcc } from '../../src/aggregate/index.js';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';

const N = 32;
const quality = (i: number) => 1.1 + (3.8 * i) / (N - 1);

describe('quorum rank and anchored scores', () => {
  let dir: string;
  let server: JudgeServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorum-rank-'));
    await mkdir(join(dir, 'items'));
    await mkdir(join(dir, 'small'));
    await mkdir(join(dir, 'anchors'));
    for (let i = 0; i < N; i++) {
      await writeFile(join(dir, 'items', `item${String(i).padStart(2, '0')}.png`), await makeTestImage({ quality: quality(i), seed: i }));
    }
    for (let i = 0; i < 8; i++) {
      await writeFile(join(dir, 'small', `s${i}.png`), await makeTestImage({ quality: 1.2 + i * 0.5, seed: 50 + i }));
    }
    const rows = ['path,score'];
    for (const [i, q] of [1.2, 2.1, 3.0, 3.9, 4.8].entries()) {
      await writeFile(join(dir, 'anchors', `a${i}.png`), await makeTestImage({ quality: q, seed: 300 + i }));
      rows.push(`a${i}.png,${q}`);
    }
    await writeFile(join(dir, 'anchors', 'anchors.csv'), `${rows.join('\n')}\n`);
    server = await startOpenAIServer({ seed: 11, noiseSd: 0.1 });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`active ranking of ${N} items reaches Kendall tau >= 0.9 within 2 N log2 N judged comparisons`, async () => {
    server.resetCounts();
    const r = await runQuorum(
      ['rank', '--items', 'items', '--judge', 'openai:sim', '--base-url', server.url, '--db', 'q.db', '--format', 'json', '--quiet', '--concurrency', '8'],
      { cwd: dir, timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const limit = 2 * N * Math.log2(N);
    expect(out.summary.judgedOrders).toBeLessThanOrEqual(limit);
    // Judged orders only: the one text-only probe for log-probabilities is not a comparison.
    expect(server.requests.filter((q) => q.endpoint === 'complete' && q.subject === 'pair').length).toBeLessThanOrEqual(limit);
    const estimated = out.ranking.map((x: { name: string; score: number }) => x);
    const truth = estimated.map((x: { name: string }) => quality(Number(x.name.slice(4))));
    const tau = krcc(
      estimated.map((x: { score: number }) => x.score),
      truth,
    );
    expect(tau).toBeGreaterThanOrEqual(0.9);
    for (const item of out.ranking) {
      expect(item.lower).toBeLessThanOrEqual(item.score + 1e-9);
      expect(item.upper).toBeGreaterThanOrEqual(item.score - 1e-9);
    }
  });

  it('round-robin in both orders judges N(N-1) orders', async () => {
    server.resetCounts();
    const r = await runQuorum(
      ['rank', '--items', 'small', '--strategy', 'round-robin', '--judge', 'openai:sim', '--base-url', server.url, '--db', 'q.db', '--format', 'json', '--quiet'],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.judgedOrders).toBe(8 * 7);
    expect(server.calls).toBe(8 * 7);
    const names = out.ranking.map((x: { name: string }) => x.name);
    expect(names).toEqual(['s7', 's6', 's5', 's4', 's3', 's2', 's1', 's0']);
  });

  it('reports a bad image once, lists it as not ranked, and ranks the rest', async () => {
    await mkdir(join(dir, 'with-bad'), { recursive: true });
    for (let i = 0; i < 4; i++) {
      await writeFile(join(dir, 'with-bad', `ok${i}.png`), await makeTestImage({ quality: 1.5 + i, seed: 900 + i }));
    }
    await writeFile(join(dir, 'with-bad', 'broken.png'), Buffer.from('not really a png'));
    server.resetCounts();
    const r = await runQuorum(
      ['rank', '--items', 'with-bad', '--strategy', 'round-robin', '--judge', 'openai:sim', '--base-url', server.url, '--db', 'q.db', '--format', 'json', '--quiet'],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    expect(r.stderr.match(/error: .*broken\.png/g)).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(out.ranking.map((x: { name: string }) => x.name)).toEqual(['ok3', 'ok2', 'ok1', 'ok0', 'broken']);
    expect(out.ranking.at(-1)).toMatchObject({ status: 'not-ranked', reason: 'its images could not be read', score: null, rank: null, comparisons: 0 });
    expect(server.calls).toBe(4 * 3);
  });

  it('ranks systems with a per-content breakdown', async () => {
    for (const [s, shift] of [['sys-a', 0], ['sys-b', 0.6], ['sys-c', 1.2]] as const) {
      await mkdir(join(dir, s), { recursive: true });
      for (let i = 0; i < 4; i++) {
        await writeFile(join(dir, s, `c${i}.png`), await makeTestImage({ quality: 1.5 + i * 0.3 + shift, seed: 700 + i * 10 + shift * 10 }));
      }
    }
    const r = await runQuorum(
      ['rank', 'sys-a', 'sys-b', 'sys-c', '--strategy', 'round-robin', '--judge', 'openai:sim', '--base-url', server.url, '--db', 'q.db', '--format', 'json', '--quiet'],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ranking.map((x: { name: string }) => x.name)).toEqual(['sys-c', 'sys-b', 'sys-a']);
    expect(out.perContent).toHaveLength(4);
    for (const c of out.perContent) expect(c.winRates['sys-c']).toBeGreaterThan(c.winRates['sys-a']);
    expect(out.summary.judgedOrders).toBe(4 * 3 * 2);
  });

  it('anchored scores land on the anchors scale and follow the truth (SRCC >= 0.9)', async () => {
    const r = await runQuorum(
      ['score', 'items', '--method', 'anchors', '--anchors', join('anchors', 'anchors.csv'), '--judge', 'openai:sim', '--base-url', server.url, '--db', 'q.db', '--format', 'json', '--quiet'],
      { cwd: dir, timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { path: string; score: number; method: string; anchorPreferences: number[] }[];
    expect(out).toHaveLength(N);
    const truth = out.map((x) => quality(Number(x.path.slice(-6, -4))));
    expect(srcc(out.map((x) => x.score), truth)).toBeGreaterThanOrEqual(0.9);
    for (const x of out) {
      expect(x.method).toBe('anchors');
      expect(x.anchorPreferences).toHaveLength(5);
      expect(x.score).toBeGreaterThan(0);
      expect(x.score).toBeLessThan(6);
    }
    // Mean absolute error on the anchors' scale (1-5) stays small at low noise.
    const mae = out.reduce((s, x, i) => s + Math.abs(x.score - (truth[i] as number)), 0) / out.length;
    expect(mae).toBeLessThan(0.5);
  });
});
