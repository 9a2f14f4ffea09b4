/**
 * Errors that no retry can fix stop the run at the first one, with one line naming the
 * judge and its host: a wrong key, an unknown model, a model that takes no images, a
 * server that is not there (circuit breaker). They are never paid or printed per image.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, errorLines, freePort, parseScores, spread, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-fail-fast';
const IMAGES = 12;
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(IMAGES));
  server = await startOpenAIServer({ apiKey: KEY, models: ['sim'] });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});
beforeEach(() => {
  server.clearFaults();
  server.resetCounts();
});

function score(db: string, options: { judge?: string; key?: string; baseURL?: string; extra?: string[] } = {}) {
  return runQuorum(
    ['score', tmp.images, '--judge', options.judge ?? 'openai:sim', '--base-url', options.baseURL ?? server.url, '--method', 'sample',
      '--samples', '2', '--concurrency', '4', '--db', tmp.path(db), '--format', 'json', ...(options.extra ?? [])],
    { env: { OPENAI_API_KEY: options.key ?? KEY } },
  );
}

it('a wrong key costs one request and one line; every other image is reported as not run', async () => {
  const r = await score('key.db', { key: 'sk-wrong' });
  expect(r.code).toBe(1);
  expect(completions(server)).toHaveLength(1);
  expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^error: openai at 127\.0\.0\.1:\d+ answered HTTP 401: .*the run stopped/)]);
  const results = parseScores(r.stdout);
  expect(results).toHaveLength(IMAGES);
  expect(results.filter((s) => s.status === 'failed')).toHaveLength(1);
  const notRun = results.filter((s) => s.status === 'not-run');
  expect(notRun).toHaveLength(IMAGES - 1);
  for (const s of notRun) expect(s.errors).toEqual([expect.stringMatching(/^not run: the run stopped: openai at 127\.0\.0\.1:\d+ answered HTTP 401/)]);
  expect(r.stderr).toMatch(new RegExp(`0/${IMAGES} images scored, ${IMAGES - 1} not run \\(the run stopped\\)`));
  expect(withDb(tmp.path('key.db'), (db) => db.prepare('SELECT status FROM runs').get())).toEqual({ status: 'failed' });
});

it('an unknown model: one request, one line naming the model and the host', async () => {
  const r = await score('model.db', { judge: 'openai:no-such-model' });
  expect(r.code).toBe(1);
  expect(completions(server)).toHaveLength(1);
  expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^error: openai at 127\.0\.0\.1:\d+ answered HTTP 404: .*no-such-model/)]);
});

it('a model that takes no images (llama-server without a projector): one request, one line', async () => {
  server.failNext({ kind: 'status', status: 500, message: 'image input is not supported - hint: if this is unexpected, you may need to provide the mmproj' });
  const r = await score('images.db');
  expect(r.code).toBe(1);
  expect(completions(server)).toHaveLength(1);
  expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^error: openai at 127\.0\.0\.1:\d+ answered HTTP 500: image input is not supported/)]);
});

it('a server that is not there: the circuit breaker gives up with one line naming host and errno', async () => {
  const port = await freePort();
  const r = await score('dead.db', { baseURL: `http://127.0.0.1:${port}/v1`, extra: ['--retries', '4'] });
  expect(r.code).toBe(1);
  const errors = errorLines(r.stderr);
  expect(errors).toEqual([expect.stringMatching(new RegExp(`^error: cannot reach openai:sim at 127\\.0\\.0\\.1:${port}: ECONNREFUSED 127\\.0\\.0\\.1:${port}`))]);
  expect(r.stderr).not.toMatch(/Connection error/);
  const results = parseScores(r.stdout);
  expect(results.map((s) => s.status)).toEqual(Array(IMAGES).fill('not-run'));
  // Nothing was answered, so nothing is stored as a call or served later.
  expect(withDb(tmp.path('dead.db'), (db) => db.prepare('SELECT count(*) AS n FROM calls').get())).toEqual({ n: 0 });
});

it('a judge on a port that Node\'s fetch refuses (a "bad port" to browsers, such as 6000) is reached like any other', async () => {
  // Quorum's HTTP client is not fetch: the ports browsers block are ordinary ports to it.
  let blocked: JudgeServer | undefined;
  for (const port of [6000, 6665, 6666, 6667, 6668, 6669, 10080, 5060, 4190]) {
    blocked = await startOpenAIServer({ apiKey: KEY, models: ['sim'], port }).catch(() => undefined);
    if (blocked) break;
  }
  if (!blocked) throw new Error('every blocked port tried is taken on this machine');
  try {
    const r = await score('bad-port.db', { baseURL: blocked.url });
    expect(r.code, r.stderr).toBe(0);
    expect(parseScores(r.stdout).map((s) => s.status)).toEqual(Array(IMAGES).fill('ok'));
    expect(completions(blocked)).toHaveLength(IMAGES); // one request of n = 2 per image
  } finally {
    await blocked.close();
  }
});
