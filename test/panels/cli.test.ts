/**
 * Panels from the config file through the real CLI (`node bin/quorum.js`, built dist/):
 * `score --judge panel:NAME` against simulated judges on 127.0.0.1 with planted offsets
 * and one that never answers in format; a rerun makes no request; config mistakes in
 * `panels:` are one line naming file, line and key, exit code 2.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { completions, panelConfig, spread, tempDir, writeImages, type ScoredImage, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-panels';
let tmp: TempDir;
const servers: JudgeServer[] = [];

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(6));
  servers.push(
    await startOpenAIServer({ apiKey: KEY, seed: 1, noiseSd: 0.3, scoreOffset: 1 }),
    await startOpenAIServer({ apiKey: KEY, seed: 2, noiseSd: 0.3, scoreOffset: -1 }),
    await startOpenAIServer({ apiKey: KEY, seed: 3, faultRate: 1, faultKinds: [{ kind: 'missing-tags' }] }),
  );
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp.cleanup();
});

/** A config file with three named judges (one per server) and `panel` as the panel `wide`. */
function config(panel: string): string {
  return [panelConfig(servers, 'wide', []), panel].join('\n');
}

const WIDE = ['    samples: 3', '    rounds: 50', '    neurons:', '      - judge: sim1', '      - judge: sim2', '      - judge: sim3', '        role: colour'].join('\n');

async function score(file: string, ...extra: string[]) {
  return runQuorum(['score', tmp.images, '--judge', 'panel:wide', '--config', file, '--db', tmp.path('q.db'), '--format', 'json', ...extra], {
    env: { SIM_KEY: KEY },
    cwd: tmp.dir,
  });
}

type PanelScored = ScoredImage & { panel: { neuronsUsed: number; lower: number | null; upper: number | null; failedNeurons: string[]; spread: number | null; reviews: { neuron: number; role: string }[] } };

