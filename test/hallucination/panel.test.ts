/**
 * `quorum hallucination --judge panel:NAME` through the real CLI (built dist/): two
 * simulated hallucination detectors (OpenAI and Anthropic wire formats) and one judge that
 * always answers garbage, on 127.0.0.1. The planted text and texture are still found
 * through tiles, the faithful output scores lowest, the failing neuron is recorded and
 * said once, minNeurons is honoured, and a rerun sends nothing.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JudgedImage } from '../../src/hallucination/judge.js';
import { fuseNeurons } from '../../src/hallucination/panel.js';
import { iou } from '../../src/hallucination/tiles.js';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { panelConfig, tempDir, type TempDir } from '../scoring/_support.js';
import { TEXT_BOX, TEXTURE_BOX, writeFixtures } from './_fixtures.js';

const KEY = 'sk-test-halluc-panel';
let tmp: TempDir;
const servers: JudgeServer[] = [];

beforeAll(async () => {
  tmp = await tempDir();
  await writeFixtures(tmp.dir);
  servers.push(
    await startOpenAIServer({ apiKey: KEY, seed: 1 }),
    await startAnthropicServer({ apiKey: KEY, seed: 2 }),
    await startOpenAIServer({ apiKey: KEY, seed: 3, faultRate: 1, faultKinds: [{ kind: 'say', text: 'I would rather not say.' }] }),
    // Expects another key: every request is refused (401), the judge stops.
    await startOpenAIServer({ apiKey: 'sk-another-key', seed: 4 }),
  );
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp.cleanup();
});

async function configFile(name: string, panel: string[]): Promise<string> {
  const file = tmp.path(name);
  await writeFile(file, panelConfig(servers, 'trio', panel, ['maxSide: 512']));
  return file;
}

const TRIO = ['samples: 1', 'temperature: 0.2', 'neurons:', '  - judge: sim1', '    role: invented text', '  - judge: sim2', '    role: invented texture', '  - judge: sim3'];
const SR = ['--lr', 'lr', '--sr', 'sr-faithful', '--sr', 'sr-texture', '--sr', 'sr-text', '--gt', 'gt'];
const run = (args: string[]) => runQuorum(['hallucination', ...SR, ...args, '--quiet'], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
const requests = () => servers.map((s) => s.requests.length);

type Box = { x0: number; y0: number; x1: number; y1: number };
interface Item {
  system: string;
  status: string;
  score: number | null;
  areaScore: number | null;
  spread: number | null;
  errors: string[];
  tiles: unknown[];
  findings: { kind: string; box: Box; support: number }[];
  panel: { neuronsUsed: number; failedNeurons: string[]; errors: string[]; reviews: { neuron: number; role: string; status: string; score: number | null }[] };
}

describe('quorum hallucination --judge panel:NAME', () => {
  it('fuses the two detectors: planted regions found, faithful lowest, the garbage neuron recorded and said once; a rerun sends nothing', async () => {
    const file = await configFile('trio.yaml', TRIO);
    const args = ['--judge', 'panel:trio', '--config', file, '--db', 'p.db', '--format', 'json', '--run', 'hp'];
    const first = await run(args);
    // The garbage neuron leaves every image with a verdict from the other two: exit 0.
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/\n\s+at /);
    // 3 images x 4 tiles (768 px, 512-px tiles) per neuron; the garbage one is re-asked once per unparsable answer.
    const sent = requests();
    expect(sent.slice(0, 2)).toEqual([12, 12]);
    expect(sent[2]).toBeGreaterThanOrEqual(12);
    const out = JSON.parse(first.stdout) as { items: Item[]; systems: { system: string; rank: number }[] };
    const by = (s: string) => out.items.find((i) => i.system === s) as Item;
    for (const i of out.items) {
      expect(i.status).toBe('ok');
      expect(i.tiles).toHaveLength(4);
      expect(i.panel.neuronsUsed).toBe(2);
      expect(i.panel.reviews.map((r) => r.status)).toEqual(['ok', 'ok', 'failed']);
      expect(i.panel.failedNeurons).toHaveLength(1);
      expect(i.panel.failedNeurons[0]).toMatch(/^neuron 3 \(openai:sim, exposure and colour\): /);
      // Two detectors that read the same pixels agree: no spread across neurons.
      expect(i.spread).toBe(0);
    }
    expect(by('sr-faithful').score).toBe(0);
    expect(by('sr-faithful').findings).toEqual([]);
    expect(by('sr-faithful').score as number).toBeLessThan(by('sr-texture').score as number);
    expect(by('sr-texture').score as number).toBeLessThan(by('sr-text').score as number);
    const text = by('sr-text').findings.filter((f) => f.kind === 'text');
    expect(text).toHaveLength(1);
    expect(iou(text[0]!.box, TEXT_BOX)).toBeGreaterThanOrEqual(0.5);
    // Both detectors found it, each after merging its own tiles: support counts neurons.
    expect(text[0]!.support).toBe(2);
    const texture = by('sr-texture').findings.filter((f) => f.kind === 'texture');
    expect(texture).toHaveLength(1);
    expect(iou(texture[0]!.box, TEXTURE_BOX)).toBeGreaterThanOrEqual(0.5);
    expect(out.systems.sort((a, b) => a.rank - b.rank).map((s) => s.system)).toEqual(['sr-faithful', 'sr-texture', 'sr-text']);
    // The failing neuron is said once, for all three images.
    const said = first.stderr.split('\n').filter((l) => l.includes('neuron 3'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/neuron 3 \(openai:sim, exposure and colour\) failed on 3 of 3 image\(s\)/);
    // The panel's temperature; each neuron's role stated in its prompt.
    expect((servers[0]!.requests[0]!.body as { temperature: number }).temperature).toBe(0.2);
    expect(JSON.stringify(servers[0]!.requests[0]!.body)).toContain('from one angle above all: invented text');
    expect(JSON.stringify(servers[1]!.requests[0]!.body)).toContain('from one angle above all: invented texture');

    const again = await run(args);
    expect(again.code, again.stderr).toBe(0);
    expect(requests()).toEqual(sent);
    expect(again.stderr).toMatch(/0 requests/);
    expect(JSON.parse(again.stdout).systems).toEqual(JSON.parse(first.stdout).systems);
    const shown = await runQuorum(['show', 'hp', '--db', 'p.db', '--format', 'json'], { cwd: tmp.dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { items: Item[] }).items.map((i) => i.panel.neuronsUsed)).toEqual([2, 2, 2]);
  });

  it('a neuron whose judge stops (bad key) is said once; the panel judges on without it', async () => {
    const file = await configFile('stop.yaml', ['samples: 1', 'neurons:', '  - judge: sim1', '  - judge: sim4']);
    const r = await run(['--judge', 'panel:trio', '--config', file, '--db', 'p.db', '--format', 'json', '--run', 'stop', '--tiles', 'off']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.split('\n').filter((l) => /this judge stopped/.test(l))).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { items: Item[] };
    for (const i of out.items) {
      expect(i.status).toBe('ok');
      expect(i.panel.neuronsUsed).toBe(1);
      expect(i.panel.reviews[1]!.status).not.toBe('ok');
    }
    expect(out.items.find((i) => i.system === 'sr-text')!.findings.map((f) => f.kind)).toContain('text');
  });

  it('Ctrl-C stops every neuron: calls in flight recorded, exit 130; the rerun resumes and asks only the rest', async () => {
    const slow = [await startOpenAIServer({ apiKey: KEY, seed: 5, latencyMs: 300 }), await startAnthropicServer({ apiKey: KEY, seed: 6, latencyMs: 300 })];
    try {
      const file = tmp.path('slow.yaml');
      await writeFile(
        file,
        ['judges:', ...slow.flatMap((s, i) => [`  slow${i + 1}:`, `    judge: ${s.protocol}:sim`, `    baseUrl: ${s.url}`, '    apiKeyEnv: SIM_KEY', '    maxSide: 512']),
          'panels:', '  duo:', '    samples: 1', '    neurons:', '      - judge: slow1', '      - judge: slow2'].join('\n'),
      );
      const args = ['hallucination', ...SR, '--judge', 'panel:duo', '--config', file, '--db', 'slow.db', '--format', 'json', '--run', 'slow', '--concurrency', '1'];
      const sent = () => slow.reduce((n, s) => n + s.requests.length, 0);
      const first = spawnQuorum(args, { env: { SIM_KEY: KEY }, cwd: tmp.dir, timeoutMs: 60_000 });
      await waitUntil(() => sent() >= 2, { what: 'two requests sent' });
      first.kill('SIGINT');
      const stopped = await first.exited;
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr).toMatch(/interrupted: finishing calls in flight/);
      const atStop = sent();
      // Each neuron had one call in flight (concurrency 1); none started after the interrupt
      // (had the neurons gone on, the images already begun would have been finished: 16).
      expect(atStop).toBeLessThanOrEqual(4);
      const rerun = await runQuorum(args, { env: { SIM_KEY: KEY }, cwd: tmp.dir });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stderr).toMatch(/\(resumed\)/);
      // Each of the 2 x 12 tile questions asked once over both runs.
      expect(sent()).toBe(24);
    } finally {
      await Promise.all(slow.map((s) => s.close()));
    }
  });

  it('minNeurons above the neurons that answer: every image failed with the reason, from the stored calls', async () => {
    const file = await configFile('strict.yaml', ['minNeurons: 3', ...TRIO]);
    const before = requests();
    const r = await run(['--judge', 'panel:trio', '--config', file, '--db', 'p.db', '--format', 'json', '--run', 'strict']);
    expect(r.code).toBe(1);
    expect(requests()).toEqual(before);
    const out = JSON.parse(r.stdout) as { items: Item[]; systems: { rank: number | null }[] };
    for (const i of out.items) {
      expect(i.status).toBe('failed');
      expect(i.score).toBeNull();
      expect(i.errors).toContain('only 2 of 3 neurons answered (at least 3 needed)');
    }
    expect(out.systems.every((s) => s.rank === null)).toBe(true);
  });

  it('refuses what a hallucination panel does not do, in one line, exit 2, nothing sent', async () => {
    const before = requests();
    const layered = await run(['--judge', 'panel:trio', '--config', await configFile('layers.yaml', ['layers: 2', ...TRIO])]);
    expect(layered.code).toBe(2);
    expect(layered.stderr).toMatch(/hallucination takes a one-layer panel, got layers: 2/);
    const dry = await run(['--judge', 'panel:trio', '--config', await configFile('dry.yaml', TRIO), '--dry-run']);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toMatch(/--dry-run does not plan a panel's tiles yet/);
    for (const r of [layered, dry]) expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(requests()).toEqual(before);
  });
});

describe('fuseNeurons', () => {
  const tile = { x: 0, y: 0, width: 100, height: 100, sentWidth: 100, sentHeight: 100 };
  const neuron = (worst: number | null, areaMean: number | null, boxes: Box[]): JudgedImage => ({
    tiles: [{ ...tile, score: worst, samples: worst === null ? [] : [worst], ok: worst === null ? 0 : 1, failed: worst === null ? 1 : 0, cached: 0, callIds: [1], errors: worst === null ? ['tile 0 sample 0: parse'] : [], reasoning: null }],
    worst,
    areaMean,
    spread: null,
    completeSamples: worst === null ? 0 : 1,
    findings: boxes.map((box) => ({ kind: 'text', severity: 'moderate', box, support: 3, tiles: [0] })),
    reasoning: null,
  });
  it('means the neurons used, keeps their spread, merges their boxes counting each neuron once', () => {
    const a = neuron(3, 2, [{ x0: 10, y0: 10, x1: 50, y1: 30 }]);
    const b = neuron(1, 0.5, [{ x0: 12, y0: 8, x1: 48, y1: 32 }, { x0: 70, y0: 70, x1: 90, y1: 90 }]);
    const garbage = neuron(null, null, []);
    const fused = fuseNeurons([tile], [a, b, garbage], [a, b]);
    expect([fused.worst, fused.areaMean, fused.tiles[0]!.score]).toEqual([2, 1.25, 2]);
    expect(fused.spread).toBeCloseTo(Math.SQRT2, 12);
    expect(fused.findings.map((f) => [f.box, f.support])).toEqual([
      [{ x0: 10, y0: 8, x1: 50, y1: 32 }, 2],
      [{ x0: 70, y0: 70, x1: 90, y1: 90 }, 1],
    ]);
    // The garbage neuron's call stays linked; its errors are its review's, not the verdict's.
    expect(fused.tiles[0]!.callIds).toEqual([1, 1, 1]);
    expect(fused.tiles[0]!.errors).toEqual([]);
    expect(fuseNeurons([tile], [garbage], [])).toMatchObject({ worst: null, areaMean: null, spread: null, completeSamples: 0, findings: [] });
  });
});
