/**
 * Judge panels against simulated judges on 127.0.0.1 (real OpenAI SDK, real SQLite):
 * planted offsets (+1, -1), a compressed scale, extra noise and a neuron whose answers
 * never parse; Thurstone fusion beats the best single neuron and mean fusion; layer 2
 * sees exactly its window's reviews; escalation calls the panel only where needed.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJudge } from '../../src/api/judge.js';
import { srcc } from '../../src/aggregate/index.js';
import { PanelDefinition, runPanel, type PanelDefinitionInput, type PanelImageResult } from '../../src/judges/panels/index.js';
import { PanelStore } from '../../src/store/panels.js';
import { Store } from '../../src/store/store.js';
import { decodeImage, startOpenAIServer, type JudgeServer, type JudgeServerOptions } from '../support/judge-server/index.js';
import { completions, messagesOf, tempDir, textOf, writeImages, type TempDir } from '../scoring/_support.js';

let tmp: TempDir;
let paths: string[];
/** True quality per path, as the simulated judge reads it. */
const truth = new Map<string, number>();
const servers: JudgeServer[] = [];

const server = async (options: JudgeServerOptions): Promise<JudgeServer> => {
  const s = await startOpenAIServer({ seed: 7, ...options });
  servers.push(s);
  return s;
};

