/**
 * `score --judge panel:NAME --batch`: a panel's requests go through the providers' batch
 * APIs layer by layer (an OpenAI judge and an Anthropic judge, each with its own batches,
 * the official SDKs against the test servers): layer 1 is one batch per judge, layer 2
 * (which reads layer 1's reviews) the next, an escalation panel batches only the items
 * its cheap judge is unsure of. The results are those of the same panel run live; a
 * killed process re-attaches; `--no-wait` walks the layers one rerun at a time.
 */
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { completions, panelConfig, spread, tempDir, writeImages, type ScoredImage, type TempDir } from '../scoring/_support.js';
import { batchRows, configWithLocalNeuron, NO_BATCH_API, created as createdOn } from './_support.js';

const KEY = 'sk-test-panel-batch';
let tmp: TempDir;
let servers: JudgeServer[] = [];

beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await tmp.cleanup();
});

type PanelScored = ScoredImage & {
  panel: { escalated: boolean; neuronsUsed: number; lower: number | null; upper: number | null; failedNeurons: string[]; reviews: { layer: number; neuron: number; score: number | null }[] };
};

/** sim1 an OpenAI judge, sim2 an Anthropic judge (and sim3, OpenAI, when asked for), each on its own server. */
async function judges(batch: { pollsBeforeEnd?: number } = {}, cheap?: { noiseSd: number }): Promise<void> {
  servers.push(
    await startOpenAIServer({ apiKey: KEY, seed: 1, noiseSd: 0.3, scoreOffset: 0.5, batch }),
    await startAnthropicServer({ apiKey: KEY, seed: 2, noiseSd: 0.3, scoreOffset: -0.5, batch }),
  );
  if (cheap) servers.push(await startOpenAIServer({ apiKey: KEY, seed: 3, noiseSd: cheap.noiseSd, batch }));
}

async function configFile(panel: readonly string[]): Promise<string> {
  const file = tmp.path('quorum.config.yaml');
  // One request at a time live: an Anthropic judge's samples are identical requests, and the
  // simulated judge answers repeats in arrival order, which must be the samples' order (as in a batch).
  await writeFile(file, panelConfig(servers, 'duo', panel, ['concurrency: 1']));
  return file;
}

const TWO_LAYERS = ['samples: 2', 'layers: 2', 'rounds: 50', 'neurons:', '  - judge: sim1', '  - judge: sim2'];

const score = (file: string, db: string, ...extra: string[]) =>
  runQuorum(['score', tmp.images, '--judge', 'panel:duo', '--config', file, '--db', db, '--format', 'json', ...extra], { env: { SIM_KEY: KEY }, cwd: tmp.dir });

const created = () => createdOn(servers);
const fused = (stdout: string) =>
  (JSON.parse(stdout) as PanelScored[]).map((r) => ({ path: r.path, status: r.status, score: r.score, lower: r.panel.lower, upper: r.panel.upper, used: r.panel.neuronsUsed }));

