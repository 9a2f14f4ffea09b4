/**
 * `compare` / `rank` with `--judge panel:NAME --batch`: every neuron judges both orders of
 * each pair through its provider's batch API (an OpenAI judge and an Anthropic judge, the
 * official SDKs against the test servers). With escalation by disagreement the cheap
 * judge's orders are one round of batches and only the pairs it split reach the neurons,
 * in the next. The results are those of the same panel run live; a killed process
 * re-attaches; `--no-wait` walks the rounds one rerun at a time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';
import { completions, panelConfig, tempDir, type TempDir } from '../scoring/_support.js';
import { batchRows, configWithLocalNeuron, created as createdOn, NO_BATCH_API, okKeys, storedResults } from './_support.js';

const KEY = 'sk-test-pair-panel-batch';
const CONTENTS = 6;
let tmp: TempDir;
let servers: JudgeServer[] = [];

beforeEach(async () => {
  tmp = await tempDir();
  // System s is `s * 0.5` better on every content.
  for (const [s, name] of ['A', 'B', 'C'].entries()) {
    await mkdir(tmp.path(name));
    for (let i = 0; i < CONTENTS; i++) await writeFile(join(tmp.path(name), `img${i}.png`), await makeTestImage({ quality: 1.6 + i * 0.3 + s * 0.5, seed: 10 * s + i }));
  }
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await tmp.cleanup();
});

/**
 * sim1 an OpenAI judge, sim2 an Anthropic judge, and sim3 (OpenAI) the cheap judge whose
 * strong first-slot bias makes its two orders disagree on close pairs.
 */
async function judges(batch: { pollsBeforeEnd?: number } = {}): Promise<void> {
  servers.push(
    await startOpenAIServer({ apiKey: KEY, seed: 1, noiseSd: 0.2, batch }),
    await startAnthropicServer({ apiKey: KEY, seed: 2, noiseSd: 0.3, batch }),
    await startOpenAIServer({ apiKey: KEY, seed: 4, noiseSd: 0.4, firstSlotBias: 1, batch }),
  );
}

async function configFile(panel: readonly string[]): Promise<string> {
  const file = tmp.path('quorum.config.yaml');
  // One request at a time live: the Anthropic judge's samples are identical requests answered in arrival order.
  await writeFile(file, panelConfig(servers, 'duo', panel, ['concurrency: 1']));
  return file;
}

const DUO = ['samples: 2', 'neurons:', '  - judge: sim1', '  - judge: sim2'];
const CASCADE = ['samples: 1', 'escalation: { judge: sim3, disagree: true }', 'neurons:', '  - judge: sim1', '  - judge: sim2'];

