/**
 * Provider faults through the real CLI and SDK: rate limits are retried after the wait
 * the server asks for, server errors and dropped connections are retried, a bad key
 * fails at once with a clear message, and a call whose retries ran out is recorded as an
 * error that a rerun asks again (it is never served from the cache).
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startOpenAIServer, type Fault, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, parseScores, runNameOf, tempDir, withDb, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-faults';
let tmp: TempDir;
let server: JudgeServer;
let image: string;

beforeAll(async () => {
  tmp = await tempDir();
  image = (await writeImages(tmp.images, [{ name: 'photo.png', quality: 3.5 }]))[0]!;
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});
beforeEach(() => {
  server.clearFaults();
  server.resetCounts();
});

/** Scores the one image with one sample into a fresh database per call site. */
function score(db: string, faults: Fault[], extra: string[] = [], key = KEY) {
  server.failNext(...faults);
  return runQuorum(
    ['score', image, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '1', '--db', tmp.path(db), '--format', 'json', ...extra],
    { env: { OPENAI_API_KEY: key } },
  );
}

function callRows(db: string): { status: string; attempts: number; error: string | null }[] {
  return withDb(tmp.path(db), (d) => d.prepare('SELECT status, attempts, error FROM calls ORDER BY id').all() as never);
}

it('429 with retry-after: 1 is retried no sooner than one second later', async () => {
  const r = await score('rate.db', [{ kind: 'status', status: 429, retryAfter: '1' }]);
  expect(r.code, r.stderr).toBe(0);
  const [limited, retried] = completions(server);
  expect(limited!.status).toBe(429);
  expect(retried!.status).toBe(200);
  const answeredAt = limited!.startedAt + limited!.durationMs!;
  expect(retried!.startedAt - answeredAt).toBeGreaterThanOrEqual(995);
  expect(r.stderr).toMatch(/retrying: openai at 127\.0\.0\.1:\d+ answered HTTP 429/);
  expect(parseScores(r.stdout)[0]).toMatchObject({ status: 'ok', ok: 1 });
  expect(callRows('rate.db')).toEqual([expect.objectContaining({ status: 'ok', attempts: 2 })]);
});

it.each([
  ['HTTP 500', { kind: 'status', status: 500 } as Fault],
  ['a dropped connection', { kind: 'drop' } as Fault],
])('%s, then success: retried, scored, two attempts recorded', async (what, fault) => {
  const db = `${what.replace(/\W+/g, '-')}.db`;
  const r = await score(db, [fault]);
  expect(r.code, r.stderr).toBe(0);
  expect(completions(server)).toHaveLength(2);
  expect(parseScores(r.stdout)[0]).toMatchObject({ status: 'ok', ok: 1, failed: 0 });
  expect(callRows(db)).toEqual([expect.objectContaining({ status: 'ok', attempts: 2, error: null })]);
});

it('401: a clear authentication error, no retries, exit 1', async () => {
  const r = await score('auth.db', [], ['--samples', '2'], 'sk-wrong-key-0000');
  expect(r.code).toBe(1);
  // One request for the image's two samples, never repeated.
  expect(completions(server).map((q) => q.status)).toEqual([401]);
  // Said once, naming the judge's host; no per-image failure line repeats it.
  expect(r.stderr).toMatch(/^error: openai at 127\.0\.0\.1:\d+ answered HTTP 401: Incorrect API key provided.*the run stopped/m);
  expect(r.stderr.match(/HTTP 401/g)).toHaveLength(1);
  expect(parseScores(r.stdout)[0]).toMatchObject({ status: 'failed', score: null });
  expect(callRows('auth.db')).toEqual([
    expect.objectContaining({ status: 'error', attempts: 1 }),
    expect.objectContaining({ status: 'error', attempts: 1 }),
  ]);
});

it('retries exhausted: recorded as an error, and the rerun asks again instead of using the cache', async () => {
  const failing = await score('exhausted.db', [{ kind: 'status', status: 503 }, { kind: 'status', status: 503 }], ['--retries', '1']);
  expect(failing.code).toBe(1);
  expect(completions(server).map((q) => q.status)).toEqual([503, 503]);
  expect(failing.stderr).toMatch(/^failed: .*photo\.png: sample 0: openai at 127\.0\.0\.1:\d+ answered HTTP 503/m);
  expect(callRows('exhausted.db')).toEqual([expect.objectContaining({ status: 'error', attempts: 2 })]);

  const rerun = await score('exhausted.db', [], ['--retries', '1']);
  expect(rerun.code, rerun.stderr).toBe(0);
  expect(runNameOf(rerun.stderr)).toBe(runNameOf(failing.stderr));
  expect(completions(server).map((q) => q.status)).toEqual([503, 503, 200]);
  expect(parseScores(rerun.stdout)[0]).toMatchObject({ status: 'ok', ok: 1, cached: 0 });
  expect(callRows('exhausted.db').map((c) => c.status)).toEqual(['error', 'ok']);
});