describe('score --judge panel:NAME --batch', () => {
  it('a two-layer panel of an OpenAI and an Anthropic judge: one batch per judge per layer, the fused results of a live run', async () => {
    await judges();
    const images = 4;
    await writeImages(tmp.images, spread(images));
    const file = await configFile(TWO_LAYERS);
    const db = tmp.path('batch.db');
    const batched = await score(file, db, '--batch', '--batch-poll', '0.02');
    expect(batched.code, batched.stderr).toBe(0);
    expect(batched.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(servers.map((s) => completions(s).length)).toEqual([0, 0]); // nothing went live
    // Two rounds (layer 1, then layer 2), each one batch per judge.
    expect(created()).toEqual([2, 2]);
    expect(batched.stderr).toContain('batch round 2:');
    const rows = batchRows(db);
    expect(rows.map((r) => r.provider)).toEqual(['openai', 'anthropic', 'openai', 'anthropic']);
    // OpenAI asks both samples of a review in one request (n = 2); Anthropic has no `n`: one request per sample.
    expect(rows.map((r) => r.requests)).toEqual([images, images * 2, images, images * 2]);
    for (const r of rows) expect(r).toMatchObject({ status: 'collected', succeeded: r.requests });
    const results = JSON.parse(batched.stdout) as PanelScored[];
    expect(results).toHaveLength(images);
    for (const r of results) {
      expect(r.status).toBe('ok');
      expect(r.panel.neuronsUsed).toBe(2);
      expect(r.panel.reviews.map((v) => v.layer)).toEqual([1, 1, 2, 2]);
    }

    // A live run of the same command afterwards is served from the store: no request, the same output.
    const requestsBefore = servers.map((s) => s.requests.length);
    const again = await score(file, db);
    expect(again.code, again.stderr).toBe(0);
    expect(servers.map((s) => s.requests.length)).toEqual(requestsBefore);
    expect(fused(again.stdout)).toEqual(fused(batched.stdout));

    // The same panel live on a fresh database: the same fused scores, intervals and agreement.
    for (const s of servers) s.resetCounts();
    const live = await score(file, tmp.path('live.db'));
    expect(live.code, live.stderr).toBe(0);
    expect(completions(servers[0]!).length).toBeGreaterThan(0);
    expect(fused(live.stdout)).toEqual(fused(batched.stdout));
    const agreement = (stderr: string) => stderr.split('\n').find((l) => l.startsWith('panel agreement'));
    expect(agreement(live.stderr)).toBeDefined();
    expect(agreement(batched.stderr)).toEqual(agreement(live.stderr));
  }, 120_000);

  it('killed while waiting for layer 1, the rerun re-attaches without submitting it again, then batches layer 2', async () => {
    await judges({ pollsBeforeEnd: Number.POSITIVE_INFINITY });
    await writeImages(tmp.images, spread(3));
    const file = await configFile(TWO_LAYERS);
    const db = tmp.path('q.db');
    const args = ['score', tmp.images, '--judge', 'panel:duo', '--config', file, '--db', db, '--format', 'json', '--batch', '--batch-poll', '0.05'];
    const first = spawnQuorum(args, { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    await waitUntil(() => servers.every((s) => s.requests.filter((r) => r.endpoint === 'batch' && r.method === 'GET').length >= 2), {
      what: 'the CLI polling both batches',
    });
    first.kill('SIGKILL');
    await first.exited;
    expect(created()).toEqual([1, 1]);
    // Layer 1 only: layer 2 waits for its reviews (3 images; Anthropic one request per sample).
    expect(batchRows(db).map((r) => [r.status, r.requests])).toEqual([
      ['in_progress', 3],
      ['in_progress', 6],
    ]);

    for (const s of servers) s.setOptions({ apiKey: KEY, batch: { pollsBeforeEnd: 0 } });
    const second = await runQuorum(args, { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('re-attached');
    expect(created()).toEqual([2, 2]); // layer 1 re-attached, layer 2 submitted once
    expect((JSON.parse(second.stdout) as PanelScored[]).map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(servers.map((s) => completions(s).length)).toEqual([0, 0]);
  }, 120_000);

  it('--no-wait walks the layers one rerun at a time; `quorum batches --collect` records the last', async () => {
    // Each batch answers its first status check "in progress": the command returns with it out.
    await judges({ pollsBeforeEnd: 1 });
    await writeImages(tmp.images, spread(3));
    const file = await configFile(TWO_LAYERS);
    const db = tmp.path('q.db');
    const statuses = (stdout: string) => (JSON.parse(stdout) as PanelScored[]).map((r) => r.status);

    const one = await score(file, db, '--batch', '--no-wait');
    expect(one.code, one.stderr).toBe(0);
    expect(created()).toEqual([1, 1]);
    expect(statuses(one.stdout)).toEqual(['not-run', 'not-run', 'not-run']);
    expect(one.stderr).toMatch(/3 image\(s\) not run: waiting in batch .*quorum batches --collect/);
    expect(one.stderr).not.toMatch(/failed on \d+ of/); // nothing is said to have failed

    const two = await score(file, db, '--batch', '--no-wait');
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toContain('re-attached');
    expect(created()).toEqual([2, 2]); // layer 1 recorded, layer 2 submitted
    expect(statuses(two.stdout)).toEqual(['not-run', 'not-run', 'not-run']);
    expect(batchRows(db).map((r) => r.status)).toEqual(['collected', 'collected', 'in_progress', 'in_progress']);

    const collect = await runQuorum(['batches', '--collect', '--db', db], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(collect.code, collect.stderr).toBe(0);
    expect(created()).toEqual([2, 2]);
    expect(batchRows(db).every((r) => r.status === 'collected')).toBe(true);
    const served = await score(file, db);
    expect(served.code, served.stderr).toBe(0);
    expect(statuses(served.stdout)).toEqual(['ok', 'ok', 'ok']);
    expect(servers.map((s) => completions(s).length)).toEqual([0, 0]);
  }, 120_000);

  it('an escalation panel batches the cheap judge first, then only the items it is unsure of', async () => {
    await judges({}, { noiseSd: 0.5 });
    const images = 12;
    await writeImages(tmp.images, spread(images));
    const file = await configFile(['samples: 1', 'fusion: mean', 'escalation: { judge: sim3, maxSpread: 0.4, samples: 4 }', 'neurons:', '  - judge: sim1', '  - judge: sim2']);
    const batched = await score(file, tmp.path('q.db'), '--batch', '--batch-poll', '0.02');
    expect(batched.code, batched.stderr).toBe(0);
    const results = JSON.parse(batched.stdout) as PanelScored[];
    const escalated = results.filter((r) => r.panel.escalated).length;
    expect(escalated).toBeGreaterThan(0);
    expect(escalated).toBeLessThan(images);
    // Round 1: the cheap judge's batch, every image; round 2: one batch per neuron, the escalated images only.
    expect(created()).toEqual([1, 1, 1]);
    const rows = batchRows(tmp.path('q.db'));
    expect(rows.map((r) => r.requests)).toEqual([images, escalated, escalated]);
    expect(servers.map((s) => completions(s).length)).toEqual([0, 0, 0]);
    for (const r of results) expect(r.status).toBe('ok');
  }, 120_000);

  it('meta fusion: the meta judge is batched in the round after the reviews it reads, and its verdicts are the scores', async () => {
    await judges({}, { noiseSd: 0.1 });
    const images = 3;
    await writeImages(tmp.images, spread(images));
    const file = await configFile(['samples: 2', 'fusion: meta', 'meta: { judge: sim3 }', 'neurons:', '  - judge: sim1', '  - judge: sim2']);
    const batched = await score(file, tmp.path('q.db'), '--batch', '--batch-poll', '0.02');
    expect(batched.code, batched.stderr).toBe(0);
    expect(created()).toEqual([1, 1, 1]);
    expect(batchRows(tmp.path('q.db')).map((r) => [r.provider, r.requests])).toEqual([
      ['openai', images],
      ['anthropic', images * 2],
      ['openai', images],
    ]);
    for (const r of JSON.parse(batched.stdout) as (PanelScored & { panel: { meta: { fallback: string | null; score: number | null } } })[]) {
      expect(r.status).toBe('ok');
      expect(r.panel.meta.fallback).toBeNull();
      expect(r.score).toBe(r.panel.meta.score);
    }
    expect(servers.map((s) => completions(s).length)).toEqual([0, 0, 0]);
  }, 120_000);

  it('roles generated per item: the roles judge is batched in the round before the neurons, who judge from its roles', async () => {
    await judges();
    // The roles judge (OpenAI) always proposes the same two angles.
    servers.push(await startOpenAIServer({ apiKey: KEY, seed: 3, faultRate: 1, faultKinds: [{ kind: 'say', text: '{"roles": ["edges of the shapes", "banding in the gradient"]}' }] }));
    const images = 3;
    await writeImages(tmp.images, spread(images));
    const file = await configFile(['samples: 2', 'fusion: mean', 'roles: { judge: sim3, count: 2 }', 'neurons:', '  - judge: sim1', '  - judge: sim2']);
    const batched = await score(file, tmp.path('q.db'), '--batch', '--batch-poll', '0.02');
    expect(batched.code, batched.stderr).toBe(0);
    // Round 1: the roles calls only; round 2: the neurons, one batch each.
    expect(created()).toEqual([1, 1, 1]);
    expect(batchRows(tmp.path('q.db')).map((r) => [r.provider, r.requests])).toEqual([
      ['openai', images],
      ['openai', images],
      ['anthropic', images * 2],
    ]);
    expect(servers.map((s) => completions(s).length)).toEqual([0, 0, 0]);
    type Roled = PanelScored & { panel: { rolesFrom: string; roles: string[] } };
    for (const r of JSON.parse(batched.stdout) as Roled[]) {
      expect(r.status).toBe('ok');
      expect(r.panel.rolesFrom, r.errors.join('; ')).toBe('generated');
      expect(r.panel.roles).toEqual(['edges of the shapes', 'banding in the gradient']);
    }
    // The same panel live (the servers' answers start over): the same roles, hence the same reviews and scores.
    for (const s of servers) s.resetCounts();
    const live = await score(file, tmp.path('live.db'));
    expect(live.code, live.stderr).toBe(0);
    expect(completions(servers[2]!)).toHaveLength(images);
    expect(fused(live.stdout)).toEqual(fused(batched.stdout));
  }, 120_000);

  it('a judge without a batch API (a local llama model) is one usage line naming it, exit 2, nothing submitted', async () => {
    await judges();
    await writeImages(tmp.images, spread(2));
    // The panel's second neuron is the judge `local`, declared beside the simulated ones.
    const file = await configWithLocalNeuron(tmp, servers);
    const out = await score(file, tmp.path('q.db'), '--batch');
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toMatch(NO_BATCH_API);
    expect(out.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(created()).toEqual([0, 0]);
  }, 60_000);
});