beforeAll(async () => {
  tmp = await tempDir();
  const count = 30;
  paths = await writeImages(
    tmp.images,
    Array.from({ length: count }, (_, i) => ({ name: `img${String(i).padStart(2, '0')}.png`, quality: 1.5 + (3 * i) / (count - 1) })),
  );
  for (const p of paths) {
    const bytes = await readFile(p);
    truth.set(p, (await decodeImage(bytes, '')).measured);
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp.cleanup();
});

async function run(definition: PanelDefinitionInput, neuronServers: JudgeServer[], cheap?: JudgeServer, db = ':memory:') {
  const panel = PanelDefinition.parse(definition);
  const open = (s: JudgeServer) => openJudge({ judge: 'openai:sim', baseURL: s.url, apiKey: 'k', retries: 0 }, {});
  const members = await Promise.all(neuronServers.map(open));
  const escalation = cheap ? await open(cheap) : undefined;
  const store = Store.open(db);
  try {
    const result = await runPanel({
      store,
      panel,
      members,
      escalation,
      inputs: [tmp.images],
      runName: `panel-${panel.name}`,
      argv: [],
      runOptions: {},
    });
    return { result, reviews: new PanelStore(store).reviews(result.run.id), agreement: new PanelStore(store).agreement(result.run.id) };
  } finally {
    store.close();
  }
}

const srccOf = (results: readonly PanelImageResult[], score: (r: PanelImageResult) => number | null) => {
  const ok = results.filter((r) => score(r) !== null);
  return srcc(ok.map((r) => score(r) as number), ok.map((r) => truth.get(r.path) as number));
};

describe('a wide panel of biased, compressed, noisy and failing neurons', () => {
  it('Thurstone fusion beats the best single neuron and mean fusion; the failing neuron is recorded and left out', async () => {
    const neurons = [
      await server({ noiseSd: 0.5, scoreOffset: 1 }),
      await server({ noiseSd: 0.5, scoreOffset: -1 }),
      await server({ noiseSd: 0.4, scoreStretch: 0.2 }),
      await server({ noiseSd: 1 }),
      await server({ faultRate: 1, faultKinds: [{ kind: 'missing-tags' }] }),
    ];
    const definition = { name: 'wide', neurons: neurons.map(() => ({ judge: 'openai:sim' })), samples: 4, rounds: 100 };
    const thurstone = await run({ ...definition, fusion: 'thurstone' }, neurons);
    const mean = await run({ ...definition, fusion: 'mean' }, neurons);

    const { results } = thurstone.result;
    expect(results).toHaveLength(30);
    expect(results.every((r) => r.status === 'partial' && r.panel.neuronsUsed === 4)).toBe(true);
    expect(results[0]?.panel.failedNeurons[0]).toMatch(/^neuron 5 \(openai:sim, .*\): sample 0: /);
    // The compressed neuron stays inside 2.5-3.5.
    const compressed = results.flatMap((r) => r.panel.reviews.filter((v) => v.neuron === 2).flatMap((v) => v.samples));
    expect(Math.min(...compressed)).toBeGreaterThanOrEqual(2.5);
    expect(Math.max(...compressed)).toBeLessThanOrEqual(3.5);

    const fused = srccOf(results, (r) => r.score);
    const meanFused = srccOf(mean.result.results, (r) => r.score);
    const singles = [0, 1, 2, 3].map((n) => srccOf(results, (r) => r.panel.reviews.find((v) => v.neuron === n)?.score ?? null));
    expect(fused).toBeGreaterThan(Math.max(...singles));
    expect(fused).toBeGreaterThan(meanFused);
    // Intervals are there and hold their estimate.
    expect(results.every((r) => r.panel.lower! <= r.score! && r.score! <= r.panel.upper!)).toBe(true);

    // Stored: 5 reviews per image, the failing neuron's not used; agreement per item and run.
    expect(thurstone.reviews).toHaveLength(150);
    expect(thurstone.reviews.filter((r) => r.used)).toHaveLength(120);
    expect(thurstone.reviews.filter((r) => r.neuron === 4).every((r) => !r.used && r.status === 'failed')).toBe(true);
    const runRow = thurstone.agreement.find((a) => a.itemKey === '');
    expect(runRow?.alpha).toBeCloseTo(thurstone.result.alpha, 12);
    expect(thurstone.agreement).toHaveLength(31);
  }, 120_000);
});

describe('layers and escalation', () => {
  it('layer 2 shows each neuron its own review and its window of neighbours, nothing else', async () => {
    const neurons = [await server({}), await server({}), await server({})];
    for (const s of neurons) s.resetCounts();
    const { result } = await run(
      { name: 'deep', neurons: [{ judge: 'a', role: 'sharp' }, { judge: 'b', role: 'noise' }, { judge: 'c', role: 'colour' }], layers: 2, window: 1, samples: 2, fusion: 'mean' },
      neurons,
    );
    const image = result.results[0]!;
    const layer1 = image.panel.reviews.filter((r) => r.layer === 1);
    const prompts = (s: JudgeServer) =>
      completions(s)
        .map((req) => messagesOf(req).map((m) => textOf(m.content)).join('\n'))
        .filter((t) => t.includes('round 2'));
    // Neuron 1 (index 0) sees itself and neuron 2; never neuron 3 (outside its window).
    const first = prompts(neurons[0]!).filter((t) => t.includes(`neuron 1 (sharp): ${layer1[0]!.score!.toFixed(2)}`));
    expect(first.length).toBeGreaterThan(0);
    for (const t of prompts(neurons[0]!)) {
      expect(t).toMatch(/neuron 2 \(noise\)/);
      expect(t).not.toMatch(/neuron 3 \(colour\)/);
    }
    // Neuron 2 sees both neighbours.
    for (const t of prompts(neurons[1]!)) expect(t).toMatch(/neuron 1 \(sharp\)[\s\S]*neuron 3 \(colour\)/);
    // One request per image per layer per neuron.
    expect(neurons.map((s) => completions(s).length)).toEqual([60, 60, 60]);
  }, 120_000);

  it('escalation calls the panel only on items where the cheap judge spreads beyond the threshold', async () => {
    const cheap = await server({ noiseSd: 0.4 });
    const neurons = [await server({}), await server({})];
    const { result } = await run(
      { name: 'cascade', neurons: [{ judge: 'a' }, { judge: 'b' }], samples: 3, fusion: 'mean', escalation: { judge: 'openai:sim', maxSpread: 0.4, samples: 4 } },
      neurons,
      cheap,
    );
    const unsure = result.results.filter((r) => {
      const c = r.panel.reviews.find((v) => v.layer === 0)!;
      return c.std === null || c.std > 0.4;
    });
    expect(unsure.length).toBeGreaterThan(0);
    expect(unsure.length).toBeLessThan(30);
    expect(result.results.filter((r) => r.panel.escalated)).toHaveLength(unsure.length);
    for (const s of neurons) expect(completions(s)).toHaveLength(unsure.length);
    expect(completions(cheap)).toHaveLength(30);
  }, 120_000);
});
