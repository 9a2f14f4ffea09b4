import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compare, createOpenAIProvider, rank, score, UsageError, writeDemoImages, type DemoImages } from '../../src/index.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { withDb } from '../scoring/_support.js';

/**
 * The library API (`score`, `compare`, `rank` from the package root) against the simulated
 * judge through the real OpenAI SDK and a real SQLite file: no run name, command line or
 * stored options to supply; keys from the environment; the same cache and resume as the CLI.
 */
describe('library API', () => {
  let dir: string;
  let demo: DemoImages;
  let server: JudgeServer;
  const savedKey = process.env['OPENAI_API_KEY'];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorum-api-'));
    demo = await writeDemoImages(join(dir, 'demo'));
    server = await startOpenAIServer({ apiKey: 'sk-from-env', seed: 5 });
  });
  afterEach(() => {
    if (savedKey === undefined) delete process.env['OPENAI_API_KEY'];
    else process.env['OPENAI_API_KEY'] = savedKey;
    server.resetCounts();
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const truth = (path: string) => Number(/quality-([\d.]+)\.png$/.exec(path)![1]);

  it('score() needs only a judge: the key comes from OPENAI_API_KEY, calls are stored, a rerun makes none', async () => {
    process.env['OPENAI_API_KEY'] = 'sk-from-env';
    const db = join(dir, 'score.db');
    const first = await score(demo.images, { judge: 'openai:sim', baseURL: server.url, db, method: 'sample', samples: 3 });
    expect(first.method).toBe('sample');
    expect(first.results).toHaveLength(6);
    for (const r of first.results) {
      expect(r.status).toBe('ok');
      expect(r.samples).toHaveLength(3);
      expect(Math.abs(r.score! - truth(r.path))).toBeLessThan(0.6);
    }
    expect(server.calls).toBeGreaterThan(0);
    const calls = server.calls;

    const again = await score([demo.images], { judge: 'openai:sim', baseURL: server.url, db, method: 'sample', samples: 3 });
    expect(server.calls).toBe(calls);
    expect(again.resumed).toBe(true);
    expect(again.counts.cached).toBe(18);
    expect(again.results.map((r) => r.score)).toEqual(first.results.map((r) => r.score));

    // The run is stored as the CLI's would be, with a derived name and no secret.
    const runs = withDb(db, (d) => d.prepare('select name, command, args, options from runs').all() as { name: string; command: string; args: string; options: string }[]);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.name).toMatch(/^score-[0-9a-f]{10}$/);
    expect(JSON.parse(runs[0]!.args)).toEqual(['score', demo.images]);
    expect(JSON.stringify(runs)).not.toContain('sk-from-env');
  });

  it('an explicit apiKey wins over the environment', async () => {
    process.env['OPENAI_API_KEY'] = 'sk-wrong';
    const sent = () => server.requests.filter((r) => r.endpoint === 'complete').map((r) => [r.headers['authorization'], r.status]);
    const before = sent().length;
    const ok = await score(join(demo.images, 'quality-3.6.png'), { judge: 'openai:sim', baseURL: server.url, apiKey: 'sk-from-env', db: ':memory:' });
    expect(ok.results[0]!.status).toBe('ok');
    const first = sent().slice(before);
    expect(first.length).toBeGreaterThan(0);
    expect(first.every(([key, status]) => key === 'Bearer sk-from-env' && status === 200)).toBe(true);
    // Without apiKey the wrong environment key is sent (and refused: a 401, however the run reports it).
    await score(join(demo.images, 'quality-3.6.png'), { judge: 'openai:sim', baseURL: server.url, db: ':memory:', retries: 0 }).catch(() => undefined);
    const second = sent().slice(before + first.length);
    expect(second.length).toBeGreaterThan(0);
    expect(second.every(([key, status]) => key === 'Bearer sk-wrong' && status === 401)).toBe(true);
  });

  it('compare() and rank() find the better system and order the images by quality', async () => {
    const common = { judge: 'openai:sim', baseURL: server.url, apiKey: 'sk-from-env', db: join(dir, 'pairs.db') };
    const compared = await compare(demo.systemA, demo.systemB, common);
    expect(compared.summary.winsB).toBe(4);
    expect(compared.summary.bradleyTerry!.estimate).toBeGreaterThan(0);

    const ranked = await rank({ items: demo.images }, { ...common, strategy: 'round-robin' });
    expect(ranked.ranking.map((item) => item.name)).toEqual(['quality-4.9', 'quality-4.3', 'quality-3.6', 'quality-2.9', 'quality-2.2', 'quality-1.5']);
    const systems = await rank([demo.systemA, demo.systemB], { ...common, strategy: 'round-robin' });
    expect(systems.ranking[0]!.name).toBe('system-b');
  });

  it('takes a Provider object and leaves it open; a signal stops the run with calls accounted for', async () => {
    const provider = createOpenAIProvider({ model: 'sim', baseURL: server.url, apiKey: 'sk-from-env' });
    const withProvider = await score(demo.images, { judge: provider, db: ':memory:', method: 'levels' });
    expect(withProvider.results.every((r) => r.status === 'ok')).toBe(true);
    const reused = await score(demo.systemA, { judge: provider, db: ':memory:', method: 'levels' });
    expect(reused.results).toHaveLength(4);

    const stop = new AbortController();
    stop.abort();
    const stopped = await score(demo.images, { judge: provider, db: ':memory:', signal: stop.signal });
    expect(stopped.interrupted).toBe(true);
    expect(stopped.results.filter((r) => r.status === 'ok').length).toBeLessThan(6);
  });

  it('refuses bad options in one line before any request or database file', async () => {
    const db = join(dir, 'never.db');
    const run = (options: Parameters<typeof score>[1]) => score(demo.images, options);
    await expect(run({ judge: 'openai:sim', baseURL: server.url, db, samples: 1e9 })).rejects.toThrow(
      new UsageError('Expected `samples` to be an integer in [1, 1000], got `1000000000`'),
    );
    await expect(run({ judge: 'openai:sim', baseURL: server.url, db, concurrency: 0 })).rejects.toThrow(
      'Expected `concurrency` to be an integer in [1, 1024], got `0`',
    );
    await expect(run({ judge: 'gpt-4o', db })).rejects.toThrow('Expected `--judge` to look like provider:model');
    await expect(run({ judge: createOpenAIProvider({ model: 'sim', baseURL: server.url }), baseURL: server.url, db })).rejects.toThrow(
      '`baseURL` configures a judge given as provider:model',
    );
    await expect(compare(demo.systemA, demo.systemB, { judge: 'openai:sim', baseURL: server.url, db, samples: 0 })).rejects.toThrow(
      'Expected `samples` to be an integer in [1, 1000], got `0`',
    );
    await expect(rank([demo.systemA], { judge: 'openai:sim', baseURL: server.url, db })).rejects.toThrow('Give at least two system folders');
    expect(server.requests).toHaveLength(0);
    expect(existsSync(db)).toBe(false);
  });
});
