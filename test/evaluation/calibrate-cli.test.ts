/**
 * `quorum calibrate` on a generated CSV dataset (human scores 0-100) with the simulated
 * judge, then `quorum score --calibration`: predicted human scores with intervals that
 * hold most of the true scores, and a calibration refused for another judge.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, spread, tempDir, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-calibrate';
let tmp: TempDir;
let server: JudgeServer;
const truth = new Map<string, number>();

beforeAll(async () => {
  tmp = await tempDir();
  const specs = spread(48);
  const paths = await writeImages(tmp.images, specs);
  specs.forEach((s, i) => truth.set(basename(paths[i] as string), 20 * s.quality));
  await writeFile(tmp.path('labels.csv'), `path,score\n${specs.map((s) => `images/${s.name},${(20 * s.quality).toFixed(2)}`).join('\n')}\n`);
  server = await startOpenAIServer({ apiKey: KEY, seed: 2, noiseSd: 0.2 });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

describe('quorum calibrate and score --calibration', () => {
  it('--dry-run plans the dataset\'s scoring with nothing sent; eval then sends exactly that', async () => {
    const db = tmp.path('dry.db');
    const common = ['--dataset', `csv:${tmp.path('labels.csv')}`, '--scale', '0:100', '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '2', '--db', db];
    const before = server.requests.length;
    const dry = await runQuorum(['eval', ...common, '--dry-run', '--format', 'json'], { env: { OPENAI_API_KEY: KEY } });
    expect(dry.code, dry.stderr).toBe(0);
    expect(server.requests.length).toBe(before);
    const plan = (JSON.parse(dry.stdout) as { judges: { samples: number; cached: number; requests: number }[] }).judges[0]!;
    expect(plan).toMatchObject({ samples: 96, cached: 0 });
    const calibrateDry = await runQuorum(['calibrate', ...common, '--name', 'never', '--dry-run'], { env: { OPENAI_API_KEY: KEY } });
    expect(calibrateDry.code, calibrateDry.stderr).toBe(0);
    expect(calibrateDry.stdout).toContain('dry run of score: nothing was sent and no run was created');
    expect(server.requests.length).toBe(before);
    const real = await runQuorum(['eval', ...common], { env: { OPENAI_API_KEY: KEY } });
    expect(real.code, real.stderr).toBe(0);
    expect(server.requests.length - before).toBe(plan.requests);
  });

  it('a judge named in the config file brings its seed and maxTokens to the scoring, as in score', async () => {
    await writeFile(
      tmp.path('quorum.config.yaml'),
      ['judges:', '  seeded:', '    judge: openai:sim', `    baseUrl: ${server.url}`, '    seed: 7', '    options: { maxTokens: 321 }', ''].join('\n'),
    );
    const from = server.requests.length;
    const r = await runQuorum(['eval', '--dataset', `csv:${tmp.path('labels.csv')}`, '--scale', '0:100', '--judge', 'seeded', '--method', 'sample', '--samples', '1', '--limit', '3', '--db', tmp.path('seeded.db')], {
      env: { OPENAI_API_KEY: KEY },
      cwd: tmp.dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const sent = completions(server, from).map((q) => q.body as { seed?: number; max_tokens?: number; max_completion_tokens?: number });
    expect(sent.length).toBeGreaterThan(0);
    for (const b of sent) {
      expect(b.seed).toBe(7);
      expect(b.max_tokens ?? b.max_completion_tokens).toBe(321);
    }
  });

  it('maps judge scores onto the human scale with conformal intervals', async () => {
    const db = tmp.path('cal.db');
    const common = ['--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '2', '--db', db];
    const cal = await runQuorum(['calibrate', '--dataset', `csv:${tmp.path('labels.csv')}`, '--scale', '0:100', '--split', 'train', '--name', 'sim-100', ...common], {
      env: { OPENAI_API_KEY: KEY },
    });
    expect(cal.code, cal.stderr).toBe(0);
    expect(cal.stdout).toMatch(/calibration sim-100: openai:sim \(sample, quality-score@\d+\)/);
    const scored = await runQuorum(['score', tmp.images, ...common, '--calibration', 'sim-100', '--coverage', '0.9', '--format', 'json'], { env: { OPENAI_API_KEY: KEY } });
    expect(scored.code, scored.stderr).toBe(0);
    const rows = JSON.parse(scored.stdout) as { path: string; calibrated: { predicted: number; lower: number; upper: number; coverage: number } }[];
    expect(rows).toHaveLength(48);
    let inside = 0;
    for (const r of rows) {
      const y = truth.get(basename(r.path)) as number;
      expect(r.calibrated.coverage).toBe(0.9);
      expect(r.calibrated.lower).toBeLessThan(r.calibrated.predicted);
      inside += y >= r.calibrated.lower && y <= r.calibrated.upper ? 1 : 0;
    }
    expect(inside / rows.length).toBeGreaterThanOrEqual(0.75);
    const table = await runQuorum(['score', tmp.images, ...common, '--calibration', 'sim-100'], { env: { OPENAI_API_KEY: KEY } });
    expect(table.stdout).toMatch(/predicted human \(sim-100\)\s+90% interval/);
  });

  it('refuses a calibration fitted for another judge, and an unknown one, before any call', async () => {
    const db = tmp.path('cal.db');
    const other = await runQuorum(['score', tmp.images, '--judge', 'openai:other', '--base-url', server.url, '--db', db, '--method', 'sample', '--calibration', 'sim-100'], {
      env: { OPENAI_API_KEY: KEY },
    });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/Calibration `sim-100` was fitted for openai:sim, not openai:other/);
    const none = await runQuorum(['score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--db', db, '--calibration', 'nope'], { env: { OPENAI_API_KEY: KEY } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No calibration named `nope`/);
  });
});
