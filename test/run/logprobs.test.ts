/**
 * `--method auto` decides on levels only after the server proved it returns
 * log-probabilities: one tiny text-only probe the first time a judge is used, remembered
 * in the store. Against a server that accepts `logprobs` and returns none, auto picks
 * sampling and says so, and `--method levels` is a one-line error before any image is sent.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer, type RecordedRequest } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, lines, parseScores, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-logprobs';
let tmp: TempDir;
let server: JudgeServer;
let first: string;
let second: string;

beforeAll(async () => {
  tmp = await tempDir();
  first = tmp.path('first');
  second = tmp.path('second');
  await Promise.all([mkdir(first), mkdir(second)]);
  const small = { width: 32, height: 32 };
  await writeImages(first, [
    { name: 'a.png', quality: 2, seed: 1, ...small },
    { name: 'b.png', quality: 4, seed: 2, ...small },
  ]);
  await writeImages(second, [{ name: 'c.png', quality: 3, seed: 3, ...small }]);
  server = await startOpenAIServer({ apiKey: KEY, logprobs: false });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});
beforeEach(() => server.resetCounts());

function score(dir: string, db: string, method: string) {
  return runQuorum(['score', dir, '--judge', 'openai:sim', '--base-url', server.url, '--method', method, '--samples', '2', '--retries', '1', '--db', tmp.path(db), '--format', 'json'], {
    env: { OPENAI_API_KEY: KEY },
  });
}

/** The probe: no image, one output token, log-probabilities asked. */
const isProbe = (q: RecordedRequest) => (q.images ?? []).length === 0 && (q.body as { max_tokens?: number }).max_tokens === 1;

it('auto: one probe finds no log-probabilities, sampling is chosen and said, every image scored; the next run does not probe again', async () => {
  const r1 = await score(first, 'auto.db', 'auto');
  expect(r1.code, r1.stderr).toBe(0);
  expect(r1.stderr).toMatch(/^method: sample \(no log-probabilities from this judge, checked with one probe\)$/m);
  const scores = parseScores(r1.stdout);
  expect(scores.map((s) => [s.method, s.status, s.samples.length])).toEqual([
    ['sample', 'ok', 2],
    ['sample', 'ok', 2],
  ]);
  const asked = completions(server);
  expect(asked.filter(isProbe)).toHaveLength(1);
  expect(isProbe(asked[0]!)).toBe(true);
  expect((asked[0]!.body as { logprobs?: boolean }).logprobs).toBe(true);
  // Every other request carried an image and asked for no log-probabilities.
  expect(asked.slice(1).every((q) => q.images?.length === 1 && (q.body as { logprobs?: boolean }).logprobs === undefined)).toBe(true);
  expect(withDb(tmp.path('auto.db'), (d) => d.prepare("SELECT value FROM judge_facts WHERE fact = 'logprobs'").all())).toEqual([{ value: 'false' }]);

  server.resetCounts();
  const r2 = await score(second, 'auto.db', 'auto');
  expect(r2.code, r2.stderr).toBe(0);
  expect(r2.stderr).toMatch(/^method: sample \(no log-probabilities from this judge, as probed before\)$/m);
  expect(parseScores(r2.stdout).map((s) => s.status)).toEqual(['ok']);
  expect(completions(server).filter(isProbe)).toHaveLength(0);
  expect(completions(server).length).toBeGreaterThan(0);
});

it('--method levels: one clear line before any image is sent, with a new database (after the probe) and a remembered one (no request at all)', async () => {
  for (const [db, requests] of [
    ['levels.db', 1],
    ['levels.db', 0],
  ] as const) {
    server.resetCounts();
    const r = await score(first, db, 'levels');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const errors = lines(r.stderr).filter((l) => l.startsWith('error'));
    expect(errors, r.stderr).toEqual([expect.stringMatching(/openai:sim.*no log-probabilities.*levels method.*--method sample/)]);
    expect(lines(r.stderr).length, r.stderr).toBeLessThanOrEqual(2);
    expect(completions(server)).toHaveLength(requests);
    expect(completions(server).filter((q) => (q.images ?? []).length > 0)).toHaveLength(0);
  }
});
