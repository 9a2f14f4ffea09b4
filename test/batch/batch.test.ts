/**
 * `--batch`: requests go through the provider's batch API (OpenAI Files + Batches,
 * Anthropic Message Batches, spoken by the test servers, with the official SDKs as
 * clients). The batch is stored the moment it is submitted, a killed process re-attaches
 * without submitting again, answers are stored exactly like live calls (same cache keys:
 * a live run afterwards asks nothing), and requests that failed or expired in the batch
 * are the only ones submitted again.
 */
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { completions, parseScores, spread, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';
import { okKeys } from './_support.js';

let server: JudgeServer;
let tmp: TempDir;

beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await server?.close();
  await tmp.cleanup();
});

interface BatchRow {
  remote_id: string;
  status: string;
  requests: number;
  succeeded: number;
  errored: number;
  expired: number;
  cost_usd: number | null;
}

const batchRows = (db: string) => withDb(db, (d) => d.prepare('SELECT * FROM batches ORDER BY id').all() as BatchRow[]);
/** Requests to the batch endpoints (files, batches) of one kind. */
const batchRequests = (s: JudgeServer, method: string, path: RegExp) => s.requests.filter((r) => r.endpoint === 'batch' && r.method === method && path.test(r.path));

describe('OpenAI Batch API', () => {
  const images = 6;
  const samples = 2;
  const scoreArgs = (db: string, url: string) =>
    ['score', tmp.images, '--judge', 'openai:sim', '--base-url', url, '--method', 'sample', '--samples', String(samples), '--db', db, '--format', 'json'];

  it('killed while waiting, the rerun re-attaches without submitting again; answers land under the live cache keys', async () => {
    server = await startOpenAIServer({ batch: { pollsBeforeEnd: Number.POSITIVE_INFINITY } });
    await writeImages(tmp.images, spread(images));
    const db = tmp.path('batch.db');
    const args = [...scoreArgs(db, server.url), '--batch', '--batch-poll', '0.05'];

    const first = spawnQuorum(args, { cwd: tmp.dir });
    // Submitted, and polled at least twice: the batch is in the database and the process waits.
    await waitUntil(() => batchRequests(server, 'GET', /^\/v1\/batches\//).length >= 2, { what: 'the CLI polling its batch' });
    first.kill('SIGKILL');
    await first.exited;
    expect(server.batches.created).toBe(1);
    const stored = batchRows(db);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'in_progress', requests: images });
    // One request per image asks for both samples (n = 2); the upload is one JSONL file.
    const upload = batchRequests(server, 'POST', /^\/v1\/files$/);
    expect(upload).toHaveLength(1);

    server.setOptions({ batch: { pollsBeforeEnd: 0 } });
    const second = await runQuorum(args, { cwd: tmp.dir });
    expect(second.stderr).toContain("re-attached");
    expect(second.code, second.stderr).toBe(0);
    expect(server.batches.created).toBe(1); // no second submission
    expect(server.batches.answered).toBe(images);
    expect(completions(server)).toHaveLength(0); // nothing went live
    const scores = parseScores(second.stdout);
    expect(scores).toHaveLength(images);
    for (const s of scores) {
      expect(s.status).toBe('ok');
      expect(s.samples).toHaveLength(samples);
    }
    expect(batchRows(db)[0]).toMatchObject({ status: 'collected', succeeded: images, errored: 0, expired: 0 });

    // A live run of the same command afterwards is served from the store: zero requests.
    const live = await runQuorum(scoreArgs(db, server.url), { cwd: tmp.dir });
    expect(live.code, live.stderr).toBe(0);
    expect(completions(server)).toHaveLength(0);
    expect(parseScores(live.stdout).map((s) => s.score)).toEqual(scores.map((s) => s.score));

    // The cache keys are those a live run writes: the same command live on a fresh database.
    const liveDb = tmp.path('live.db');
    const fresh = await runQuorum(scoreArgs(liveDb, server.url), { cwd: tmp.dir });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(completions(server).length).toBeGreaterThan(0);
    expect(okKeys(liveDb)).toEqual(okKeys(db));
    expect(okKeys(db)).toHaveLength(images * samples);
  });

  it('Ctrl-C while waiting exits 130 and keeps the batch; the rerun collects it', async () => {
    server = await startOpenAIServer({ batch: { pollsBeforeEnd: Number.POSITIVE_INFINITY } });
    await writeImages(tmp.images, spread(2));
    const db = tmp.path('q.db');
    const args = [...scoreArgs(db, server.url), '--batch', '--batch-poll', '0.05'];
    const proc = spawnQuorum(args, { cwd: tmp.dir });
    await waitUntil(() => batchRequests(server, 'GET', /^\/v1\/batches\//).length >= 1, { what: 'the CLI polling its batch' });
    proc.kill('SIGINT');
    const stopped = await proc.exited;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('rerun the command to collect them');
    expect(parseScores(stopped.stdout).map((s) => s.status)).toEqual(['not-run', 'not-run']);
    expect(batchRows(db)).toMatchObject([{ status: 'in_progress', requests: 2 }]);

    server.setOptions({ batch: { pollsBeforeEnd: 0 } });
    const rerun = await runQuorum(args, { cwd: tmp.dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(server.batches.created).toBe(1);
    expect(parseScores(rerun.stdout).map((s) => s.status)).toEqual(['ok', 'ok']);
  });

  it('--no-wait returns with the batch stored; `quorum batches --collect` stores its answers at batch prices', async () => {
    server = await startOpenAIServer({ batch: { pollsBeforeEnd: Number.POSITIVE_INFINITY } });
    await writeImages(tmp.images, spread(3));
    const db = tmp.path('q.db');
    const prices = tmp.path('prices.json');
    await writeFile(prices, JSON.stringify({ 'openai:sim': { input: 2, output: 8 } }));
    const args = [...scoreArgs(db, server.url), '--batch', '--no-wait', '--prices', prices];

    const submitted = await runQuorum(args, { cwd: tmp.dir });
    expect(submitted.code, submitted.stderr).toBe(0);
    const [batch] = batchRows(db);
    expect(batch).toMatchObject({ status: 'in_progress', requests: 3 });
    expect(submitted.stderr).toContain(batch!.remote_id);
    // Every input accounted for: not run, with the reason and the way to collect.
    const pending = parseScores(submitted.stdout);
    expect(pending.map((s) => s.status)).toEqual(['not-run', 'not-run', 'not-run']);
    expect(pending[0]!.errors.join(' ')).toContain('quorum batches --collect');

    const listed = await runQuorum(['batches', '--db', db, '--format', 'json'], { cwd: tmp.dir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ remoteId: batch!.remote_id, status: 'in_progress', requests: 3 }]);

    server.setOptions({ batch: { pollsBeforeEnd: 0 } });
    const collected = await runQuorum(['batches', '--collect', '--db', db, '--format', 'json'], { cwd: tmp.dir });
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stderr).toMatch(/batch: 3 request\(s\): 3 answered; \$[0-9.]+ at batch prices \(live: \$[0-9.]+\)/);
    const after = JSON.parse(collected.stdout.slice(collected.stdout.lastIndexOf('[\n'))) as { status: string; succeeded: number }[];
    expect(after).toMatchObject([{ status: 'collected', succeeded: 3 }]);
    expect(server.batches.created).toBe(1);
    expect(completions(server)).toHaveLength(0);

    // Half the list price, call by call, and the batch's total is their sum.
    const calls = withDb(db, (d) => d.prepare("SELECT input_tokens AS i, output_tokens AS o, cost_usd AS c FROM calls WHERE status = 'ok'").all() as { i: number; o: number; c: number }[]);
    expect(calls).toHaveLength(3 * samples);
    let total = 0;
    for (const c of calls) {
      expect(c.c).toBeCloseTo(((c.i * 2 + c.o * 8) / 1e6) * 0.5, 12);
      total += c.c;
    }
    expect(batchRows(db)[0]!.cost_usd).toBeCloseTo(total, 12);
  });
});

const protocols = [
  { name: 'OpenAI Batch API', start: startOpenAIServer, judge: 'openai:sim', env: {} },
  { name: 'Anthropic Message Batches', start: startAnthropicServer, judge: 'anthropic:sim', env: { ANTHROPIC_API_KEY: 'sk-ant-batch' } },
] as const;

describe.each(protocols)('$name', ({ start, judge, env }) => {
  it('a batch with failed and expired requests: the rerun submits only those', async () => {
    const fate = new Map<number, 'errored' | 'expired'>([
      [1, 'errored'],
      [4, 'expired'],
    ]);
    server = await start({ ...('ANTHROPIC_API_KEY' in env ? { apiKey: env.ANTHROPIC_API_KEY } : {}), batch: { outcome: (_id, index) => fate.get(index) ?? 'succeeded' } });
    await writeImages(tmp.images, spread(6));
    const db = tmp.path('q.db');
    const args = ['score', tmp.images, '--judge', judge, '--base-url', server.url, '--method', 'sample', '--samples', '1',
      '--db', db, '--format', 'json', '--batch', '--batch-poll', '0.02'];
    const first = await runQuorum(args, { cwd: tmp.dir, env });
    expect(first.code).toBe(1); // two images without an answer
    const scores = parseScores(first.stdout);
    expect(scores.filter((s) => s.status === 'ok')).toHaveLength(4);
    // Both are accounted for, with the reason: the rerun submits them again.
    const missing = scores.filter((s) => s.status === 'not-run');
    expect(missing).toHaveLength(2);
    expect(missing[0]!.errors.join(' ')).toMatch(/1 request\(s\) failed in the batch.*rerun/);
    expect(batchRows(db)[0]).toMatchObject({ status: 'collected', requests: 6, succeeded: 4, errored: 1, expired: 1 });
    // The failed request is recorded like a failed live call: an error row with its reason.
    const errors = withDb(db, (d) => d.prepare("SELECT error FROM calls WHERE status = 'error'").all() as { error: string }[]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toMatch(/in the batch: .+/);

    fate.clear();
    const second = await runQuorum(args, { cwd: tmp.dir, env });
    expect(second.code, second.stderr).toBe(0);
    expect(server.batches.created).toBe(2);
    const rows = batchRows(db);
    expect(rows[1]).toMatchObject({ status: 'collected', requests: 2, succeeded: 2 });
    expect(server.batches.answered).toBe(6); // 4 + the 2 resubmitted, never one twice
    expect(parseScores(second.stdout).every((s) => s.status === 'ok')).toBe(true);
    expect(completions(server)).toHaveLength(0);
  });
});

describe('rank --strategy round-robin --batch', () => {
  it('ranks from batch answers exactly as from live answers, under the same cache keys', async () => {
    server = await startOpenAIServer({ seed: 5, noiseSd: 0.2 });
    await writeImages(tmp.images, spread(5, 'item'));
    const rankArgs = (db: string) =>
      ['rank', '--items', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--strategy', 'round-robin', '--prompt', 'compare-sample',
        '--samples', '1', '--db', db, '--format', 'json', '--quiet'];
    const batched = await runQuorum([...rankArgs(tmp.path('batch.db')), '--batch', '--batch-poll', '0.02'], { cwd: tmp.dir });
    expect(batched.code, batched.stderr).toBe(0);
    expect(completions(server)).toHaveLength(0);
    expect(batchRows(tmp.path('batch.db'))).toMatchObject([{ status: 'collected', requests: 20, succeeded: 20 }]); // 10 pairs, both orders

    server.resetCounts(); // the simulated judge answers a repeated question afresh: start it over
    const live = await runQuorum(rankArgs(tmp.path('live.db')), { cwd: tmp.dir });
    expect(live.code, live.stderr).toBe(0);
    expect(completions(server)).toHaveLength(20);
    const ranking = (stdout: string) => (JSON.parse(stdout) as { ranking: { name: string; score: number }[] }).ranking;
    expect(ranking(batched.stdout)).toEqual(ranking(live.stdout));
    expect(okKeys(tmp.path('batch.db'))).toEqual(okKeys(tmp.path('live.db')));
  });
});

describe('usage', () => {
  it('refuses --batch with the active rank strategy, and --no-wait without --batch', async () => {
    await writeImages(tmp.images, spread(3));
    const rank = await runQuorum(['rank', '--items', tmp.images, '--judge', 'openai:sim', '--base-url', 'http://127.0.0.1:9/v1', '--batch', '--db', tmp.path('q.db')], { cwd: tmp.dir });
    expect(rank.code).toBe(2);
    expect(rank.stderr).toContain('--strategy round-robin or random');
    const noWait = await runQuorum(['score', tmp.images, '--judge', 'openai:sim', '--base-url', 'http://127.0.0.1:9/v1', '--no-wait', '--method', 'sample', '--db', tmp.path('q.db')], { cwd: tmp.dir });
    expect(noWait.code).toBe(2);
    expect(noWait.stderr).toContain('--no-wait is only used with --batch');
  });
});