const quorum = (args: readonly string[], file: string, db: string, ...extra: string[]) =>
  runQuorum([...args, '--judge', 'panel:duo', '--config', file, '--db', db, '--format', 'json', ...extra], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
const COMPARE = ['compare', 'A', 'C'];
const BATCH = ['--batch', '--batch-poll', '0.02'];
const created = () => createdOn(servers);
const live = () => servers.map((s) => completions(s).length);

type Pair = {
  key: string;
  status: string;
  verdict: string | null;
  preference: number | null;
  errors: string[];
  panel: { escalated: boolean; neuronsUsed: number; reviews: { status: string; preference: number | null }[]; cheap: { consistent: boolean | null } | null };
};
type Compared = { pairs: Pair[]; summary: Record<string, unknown> };
const compared = (stdout: string) => JSON.parse(stdout) as Compared;
/** What a user reads: each pair's verdict, preference and panel, and the summary with its intervals. */
const verdicts = (stdout: string) => {
  const { pairs, summary } = compared(stdout);
  return { pairs: pairs.map((p) => ({ key: p.key, status: p.status, verdict: p.verdict, preference: p.preference, panel: p.panel })), summary };
};

describe('compare --judge panel:NAME --batch', () => {
  it('an OpenAI and an Anthropic neuron: one batch each, both orders of every pair; the verdicts of a live run', async () => {
    await judges();
    const file = await configFile(DUO);
    const db = tmp.path('batch.db');
    const batched = await quorum(COMPARE, file, db, ...BATCH);
    expect(batched.code, batched.stderr).toBe(0);
    expect(batched.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(live()).toEqual([0, 0, 0]);
    expect(created()).toEqual([1, 1, 0]);
    // Both orders of each pair; OpenAI asks both samples in one request (n = 2), Anthropic one request per sample.
    expect(batchRows(db).map((r) => [r.provider, r.requests, r.status])).toEqual([
      ['openai', 2 * CONTENTS, 'collected'],
      ['anthropic', 2 * CONTENTS * 2, 'collected'],
    ]);
    const out = compared(batched.stdout);
    expect(out.pairs).toHaveLength(CONTENTS);
    for (const p of out.pairs) {
      expect(p.status).toBe('ok');
      expect(p.verdict).toBe('b');
      expect(p.panel.neuronsUsed).toBe(2);
    }

    // A live run afterwards on the same database: every answer is stored, no request, the same output.
    const again = await quorum(COMPARE, file, db);
    expect(again.code, again.stderr).toBe(0);
    expect(live()).toEqual([0, 0, 0]);
    expect(verdicts(again.stdout)).toEqual(verdicts(batched.stdout));

    // The same panel live on a fresh database (the servers' answers start over): the same verdicts and intervals.
    for (const s of servers) s.resetCounts();
    const fresh = await quorum(COMPARE, file, tmp.path('live.db'));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(live()).toEqual([2 * CONTENTS, 2 * CONTENTS * 2, 0]);
    expect(verdicts(fresh.stdout)).toEqual(verdicts(batched.stdout));
    // The same answers under the same cache keys, and the same stored pairs and summary.
    expect(okKeys(db)).toEqual(okKeys(tmp.path('live.db')));
    expect(storedResults(db)).toEqual(storedResults(tmp.path('live.db')));
  }, 120_000);

  it('escalation by disagreement: round 1 batches the cheap judge, round 2 only the pairs whose orders it split', async () => {
    await judges();
    const file = await configFile(CASCADE);
    const db = tmp.path('batch.db');
    const batched = await quorum(COMPARE, file, db, ...BATCH);
    expect(batched.code, batched.stderr).toBe(0);
    const { pairs } = compared(batched.stdout);
    const escalated = pairs.filter((p) => p.panel.escalated).length;
    // Some pairs each way, or the test proves nothing.
    expect(escalated).toBeGreaterThan(0);
    expect(escalated).toBeLessThan(CONTENTS);
    for (const p of pairs) {
      expect(p.status).toBe('ok');
      expect(p.panel.escalated).toBe(p.panel.cheap?.consistent !== true);
    }
    expect(batched.stderr).toContain('batch round 2:');
    expect(created()).toEqual([1, 1, 1]);
    // The cheap judge's batch (both orders of every pair), then one per neuron: both orders of the escalated pairs.
    expect(batchRows(db).map((r) => [r.provider, r.requests])).toEqual([
      ['openai', 2 * CONTENTS],
      ['openai', 2 * escalated],
      ['anthropic', 2 * escalated],
    ]);
    expect(live()).toEqual([0, 0, 0]);

    for (const s of servers) s.resetCounts();
    const fresh = await quorum(COMPARE, file, tmp.path('live.db'));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(live()).toEqual([2 * escalated, 2 * escalated, 2 * CONTENTS]);
    expect(verdicts(fresh.stdout)).toEqual(verdicts(batched.stdout));
    expect(okKeys(db)).toEqual(okKeys(tmp.path('live.db')));
    expect(storedResults(db)).toEqual(storedResults(tmp.path('live.db')));
  }, 120_000);

  it('killed while waiting for the cheap judge, the rerun re-attaches without submitting it again, then batches the neurons', async () => {
    await judges({ pollsBeforeEnd: Number.POSITIVE_INFINITY });
    const file = await configFile(CASCADE);
    const db = tmp.path('q.db');
    const args = [...COMPARE, '--judge', 'panel:duo', '--config', file, '--db', db, '--format', 'json', '--batch', '--batch-poll', '0.05'];
    const first = spawnQuorum(args, { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    const cheap = servers[2] as JudgeServer;
    await waitUntil(() => cheap.requests.filter((r) => r.endpoint === 'batch' && r.method === 'GET').length >= 2, { what: 'the CLI polling the cheap judge’s batch' });
    first.kill('SIGKILL');
    await first.exited;
    expect(created()).toEqual([0, 0, 1]);
    expect(batchRows(db).map((r) => [r.status, r.requests])).toEqual([['in_progress', 2 * CONTENTS]]);

    for (const s of servers) s.setOptions({ apiKey: KEY, batch: { pollsBeforeEnd: 0 } });
    const second = await runQuorum(args, { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('re-attached');
    // The cheap judge's batch re-attached (still one submission), the neurons' submitted once each.
    expect(created()).toEqual([1, 1, 1]);
    expect(compared(second.stdout).pairs.map((p) => p.status)).toEqual(Array(CONTENTS).fill('ok'));
    expect(live()).toEqual([0, 0, 0]);
  }, 120_000);

  it('--no-wait walks the rounds one rerun at a time: pairs waiting are not run, never failed', async () => {
    // Each batch answers its first status check "in progress": the command returns with it out.
    await judges({ pollsBeforeEnd: 1 });
    const file = await configFile(CASCADE);
    const db = tmp.path('q.db');

    const one = await quorum(COMPARE, file, db, '--batch', '--no-wait');
    expect(one.code, one.stderr).toBe(0);
    expect(created()).toEqual([0, 0, 1]);
    const waiting = compared(one.stdout).pairs;
    expect(waiting.map((p) => p.status)).toEqual(Array(CONTENTS).fill('not-run'));
    expect(waiting[0]?.errors[0]).toMatch(/^not run: waiting in batch /);
    // Said once, and nothing is said to have failed.
    expect(one.stderr).toMatch(new RegExp(`${CONTENTS} pair\\(s\\) not run: waiting in batch .*quorum batches --collect`));
    expect(one.stderr).not.toMatch(/failed on|pair\(s\) failed/);

    const two = await quorum(COMPARE, file, db, '--batch', '--no-wait');
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toContain('re-attached');
    expect(created()).toEqual([1, 1, 1]); // the cheap judge's answers recorded, the neurons' batches submitted
    const pairs = compared(two.stdout).pairs;
    // The cheap judge's sure verdicts stand; the pairs it split wait for the neurons.
    for (const p of pairs) expect(p.status).toBe(p.panel.cheap?.consistent === true ? 'ok' : 'not-run');
    const split = pairs.filter((p) => p.status === 'not-run').length;
    expect(split).toBeGreaterThan(0);
    expect(two.stderr).toMatch(new RegExp(`${split} pair\\(s\\) not run: waiting in batch `));
    expect(two.stderr).not.toMatch(/failed on|pair\(s\) failed/);

    const collect = await runQuorum(['batches', '--collect', '--db', db], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
    expect(collect.code, collect.stderr).toBe(0);
    expect(batchRows(db).every((r) => r.status === 'collected')).toBe(true);
    const served = await quorum(COMPARE, file, db);
    expect(served.code, served.stderr).toBe(0);
    expect(compared(served.stdout).pairs.map((p) => p.status)).toEqual(Array(CONTENTS).fill('ok'));
    expect(created()).toEqual([1, 1, 1]);
    expect(live()).toEqual([0, 0, 0]);
  }, 120_000);

  it('a neuron without a batch API (a local llama model) is one usage line naming it, exit 2, nothing submitted', async () => {
    await judges();
    const file = await configWithLocalNeuron(tmp, servers);
    const out = await quorum(COMPARE, file, tmp.path('q.db'), '--batch');
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toMatch(NO_BATCH_API);
    expect(out.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(created()).toEqual([0, 0, 0]);
  }, 60_000);
});

describe('rank --judge panel:NAME --batch', () => {
  it('round-robin over three systems: every pair in both orders through the batches; the ranking of a live run', async () => {
    await judges();
    const file = await configFile(DUO);
    const RANK = ['rank', 'A', 'B', 'C', '--strategy', 'round-robin'];
    const pairs = 3 * CONTENTS;
    const batched = await quorum(RANK, file, tmp.path('batch.db'), ...BATCH);
    expect(batched.code, batched.stderr).toBe(0);
    expect(created()).toEqual([1, 1, 0]);
    expect(batchRows(tmp.path('batch.db')).map((r) => r.requests)).toEqual([2 * pairs, 2 * pairs * 2]);
    expect(live()).toEqual([0, 0, 0]);
    type Ranked = { ranking: { name: string; rank: number; score: number; lower: number; upper: number }[] };
    const ranking = (stdout: string) => (JSON.parse(stdout) as Ranked).ranking;
    expect(ranking(batched.stdout).map((r) => r.name)).toEqual(['C', 'B', 'A']);

    for (const s of servers) s.resetCounts();
    const fresh = await quorum(RANK, file, tmp.path('live.db'));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(live()).toEqual([2 * pairs, 2 * pairs * 2, 0]);
    expect(ranking(fresh.stdout)).toEqual(ranking(batched.stdout));
    expect(storedResults(tmp.path('batch.db'))).toEqual(storedResults(tmp.path('live.db')));
  }, 120_000);

  it('--no-wait: the pairs waiting in the batches are not run (exit 0, nothing failed); the rerun collects them and ranks', async () => {
    await judges({ pollsBeforeEnd: 1 });
    const file = await configFile(DUO);
    const RANK = ['rank', 'A', 'B', 'C', '--strategy', 'round-robin'];
    const db = tmp.path('q.db');
    const one = await quorum(RANK, file, db, '--batch', '--no-wait');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(new RegExp(`${3 * CONTENTS} pair\\(s\\) not run: waiting in batch `));
    expect(one.stderr).not.toMatch(/failed on|pair\(s\) failed/);
    type Ranked = { ranking: { name: string; status: string }[] };
    expect((JSON.parse(one.stdout) as Ranked).ranking.map((r) => r.status)).toEqual(['not-ranked', 'not-ranked', 'not-ranked']);
    const two = await quorum(RANK, file, db, '--batch');
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toContain('re-attached');
    expect(created()).toEqual([1, 1, 0]);
    expect((JSON.parse(two.stdout) as Ranked).ranking.map((r) => r.name)).toEqual(['C', 'B', 'A']);
    expect(live()).toEqual([0, 0, 0]);
  }, 120_000);

  it('the active strategy with --batch stays a usage error', async () => {
    await judges();
    const out = await quorum(['rank', 'A', 'B', 'C'], await configFile(DUO), tmp.path('q.db'), '--batch');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--strategy round-robin or random');
    expect(created()).toEqual([0, 0, 0]);
  }, 60_000);
});