describe('score --judge panel:NAME', () => {
  it('fuses the neurons that answered, names the one that failed, and serves a rerun from the store', async () => {
    const file = tmp.path('quorum.config.yaml');
    await writeFile(file, config(WIDE));
    const first = await score(file);
    expect(first.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(first.code, first.stderr).toBe(0);
    const results = JSON.parse(first.stdout) as PanelScored[];
    expect(results).toHaveLength(6);
    for (const r of results) {
      expect(r.status).toBe('partial');
      expect(r.panel.neuronsUsed).toBe(2);
      expect(r.panel.failedNeurons).toHaveLength(1);
      expect(r.panel.failedNeurons[0]).toMatch(/^neuron 3 \(openai:sim, colour\): /);
      expect(r.panel.lower! <= r.score! && r.score! <= r.panel.upper!).toBe(true);
      // Roles: the defaults in order for neurons naming none, its own for the third.
      expect(r.panel.reviews.map((v) => v.role)).toEqual(['sharpness and detail', 'noise and grain', 'colour']);
    }
    // Fused scores follow the true order (qualities rise with the file names).
    const scores = results.sort((a, b) => a.path.localeCompare(b.path)).map((r) => r.score!);
    expect(scores[5]!).toBeGreaterThan(scores[0]!);
    expect(first.stderr).toMatch(/neuron 3 \(openai:sim, colour\) failed on 6 of 6 image\(s\) \(.+\); fused from the other neurons/);
    expect(first.stderr).toMatch(/panel agreement: Krippendorff's alpha -?\d\.\d\d \(interval, 3 neurons\)/);
    expect(servers[0]!.calls).toBeGreaterThan(0);

    const before = servers.map((s) => s.requests.length);
    const again = await score(file);
    expect(again.code, again.stderr).toBe(0);
    // Answers that did not parse are stored failures, not re-asked by default: no request at all.
    expect(servers.map((s) => s.requests.length)).toEqual(before);
    const scoresOf = (stdout: string) => (JSON.parse(stdout) as PanelScored[]).map((r) => [r.path, r.score, r.panel.lower, r.panel.upper]);
    expect(scoresOf(again.stdout)).toEqual(scoresOf(first.stdout));

    // `show` prints the same verdicts from the store, the agreement and the failed neuron.
    const shown = await runQuorum(['show', 'panel-wide', '--db', tmp.path('q.db'), '--format', 'json'], { cwd: tmp.dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(scoresOf(shown.stdout)).toEqual(scoresOf(first.stdout));
    expect((JSON.parse(shown.stdout) as PanelScored[]).every((r) => typeof r.panel.spread === 'number')).toBe(true);
    const agreement = /panel agreement: .*/.exec(first.stderr)?.[0];
    expect(shown.stderr).toContain(agreement);
    expect(shown.stderr).toMatch(/neuron 3 \(openai:sim, colour\) failed on 6 of 6 image\(s\) \(sample 0: .+\); fused from the other neurons/);

    // The report shows each fused score with its interval, the neurons it used and the failure.
    const md = await runQuorum(['report', 'panel-wide', '--db', tmp.path('q.db'), '--format', 'md', '--out', tmp.path('r.md')], { cwd: tmp.dir });
    expect(md.code, md.stderr).toBe(0);
    const report = await readFile(tmp.path('r.md'), 'utf8');
    for (const r of JSON.parse(first.stdout) as PanelScored[]) {
      // Markdown escapes the brackets of the interval.
      expect(report).toContain(`| ${r.score!.toFixed(2)} | 95% \\[${r.panel.lower!.toFixed(2)}, ${r.panel.upper!.toFixed(2)}\\], 2 neurons, spread `);
    }
    expect(report.match(/, 1 failed \|/g)).toHaveLength(6);
  }, 120_000);

  it('a bare panel name works too, and the table shows interval, neurons and the failed neuron', async () => {
    const file = tmp.path('quorum.config.yaml');
    await writeFile(file, config(WIDE));
    const r = await runQuorum(['score', tmp.images, '--judge', 'wide', '--db', tmp.path('q.db')], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/image +score +95% interval +neurons +spread +status +notes/);
    expect(r.stdout).toMatch(/\d\.\d\d-\d\.\d\d +2 +\d\.\d\d +partial +neuron 3/);
  }, 60_000);
});

describe('score --judge panel:NAME --dry-run', () => {
  it('plans every neuron and layer with nothing sent; its request count equals the real run; a rerun plan finds layer 1 cached', async () => {
    const file = tmp.path('dry.yaml');
    const deep = ['    samples: 3', '    layers: 2', '    window: 1', '    fusion: mean', '    neurons:', '      - judge: sim1', '      - judge: sim2'].join('\n');
    await writeFile(file, config(deep));
    const db = tmp.path('dry.db');
    const args = ['score', tmp.images, '--judge', 'panel:wide', '--config', file, '--db', db];
    const count = () => servers.map((s) => completions(s).length).reduce((a, b) => a + b, 0);
    type Plan = { judges: { name: string; requests: number; samples: number; cached: number; upperBound: boolean }[]; notes: string[] };
    const before = count();
    const dry = await runQuorum([...args, '--dry-run', '--format', 'json'], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(count()).toBe(before);
    const plan = JSON.parse(dry.stdout) as Plan;
    expect(plan.judges.map((j) => j.name)).toEqual([
      'panel wide: layer 1, neuron 1 (sharpness and detail)',
      'panel wide: layer 2, neuron 1 (sharpness and detail)',
      'panel wide: layer 1, neuron 2 (noise and grain)',
      'panel wide: layer 2, neuron 2 (noise and grain)',
    ]);
    expect(plan.judges.every((j) => j.samples === 18 && j.cached === 0 && !j.upperBound)).toBe(true);
    const planned = plan.judges.reduce((n, j) => n + j.requests, 0);

    const real = await runQuorum([...args, '--format', 'json'], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(real.code, real.stderr).toBe(0);
    expect(count() - before).toBe(planned);

    const again = JSON.parse((await runQuorum([...args, '--dry-run', '--format', 'json'], { env: { SIM_KEY: KEY }, cwd: tmp.dir })).stdout) as Plan;
    expect(again.judges.filter((j) => j.name.includes('layer 1')).map((j) => [j.cached, j.requests])).toEqual([[18, 0], [18, 0]]);
    expect(again.notes.join(' ')).toMatch(/layers 2\+ quote the earlier reviews/);
  }, 120_000);
});

describe('config errors in panels: one line naming file, line and key', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown judge name', WIDE.replace('judge: sim2', 'judge: sim9'), /^error: quorum\.config\.yaml:\d+: panels\.wide\.neurons\[1\]\.judge: unknown judge "sim9"/],
    ['bad provider', WIDE.replace('judge: sim2', 'judge: foo:bar'), /^error: quorum\.config\.yaml:\d+: panels\.wide\.neurons\[1\]\.judge: unknown provider "foo"/],
    ['wrong type', WIDE.replace('samples: 3', 'samples: three'), /^error: quorum\.config\.yaml:\d+: panels\.wide\.samples: expected number, got string "three"/],
    ['unknown key', `${WIDE}\n    fuson: mean`, /^error: quorum\.config\.yaml:\d+: panels\.wide\.fuson: unknown key "fuson"/],
    ['unknown fusion', `${WIDE}\n    fusion: average`, /^error: quorum\.config\.yaml:\d+: panels\.wide\.fusion: /],
  ];
  for (const [what, panel, message] of cases) {
    it(what, async () => {
      const file = tmp.path(`bad-${what.replace(/ /g, '-')}.yaml`);
      await writeFile(file, config(panel));
      const r = await runQuorum(['score', tmp.images, '--judge', 'panel:wide', '--config', file.replace(`${tmp.dir}/`, ''), '--db', tmp.path('e.db')], {
        env: { SIM_KEY: KEY },
        cwd: tmp.dir,
      });
      expect(r.code).toBe(2);
      const line = r.stderr.split('\n')[0]!.replace(/bad-[a-z-]+\.yaml/, 'quorum.config.yaml');
      expect(line).toMatch(message);
      // The line number points at the key.
      const number = Number(/\.yaml:(\d+):/.exec(r.stderr)?.[1]);
      const key = /: panels\.wide\.([a-z]+)/.exec(line)?.[1] as string;
      expect(config(panel).split('\n')[number - 1]).toContain(key === 'neurons' ? 'judge:' : `${key}:`);
    });
  }

  it('a missing key variable names the judge entry; an unknown panel says which exist', async () => {
    const file = tmp.path('quorum.config.yaml');
    await writeFile(file, config(WIDE));
    const noKey = await runQuorum(['score', tmp.images, '--judge', 'panel:wide', '--db', tmp.path('e.db')], { cwd: tmp.dir });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^error: quorum\.config\.yaml:\d+: judges\.sim1\.apiKeyEnv: SIM_KEY is not set/);
    const unknown = await runQuorum(['score', tmp.images, '--judge', 'panel:wid', '--db', tmp.path('e.db')], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: Unknown panel `wid` in quorum\.config\.yaml \(did you mean `wide`\?\)/);
  });
});

describe('fuse <run>... --out-run NAME', () => {
  const plain = (server: JudgeServer, name: string, dir = tmp.images) =>
    runQuorum(['score', dir, '--judge', 'openai:sim', '--base-url', server.url, '--samples', '3', '--run', name, '--db', tmp.path('f.db'), '--quiet'], {
      env: { OPENAI_API_KEY: KEY },
      cwd: tmp.dir,
    });

  it('fuses stored runs by image content, without a call; an image one run lacks is fused from the rest', async () => {
    const subset = tmp.path('subset');
    await mkdir(subset);
    for (const name of ['img-00.png', 'img-03.png', 'img-05.png']) await copyFile(join(tmp.images, name), join(subset, name));
    for (const [server, name, dir] of [[servers[0]!, 'lenient', tmp.images], [servers[1]!, 'harsh', tmp.images], [servers[1]!, 'few', subset]] as const) {
      const r = await plain(server, name, dir);
      expect(r.code, r.stderr).toBe(0);
    }
    const requests = servers.map((s) => s.requests.length);
    const r = await runQuorum(['fuse', 'lenient', 'harsh', 'few', '--out-run', 'all3', '--db', tmp.path('f.db'), '--format', 'json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(servers.map((s) => s.requests.length)).toEqual(requests);
    const fused = (JSON.parse(r.stdout) as PanelScored[]).sort((a, b) => a.path.localeCompare(b.path));
    expect(fused).toHaveLength(6);
    expect(fused.map((f) => f.panel.neuronsUsed)).toEqual([3, 2, 2, 3, 2, 3]);
    expect(fused[1]!.status).toBe('partial');
    expect(fused[1]!.panel.failedNeurons).toEqual(['neuron 3 (openai:sim, few): not in run few']);
    for (let i = 1; i < 6; i++) expect(fused[i]!.score!).toBeGreaterThan(fused[i - 1]!.score! - 0.3);
    expect(fused[5]!.score! - fused[0]!.score!).toBeGreaterThan(1.5);
    // Every fused score has a bootstrap interval that holds it.
    expect(fused.every((f) => f.panel.lower! <= f.score! && f.score! <= f.panel.upper!)).toBe(true);
    expect(r.stderr).toMatch(/run all3: 6\/6 images fused \(thurstone\) from lenient \(openai:sim, 6 images\), harsh \(openai:sim, 6 images\), few \(openai:sim, 3 images\); no calls/);

    const shown = await runQuorum(['show', 'all3', '--db', tmp.path('f.db'), '--format', 'csv'], { cwd: tmp.dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout.split('\n')[0]).toBe('path,sha256,score,lower,upper,neurons,spread,escalated,status,failed_neurons,errors');
    expect(shown.stderr).toMatch(/panel agreement: Krippendorff's alpha/);
  }, 120_000);

  it('usage errors: one run, no --out-run, an unknown run', async () => {
    const one = await runQuorum(['fuse', 'lenient', '--out-run', 'x', '--db', tmp.path('f.db')], { cwd: tmp.dir });
    expect([one.code, one.stderr.split('\n')[0]]).toEqual([2, 'error: Give at least two stored score runs to fuse (`quorum runs` lists them)']);
    const noOut = await runQuorum(['fuse', 'lenient', 'harsh', '--db', tmp.path('f.db')], { cwd: tmp.dir });
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/^error: Missing required option --out-run NAME/);
    const unknown = await runQuorum(['fuse', 'lenient', 'nope', '--out-run', 'x', '--db', tmp.path('f.db')], { cwd: tmp.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: No run `nope` in /);
  }, 60_000);
});
