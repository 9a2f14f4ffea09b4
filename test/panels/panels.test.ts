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

/** The panel's other judges, each on its own server. */
interface OtherJudges {
  cheap?: JudgeServer;
  meta?: JudgeServer;
  roles?: JudgeServer;
  db?: string;
}

async function run(definition: PanelDefinitionInput, neuronServers: JudgeServer[], others: OtherJudges = {}) {
  const panel = PanelDefinition().parse(definition);
  const open = (s: JudgeServer | undefined) => (s ? openJudge({ judge: 'openai:sim', baseURL: s.url, apiKey: 'k', retries: 0 }, {}) : undefined);
  const members = await Promise.all(neuronServers.map((s) => open(s)!));
  const [escalation, meta, roles] = await Promise.all([open(others.cheap), open(others.meta), open(others.roles)]);
  const store = Store.open(others.db ?? ':memory:');
  try {
    const result = await runPanel({
      store,
      panel,
      members,
      escalation,
      meta,
      roles,
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
      { cheap },
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

/** The text of every completion request a server received. */
const promptsOf = (s: JudgeServer) => completions(s).map((req) => messagesOf(req).map((m) => textOf(m.content)).join('\n'));

describe('meta fusion', () => {
  const neuronsOf = async () => [await server({ noiseSd: 0.3, scoreOffset: 1 }), await server({ noiseSd: 0.3, scoreOffset: -1 })];
  const definition = (fusion: 'meta' | 'thurstone') => ({
    name: `chaired-${fusion}`,
    neurons: [{ judge: 'a', role: 'sharp' }, { judge: 'b', role: 'noise' }],
    samples: 2,
    rounds: 50,
    fusion,
    ...(fusion === 'meta' ? { meta: { judge: 'chair' } } : {}),
  });

  it("the meta judge reads every review of the item and its verdict, with reasons, is the item's score", async () => {
    const neurons = await neuronsOf();
    const chair = await server({ noiseSd: 0.1 });
    const { result, reviews } = await run(definition('meta'), neurons, { meta: chair });
    const prompts = promptsOf(chair);
    expect(prompts).toHaveLength(30);
    for (const p of prompts) expect(p.split('\n').filter((l) => l.startsWith('- neuron '))).toHaveLength(2);
    for (const r of result.results) {
      const lines = r.panel.reviews.filter((v) => v.layer === 1).map((v) => `- neuron ${v.neuron + 1} (${v.role}): ${v.score!.toFixed(2)}`);
      expect(lines).toHaveLength(2);
      expect(prompts.some((p) => lines.every((l) => p.includes(l)))).toBe(true);
      expect(r.status).toBe('ok');
      expect(r.panel.meta?.fallback).toBeNull();
      expect(r.score).toBe(r.panel.meta?.score);
      expect(r.reasoning).toMatch(/grain/);
      expect(r.panel.reviews.find((v) => v.role === 'meta')?.layer).toBe(2);
    }
    // The chair sees the image: its verdicts follow the truth.
    expect(srccOf(result.results, (r) => r.score)).toBeGreaterThan(0.9);
    expect(reviews.filter((v) => v.layer === 2 && v.used)).toHaveLength(30);
  }, 120_000);

  it('a meta answer that does not parse is a recorded failure and the item falls back to Thurstone fusion, said so', async () => {
    const neurons = await neuronsOf();
    const chair = await server({ faultRate: 1, faultKinds: [{ kind: 'say', text: 'The panel did well.' }] });
    const db = tmp.path('meta.db');
    const meta = await run(definition('meta'), neurons, { meta: chair, db });
    const before = neurons.map((s) => completions(s).length);
    const thurstone = await run(definition('thurstone'), neurons, { db });
    // The neurons' reviews came from the store: the same reviews, fused by Thurstone.
    expect(neurons.map((s) => completions(s).length)).toEqual(before);
    for (const [i, r] of meta.result.results.entries()) {
      expect(r.panel.meta?.status).toBe('failed');
      expect(r.panel.meta?.fallback).toMatch(/^meta judge openai:sim: .*; Thurstone fusion used instead$/);
      expect(r.errors).toContain(r.panel.meta?.fallback);
      expect(r.score).toBe(thurstone.result.results[i]!.score);
      expect(r.panel.lower).toBe(thurstone.result.results[i]!.panel.lower);
    }
    expect(meta.reviews.filter((v) => v.layer === 2).every((v) => v.status === 'failed' && !v.used)).toBe(true);
  }, 120_000);
});

describe('roles generated per item', () => {
  const definition = { name: 'roled', neurons: [{ judge: 'a' }, { judge: 'b' }, { judge: 'c', role: 'colour' }], samples: 1, fusion: 'mean' as const, roles: { judge: 'proposer', count: 2 } };

  it('one call per item; the neurons judge from the roles it proposed', async () => {
    const neurons = [await server({}), await server({}), await server({})];
    const proposer = await server({ faultRate: 1, faultKinds: [{ kind: 'say', text: '{"roles": ["edges of the shapes", "banding in the gradient"]}' }] });
    const { result, reviews } = await run(definition, neurons, { roles: proposer });
    expect(completions(proposer)).toHaveLength(30);
    for (const p of promptsOf(proposer)) expect(p).toMatch(/Propose 2 distinct angles/);
    for (const r of result.results) {
      expect(r.panel.rolesFrom).toBe('generated');
      expect(r.panel.roles).toEqual(['edges of the shapes', 'banding in the gradient', 'colour']);
    }
    expect(promptsOf(neurons[0]!).every((p) => p.includes('from one angle above all: edges of the shapes.'))).toBe(true);
    expect(promptsOf(neurons[1]!).every((p) => p.includes('from one angle above all: banding in the gradient.'))).toBe(true);
    expect(reviews.filter((v) => v.layer === -1 && v.used && v.status === 'ok')).toHaveLength(30);
  }, 120_000);

  it('a roles answer that does not parse: one request per item, the fixed roles used and said', async () => {
    const neurons = [await server({}), await server({}), await server({})];
    const proposer = await server({ faultRate: 1, faultKinds: [{ kind: 'say', text: 'sharpness, noise' }] });
    const { result, reviews } = await run(definition, neurons, { roles: proposer });
    expect(completions(proposer)).toHaveLength(30);
    for (const r of result.results) {
      expect(r.panel.rolesFrom).toBe('fallback');
      expect(r.panel.roles).toEqual(['sharpness and detail', 'noise and grain', 'colour']);
      expect(r.errors[0]).toMatch(/^roles judge openai:sim: .*; the fixed roles were used$/);
      expect(r.score).not.toBeNull();
    }
    expect(reviews.filter((v) => v.layer === -1).every((v) => v.status === 'failed' && !v.used)).toBe(true);
  }, 120_000);
});

describe('escalation by level entropy', () => {
  it('a cheap judge read by levels calls the panel only where the entropy of its levels exceeds maxEntropy', async () => {
    const cheap = await server({ levelSpread: 0.3 });
    const neurons = [await server({}), await server({})];
    const maxEntropy = 0.8;
    const { result, reviews } = await run(
      { name: 'entropy', neurons: [{ judge: 'a' }, { judge: 'b' }], samples: 2, fusion: 'mean', escalation: { judge: 'cheap', method: 'levels', maxEntropy } },
      neurons,
      { cheap },
    );
    // One logprob call per image; the entropy is recomputed here from the stored levels.
    expect(completions(cheap)).toHaveLength(30);
    const unsure = result.results.filter((r) => {
      const c = r.panel.reviews.find((v) => v.layer === 0)!;
      const p = Object.values(c.levels!);
      const h = -p.reduce((s, q) => (q > 0 ? s + (q / p.reduce((a, b) => a + b, 0)) * Math.log2(q / p.reduce((a, b) => a + b, 0)) : s), 0);
      return h > maxEntropy;
    });
    expect(unsure.length).toBeGreaterThan(0);
    expect(unsure.length).toBeLessThan(30);
    expect(result.results.filter((r) => r.panel.escalated).map((r) => r.path)).toEqual(unsure.map((r) => r.path));
    // One request per unsure item (its 2 samples as n = 2).
    for (const s of neurons) expect(completions(s)).toHaveLength(unsure.length);
    // Sure items keep the cheap judge's expected level as their score.
    for (const r of result.results.filter((x) => !x.panel.escalated)) expect(r.score).toBe(r.panel.reviews[0]!.score);
    expect(reviews.filter((v) => v.layer === 0)).toHaveLength(30);
  }, 120_000);

  it('config: escalation by levels needs a threshold it can use; maxEntropy needs method levels', () => {
    const base = { name: 'p', neurons: [{ judge: 'a' }] };
    expect(PanelDefinition().safeParse({ ...base, escalation: { judge: 'c', method: 'levels' } }).error?.issues[0]?.message).toBe(
      'escalation by levels needs maxEntropy or maxSpread (or disagree: true for pairs)',
    );
    expect(PanelDefinition().safeParse({ ...base, escalation: { judge: 'c', maxEntropy: 1 } }).error?.issues.map((i) => i.message)).toContain(
      'maxEntropy needs method: levels (sampled scores have no level entropy)',
    );
    expect(PanelDefinition().safeParse({ ...base, fusion: 'meta' }).error?.issues[0]?.message).toBe('fusion: meta needs a meta judge (meta: { judge: NAME })');
    expect(PanelDefinition().safeParse({ ...base, escalation: { judge: 'c', method: 'levels', maxEntropy: 1 } }).success).toBe(true);
  });
});
