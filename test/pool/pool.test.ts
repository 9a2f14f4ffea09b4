/**
 * Endpoint pools: one judge served by three OpenAI-compatible test servers of different
 * speeds. A replica killed mid-run loses no sample and repeats none (its requests in
 * flight go elsewhere), load follows speed, the dead replica is probed back once it
 * restarts, and only a pool whose every endpoint is down stops the run, with one line.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { answered, choicesOf, completions, errorLines, freePort, parseScores, spread, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';
import { collectRepeated } from '../../src/cli/args.js';
import { checkEndpoints, parseEndpoint } from '../../src/judges/pool/endpoints.js';

const IMAGES = 90;
const SAMPLES = 2;
let tmp: TempDir;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(IMAGES));
});
afterAll(async () => {
  await tmp.cleanup();
});

const choices = (servers: readonly JudgeServer[]) => servers.reduce((s, x) => s + answered(x).reduce((m, r) => m + choicesOf(r), 0), 0);

it('a replica killed mid-run and restarted: every sample asked once, load follows speed, the replica comes back', async () => {
  const fast = await startOpenAIServer({ latencyMs: 60 });
  let middle = await startOpenAIServer({ latencyMs: 120 });
  const slow = await startOpenAIServer({ latencyMs: 240 });
  const middles = [middle];
  try {
    const db = tmp.path('pool.db');
    const proc = spawnQuorum(
      ['score', tmp.images, '--judge', 'openai:sim', '--base-url', fast.url, '--base-url', middle.url, '--base-url', slow.url,
        '--method', 'sample', '--samples', String(SAMPLES), '--concurrency', '9', '--db', db, '--format', 'json'],
      { timeoutMs: 120_000 },
    );
    await waitUntil(() => middle.calls >= 6, { what: 'the middle replica to answer some requests' });
    const { port } = middle;
    await middle.close();
    const deadAt = choices([fast, slow]);
    await waitUntil(() => choices([fast, slow]) >= deadAt + 20, { what: 'the others to take over' });
    middle = await startOpenAIServer({ latencyMs: 120, port });
    middles.push(middle);
    const r = await proc.exited;
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const scores = parseScores(r.stdout);
    expect(scores.map((s) => s.status)).toEqual(Array(IMAGES).fill('ok'));

    // Server side: the answered choices are exactly the samples; the only extra requests
    // are those the killed replica received and never answered.
    const all = [fast, slow, ...middles];
    expect(choices(all)).toBe(IMAGES * SAMPLES);
    const received = all.reduce((s, x) => s + completions(x).length, 0);
    const lost = completions(middles[0] as JudgeServer).filter((q) => q.status === undefined).length;
    expect(received).toBe(answered(fast).length + answered(slow).length + middles.reduce((s, x) => s + answered(x).length, 0) + lost);
    // Load followed speed: the fastest replica answered clearly more than the slowest.
    expect(answered(fast).length).toBeGreaterThan(1.5 * answered(slow).length);
    // The restarted replica was probed back and given work.
    expect(answered(middles[1] as JudgeServer).length).toBeGreaterThan(0);

    // The store: every sample once, ok, with the replica that answered it.
    const rows = withDb(db, (d) => d.prepare("SELECT endpoint, count(*) AS n, count(DISTINCT cache_key) AS keys FROM calls WHERE status = 'ok' GROUP BY endpoint").all()) as { endpoint: string; n: number; keys: number }[];
    expect(rows.reduce((s, x) => s + x.n, 0)).toBe(IMAGES * SAMPLES);
    expect(withDb(db, (d) => d.prepare('SELECT count(DISTINCT cache_key) AS n FROM calls').get())).toEqual({ n: IMAGES * SAMPLES });
    expect(withDb(db, (d) => d.prepare("SELECT count(*) AS n FROM calls WHERE status != 'ok'").get())).toEqual({ n: 0 });
    const byEndpoint = new Map(rows.map((x) => [x.endpoint, x.n]));
    expect(byEndpoint.get(fast.url)).toBe(choices([fast]));
    expect(byEndpoint.get(middle.url)).toBe(choices(middles));

    // A rerun with the replicas in another order is served from the same cache.
    const again = await runQuorum(
      ['score', tmp.images, '--judge', 'openai:sim', '--base-url', slow.url, '--base-url', fast.url, '--method', 'sample',
        '--samples', String(SAMPLES), '--db', db, '--format', 'json'],
    );
    expect(again.code).toBe(0);
    expect(choices(all)).toBe(IMAGES * SAMPLES);
    expect(again.stderr).toMatch(new RegExp(`0 requests, ${IMAGES * SAMPLES} cached samples`));
  } finally {
    await Promise.all([fast.close(), slow.close(), ...middles.map((m) => m.close())]);
  }
}, 150_000);

it('weights and per-endpoint concurrency shape the split', async () => {
  const a = await startOpenAIServer({ latencyMs: 40 });
  const b = await startOpenAIServer({ latencyMs: 40 });
  try {
    const r = await runQuorum(
      ['score', tmp.images, '--judge', 'openai:sim', '--base-url', `${a.url}#weight=3,concurrency=6`, '--base-url', `${b.url}#concurrency=2`,
        '--method', 'sample', '--samples', '1', '--db', tmp.path('weights.db'), '--format', 'json'],
      { timeoutMs: 120_000 },
    );
    expect(r.code).toBe(0);
    expect(answered(a).length + answered(b).length).toBe(IMAGES);
    // Equal speeds: the split follows the slots (6 against 2) and the weight.
    expect(answered(a).length).toBeGreaterThan(2 * answered(b).length);
    // Never more in flight on b than its concurrency allows.
    const spans = b.requests.filter((q) => q.endpoint === 'complete').map((q) => [q.startedAt, q.startedAt + (q.durationMs ?? 0)] as const);
    const most = Math.max(...spans.map(([s]) => spans.filter(([t0, t1]) => t0 <= s && s < t1).length));
    expect(most).toBeLessThanOrEqual(2);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}, 150_000);

it('every endpoint down: the run stops once with one line naming each; every image not run, nothing recorded', async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const r = await runQuorum(
    ['score', tmp.images, '--judge', 'openai:sim', '--base-url', `http://127.0.0.1:${p1}/v1`, '--base-url', `http://127.0.0.1:${p2}/v1`,
      '--method', 'sample', '--samples', '1', '--db', tmp.path('dead.db'), '--format', 'json'],
  );
  expect(r.code).toBe(1);
  expect(errorLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^error: all 2 endpoints of openai:sim are down \\(127\\.0\\.0\\.1:${p1} .*127\\.0\\.0\\.1:${p2} .*the run stopped`))]);
  // As with one server and its circuit breaker: the requests waiting for an endpoint were
  // never answered, so no image failed; every one is not run, with the reason.
  const scores = parseScores(r.stdout);
  expect(scores.map((s) => s.status)).toEqual(Array(IMAGES).fill('not-run'));
  for (const s of scores) expect(s.errors).toEqual([expect.stringMatching(/^not run: the run stopped: all 2 endpoints of openai:sim are down/)]);
  expect(r.stderr).toMatch(new RegExp(`0/${IMAGES} images scored, ${IMAGES} not run \\(the run stopped\\)`));
  expect(withDb(tmp.path('dead.db'), (db) => db.prepare('SELECT count(*) AS n FROM calls').get())).toEqual({ n: 0 });
  expect(withDb(tmp.path('dead.db'), (db) => db.prepare('SELECT status FROM runs').get())).toEqual({ status: 'failed' });
}, 60_000);

it('every endpoint dies mid-run: what was answered is kept, the requests in flight are not failures, the rest is not run', async () => {
  const servers = [await startOpenAIServer({ latencyMs: 80 }), await startOpenAIServer({ latencyMs: 80 })];
  const db = tmp.path('died.db');
  try {
    const proc = spawnQuorum(
      ['score', tmp.images, '--judge', 'openai:sim', ...servers.flatMap((x) => ['--base-url', x.url]), '--method', 'sample',
        '--samples', '1', '--concurrency', '6', '--db', db, '--format', 'json'],
      { timeoutMs: 60_000 },
    );
    await waitUntil(() => servers[0]!.calls + servers[1]!.calls >= 20, { what: 'some answers' });
    await Promise.all(servers.map((x) => x.close()));
    const r = await proc.exited;
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^error: all 2 endpoints of openai:sim are down .*the run stopped/)]);
    const statuses = parseScores(r.stdout).map((s) => s.status);
    const ok = statuses.filter((s) => s === 'ok').length;
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((s) => s === 'not-run')).toHaveLength(IMAGES - ok);
    // Stored: exactly the answers, no error rows for the requests the dying servers held.
    expect(withDb(db, (d) => d.prepare('SELECT status, count(*) AS n FROM calls GROUP BY status').all())).toEqual([{ status: 'ok', n: ok }]);
  } finally {
    await Promise.all(servers.map((x) => x.close()));
  }
}, 90_000);

it('--base-url syntax: repeated values, #weight and #concurrency, one-line refusals', async () => {
  expect(collectRepeated(['--base-url', 'a', '--x', '1', '--base-url=b'], new Set(['base-url', 'x']))).toEqual({ 'base-url': ['a', 'b'] });
  expect(parseEndpoint('http://h:1/v1#weight=2,concurrency=8')).toEqual({ url: 'http://h:1/v1', weight: 2, concurrency: 8 });
  expect(() => parseEndpoint('http://h:1/v1#weigth=2')).toThrow(/Expected `base-url` to be URL or URL#weight=W,concurrency=C/);
  expect(() => checkEndpoints([{ url: 'http://h/v1', concurrency: 0 }])).toThrow(/endpoints\[0\]\.concurrency/);
  expect(() => checkEndpoints([{ url: 'http://h/v1' }, { url: 'http://h/v1/' }])).toThrow(/given twice/);
  const r = await runQuorum(['score', tmp.images, '--judge', 'openai:sim', '--base-url', 'http://127.0.0.1:1/v1', '--base-url', 'nope', '--db', tmp.path('x.db')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^error: Expected `base-url` to be an http\(s\) URL/);
});
