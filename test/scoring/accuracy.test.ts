/**
 * Scores are right: images of known quality (makeTestImage) scored through the real CLI
 * against the simulated judges come back near their true quality and in the right
 * order, by sampling (OpenAI and Anthropic wire formats) and from level probabilities
 * (OpenAI, with the prefix prefilled and written by the judge itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../src/judges/providers/openai/index.js';
import { runScore } from '../../src/judges/score-run.js';
import { qualityLevels } from '../../src/prompts/builtin.js';
import { Store } from '../../src/store/store.js';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import {
  answered,
  byName,
  choicesOf,
  messagesOf,
  parseScores,
  tempDir,
  writeImages,
  type ScoredImage,
  type TempDir,
} from './_support.js';

const QUALITIES = [1.5, 2.25, 3, 3.75, 4.5];
const SPECS = QUALITIES.map((quality, i) => ({ name: `q${i}.png`, quality }));
const KEY = 'sk-test-accuracy';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, SPECS);
});
afterAll(() => tmp.cleanup());

/** Every image within `tolerance` of its true quality, and the scores strictly in the true order. */
function expectAccurate(scores: readonly ScoredImage[], tolerance: number): void {
  expect(scores).toHaveLength(QUALITIES.length);
  const named = byName(scores);
  const got = SPECS.map((s) => named.get(s.name)?.score ?? Number.NaN);
  got.forEach((score, i) => {
    expect(Math.abs(score - QUALITIES[i]!), `${SPECS[i]!.name}: true ${QUALITIES[i]}, scored ${score}`).toBeLessThanOrEqual(tolerance);
  });
  for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
}

function expectLevels(scores: readonly ScoredImage[], coverage: number): void {
  for (const s of scores) {
    expect(s.method).toBe('levels');
    expect(Object.keys(s.levels ?? {})).toEqual(['excellent', 'good', 'fair', 'poor', 'bad']);
    const sum = Object.values(s.levels!).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 9);
    expect(s.coverage).toBeCloseTo(coverage, 6);
  }
}

describe('the sample method', () => {
  it('with an OpenAI-compatible server: K samples in one request, mean near the true quality', async () => {
    const server = await startOpenAIServer({ apiKey: KEY, seed: 3 });
    try {
      const db = tmp.path('sample-openai.db');
      const r = await runQuorum(
        ['score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '5', '--db', db, '--format', 'json'],
        { env: { OPENAI_API_KEY: KEY } },
      );
      expect(r.code, r.stderr).toBe(0);
      const scores = parseScores(r.stdout);
      expectAccurate(scores, 0.35);
      for (const s of scores) {
        expect(s).toMatchObject({ method: 'sample', status: 'ok', ok: 5, failed: 0 });
        expect(s.samples).toHaveLength(5);
        expect(s.std).toBeGreaterThan(0);
        expect(s.reasoning).toMatch(/grain/);
      }
      // Samples share a request: one per image, n = 5.
      const requests = answered(server);
      expect(requests).toHaveLength(QUALITIES.length);
      expect(requests.map(choicesOf)).toEqual(QUALITIES.map(() => 5));
    } finally {
      await server.close();
    }
  });

  it('with an Anthropic server: one request per sample, mean near the true quality', async () => {
    const server = await startAnthropicServer({ apiKey: KEY, seed: 4 });
    try {
      const db = tmp.path('sample-anthropic.db');
      const r = await runQuorum(
        ['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', '5', '--db', db, '--format', 'json'],
        { env: { ANTHROPIC_API_KEY: KEY } },
      );
      expect(r.code, r.stderr).toBe(0);
      const scores = parseScores(r.stdout);
      expectAccurate(scores, 0.35);
      expect(scores.every((s) => s.method === 'sample' && s.samples.length === 5)).toBe(true);
      expect(answered(server)).toHaveLength(QUALITIES.length * 5);
    } finally {
      await server.close();
    }
  });
});

describe('the levels method', () => {
  let server: JudgeServer;
  beforeAll(async () => {
    server = await startOpenAIServer({ apiKey: KEY, seed: 5 });
  });
  afterAll(() => server.close());

  it('with the prefix prefilled (the default for a --base-url server): expected level near the true quality', async () => {
    server.resetCounts();
    const r = await runQuorum(
      ['score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'levels', '--db', tmp.path('levels.db'), '--format', 'json'],
      { env: { OPENAI_API_KEY: KEY } },
    );
    expect(r.code, r.stderr).toBe(0);
    const scores = parseScores(r.stdout);
    expectAccurate(scores, 0.3);
    expectLevels(scores, 0.97);
    // One text-only probe (does this server return log-probabilities?), then one call per image.
    const [probe, ...requests] = answered(server);
    expect(probe?.images ?? []).toEqual([]);
    expect(probe?.body).toMatchObject({ logprobs: true, max_tokens: 1 });
    expect(requests).toHaveLength(QUALITIES.length);
    for (const request of requests) {
      const messages = messagesOf(request);
      expect(messages.at(-1)).toEqual({ role: 'assistant', content: 'The quality of the image is' });
      expect(request.body).toMatchObject({ logprobs: true, top_logprobs: 20, temperature: 0 });
    }
  });

  it('without a prefill (provider option prefill: false): the level is read after the prefix the judge wrote', async () => {
    server.resetCounts();
    const provider = createOpenAIProvider({ model: 'sim', baseURL: server.url, apiKey: KEY, options: { prefill: false } });
    const store = Store.open(':memory:');
    try {
      const result = await runScore({
        store,
        provider,
        inputs: [tmp.images],
        settings: { template: qualityLevels, method: 'levels', samples: 1, temperature: 0 },
        runName: 'no-prefill',
        argv: [],
        runOptions: {},
        price: undefined,
      });
      const scores = result.results as unknown as ScoredImage[];
      expect(scores.map((s) => s.status)).toEqual(QUALITIES.map(() => 'ok'));
      expectAccurate(scores, 0.3);
      expectLevels(scores, 0.97);
      for (const request of answered(server)) {
        expect(messagesOf(request).map((m) => m.role)).not.toContain('assistant');
      }
      // The judge wrote the whole sentence; the stored raw answer shows it.
      const raws = store.db.prepare('SELECT raw FROM calls').pluck().all() as string[];
      expect(raws).toHaveLength(QUALITIES.length);
      for (const raw of raws) expect(raw).toMatch(/^The quality of the image is \w+\.$/);
    } finally {
      store.close();
    }
  });

  it('shows low level coverage: recorded per image and flagged in the table', async () => {
    const low = await startOpenAIServer({ apiKey: KEY, seed: 5, levelCoverage: 0.3 });
    try {
      const db = tmp.path('low-coverage.db');
      const args = ['score', tmp.images, '--judge', 'openai:sim', '--base-url', low.url, '--method', 'levels', '--db', db];
      const table = await runQuorum(args, { env: { OPENAI_API_KEY: KEY } });
      expect(table.code, table.stderr).toBe(0);
      const rows = table.stdout.split('\n').filter((l) => l.includes('.png'));
      expect(rows).toHaveLength(QUALITIES.length);
      for (const row of rows) expect(row).toMatch(/LOW level coverage 0\.30/);
      const json = await runQuorum([...args, '--format', 'json'], { env: { OPENAI_API_KEY: KEY } });
      const scores = parseScores(json.stdout);
      expectLevels(scores, 0.3);
      // Renormalised over the levels, the scores are still right.
      expectAccurate(scores, 0.3);
    } finally {
      await low.close();
    }
  });
});
