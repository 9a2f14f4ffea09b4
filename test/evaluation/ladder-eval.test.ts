/**
 * End to end through the built CLI: `quorum ladder` on generated pristine images, then
 * `quorum eval --dataset ladder:` against the simulated judge. The judge is given a
 * full-reference truth (quality falls with the RMSE from the nearest pristine image), so
 * every distortion is visible to it; its noise setting decides how well it orders.
 * Also: the eval's numbers equal the statistics core's on the same numbers; an eval
 * after a score run makes no call; `--compare` ranks stored evaluations.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapCI } from '../../src/aggregate/bootstrap.js';
import { krcc, plcc, srcc } from '../../src/aggregate/correlation.js';
import type { DecodedImage } from '../../src/demo/judge-server/quality.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { makeTestImage } from '../support/test-images.js';
import { answered, tempDir, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-ladder';
let tmp: TempDir;
let ladders: string;
let pristine: { width: number; pixels: Uint8Array }[] = [];

beforeAll(async () => {
  tmp = await tempDir();
  for (const [i, name] of ['alpha', 'beta'].entries()) {
    await sharp(await makeTestImage({ quality: 4.6, width: 96, height: 96, seed: 7 + i })).toFile(join(tmp.images, `${name}.png`));
  }
  ladders = tmp.path('ladders');
  const r = await runQuorum(['ladder', tmp.images, '--out', ladders]);
  expect(r.code, r.stderr).toBe(0);
  for (const name of ['alpha', 'beta']) {
    const { data, info } = await sharp(join(ladders, name, 'pristine.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    pristine.push({ width: info.width, pixels: new Uint8Array(data) });
  }
});
afterAll(() => tmp.cleanup());

/** Full-reference truth: 1 + 4 exp(-rmse / 12) against the nearest pristine image (same size). */
function truth(image: DecodedImage): number {
  let best = Infinity;
  for (const p of pristine) {
    if (p.pixels.length !== image.pixels.length) continue;
    let s = 0;
    for (let i = 0; i < p.pixels.length; i++) s += ((p.pixels[i] as number) - (image.pixels[i] as number)) ** 2;
    best = Math.min(best, Math.sqrt(s / p.pixels.length));
  }
  return 1 + 4 * Math.exp(-best / 12);
}

interface EvalJson {
  name: string;
  images: { planned: number; used: number; failed: number };
  agreement: { n: number; srcc: { estimate: number; lower: number; upper: number }; krcc: { estimate: number }; plcc: { estimate: number } };
  ladder: { distortion: string; pairs: number; correct: number; rate: { estimate: number }; withinSrcc: number }[];
  items: { name: string; human: number; score: number | null; status: string }[];
}

const judgeWith = (noiseSd: number) => startOpenAIServer({ apiKey: KEY, seed: 1, noiseSd, qualityOf: truth });

/** `quorum eval` on the ladder with a judge of this noise (or this running server); the calls it made. */
async function evalLadder(judge: number | JudgeServer, db: string, extra: string[] = []) {
  const server = typeof judge === 'number' ? await judgeWith(judge) : judge;
  const before = answered(server).length;
  try {
    const r = await runQuorum(
      ['eval', '--dataset', `ladder:${ladders}`, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '1', '--db', db, '--format', 'json', '--bootstrap-rounds', '200', ...extra],
      { env: { OPENAI_API_KEY: KEY } },
    );
    expect(r.code, r.stderr).toBe(0);
    return { report: JSON.parse(r.stdout) as EvalJson, calls: answered(server).length - before };
  } finally {
    if (typeof judge === 'number') await server.close();
  }
}

describe('quorum ladder + quorum eval on a ladder', () => {
  it('writes 26 graded versions per image and a label file of the known order', async () => {
    expect((await readdir(join(ladders, 'alpha'))).sort()).toHaveLength(26);
    const csv = await readFile(join(ladders, 'ladder.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('path,score,group,distortion,level');
    expect(csv).toContain('alpha/jpeg-5.jpg,1.0,alpha,jpeg,5');
    expect(csv.trim().split('\n')).toHaveLength(1 + 2 * 26);
  });

  it('orders a ladder near-perfectly at low judge noise, worse as noise rises', async () => {
    const low = await evalLadder(0.02, tmp.path('low.db'));
    expect(low.report.images).toEqual({ planned: 52, used: 52, failed: 0 });
    expect(low.report.ladder.map((l) => l.distortion).sort()).toEqual(['blur', 'colour', 'jpeg', 'noise', 'resample']);
    const rate = (r: EvalJson) => r.ladder.reduce((s, l) => s + l.correct, 0) / r.ladder.reduce((s, l) => s + l.pairs, 0);
    for (const l of low.report.ladder) expect(l.pairs).toBe(10);
    expect(rate(low.report)).toBeGreaterThanOrEqual(0.95);
    for (const l of low.report.ladder) expect(l.withinSrcc).toBeGreaterThan(0.9);
    const high = await evalLadder(1.2, tmp.path('high.db'));
    expect(rate(high.report)).toBeLessThan(rate(low.report) - 0.15);
    const within = (r: EvalJson) => r.ladder.reduce((s, l) => s + l.withinSrcc, 0) / r.ladder.length;
    expect(within(high.report)).toBeLessThan(within(low.report) - 0.2);
  });

  it("reports the statistics core's numbers on the same scores; a second eval costs no call; --compare ranks them", async () => {
    const db = tmp.path('same.db');
    const server = await judgeWith(0.3);
    const first = await evalLadder(server, db, ['--name', 'sharp']);
    expect(first.calls).toBeGreaterThan(0);
    const scored = first.report.items.filter((i) => i.score !== null);
    const x = scored.map((i) => i.score as number);
    const y = scored.map((i) => i.human);
    expect(first.report.agreement.srcc.estimate).toBe(srcc(x, y));
    expect(first.report.agreement.krcc.estimate).toBe(krcc(x, y));
    expect(first.report.agreement.plcc.estimate).toBe(plcc(x, y));
    const pairs = x.map((v, i) => [v, y[i] as number] as const);
    const ci = bootstrapCI((s) => srcc(s.map((p) => p[0]), s.map((p) => p[1])), pairs, { rounds: 200, seed: 0 });
    // The same resamples; eval computes them as weighted statistics, equal up to rounding.
    expect(first.report.agreement.srcc.lower).toBeCloseTo(ci.lower, 12);
    expect(first.report.agreement.srcc.upper).toBeCloseTo(ci.upper, 12);

    const again = await evalLadder(server, db, ['--name', 'sharp-again']);
    await server.close();
    expect(again.calls).toBe(0);
    expect(again.report.agreement).toEqual(first.report.agreement);

    await evalLadder(1.5, db, ['--name', 'blurry', '--run', 'noisy-judge']);
    const board = await runQuorum(['eval', '--compare', 'blurry', 'sharp', 'sharp-again', '--db', db, '--bootstrap-rounds', '200']);
    expect(board.code, board.stderr).toBe(0);
    const lines = board.stdout.split('\n');
    expect(lines[2]).toMatch(/^1\s+sharp/);
    // Identical scores: their difference is 0 and not significant.
    expect(lines.find((l) => /^1\s/.test(l))).toMatch(/\+0\.000 \[0\.000, 0\.000\] n\.s\./);
    expect(lines.find((l) => /^3\s/.test(l))).toMatch(/blurry/);
  });
});
