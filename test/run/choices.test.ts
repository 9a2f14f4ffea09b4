/**
 * Servers that ignore `n` (answer one choice whatever is asked) or reject it (llama-server:
 * HTTP 500 "Only one completion choice is allowed"): `--method sample --samples 3` still
 * gets every sample of every image, stores no parse error for the missing choices, says
 * once that the judge takes fewer choices per request, and remembers it for the judge, so
 * the next run on the same database asks one choice per request from the start.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { choicesOf, completions, lines, parseScores, spread, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-choices';
let tmp: TempDir;
const servers: JudgeServer[] = [];

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp.cleanup();
});

/** Small images; `seed` keeps the two runs' images distinct (same seed and quality = same bytes = cached). */
const small = (name: string, quality: number, seed: number) => ({ name, quality, seed, width: 32, height: 32 });

it.concurrent.each(['ignore-n', 'reject-n'] as const)('a server that does %s: every sample asked, said once, remembered for the next run', async (mode) => {
  const server = await startOpenAIServer({ apiKey: KEY, choicesMode: mode });
  servers.push(server);
  const first = tmp.path(`${mode}-first`);
  const second = tmp.path(`${mode}-second`);
  await Promise.all([mkdir(first), mkdir(second)]);
  await writeImages(first, spread(3, 'a').map((s, i) => small(s.name, s.quality, 10 + i)));
  await writeImages(second, spread(2, 'b').map((s, i) => small(s.name, s.quality, 20 + i)));
  const db = tmp.path(`${mode}.db`);
  const score = (dir: string) =>
    runQuorum(['score', dir, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '3', '--retries', '1', '--db', db, '--format', 'json'], {
      env: { OPENAI_API_KEY: KEY },
    });
  const notes = (stderr: string) => lines(stderr).filter((l) => /fewer choices per request/.test(l));

  const r1 = await score(first);
  expect(r1.code, r1.stderr).toBe(0);
  // One request with n = 3 finds out; every other request asks one choice.
  const asked1 = completions(server);
  expect(asked1.filter((q) => choicesOf(q) > 1)).toHaveLength(1);
  expect(asked1.filter((q) => q.status !== 200)).toHaveLength(mode === 'reject-n' ? 1 : 0);
  expect(r1.stderr).toMatch(mode === 'reject-n' ? /, 9 requests, 1 rejected,/ : /, 9 requests, 0 cached/);
  const s1 = parseScores(r1.stdout);
  expect(s1.map((s) => [s.status, s.samples.length, s.failed])).toEqual([
    ['ok', 3, 0],
    ['ok', 3, 0],
    ['ok', 3, 0],
  ]);
  expect(notes(r1.stderr), r1.stderr).toHaveLength(1);
  const rows = withDb(db, (d) => d.prepare('SELECT status, count(*) AS n FROM calls GROUP BY status').all());
  expect(rows).toEqual([{ status: 'ok', n: 9 }]);
  const fact = withDb(db, (d) => d.prepare("SELECT value FROM judge_facts WHERE fact = 'choices'").all() as { value: string }[]);
  expect(fact.map((f) => JSON.parse(f.value))).toEqual([{ max: 1 }]);

  const from = server.requests.length;
  const r2 = await score(second);
  expect(r2.code, r2.stderr).toBe(0);
  expect(parseScores(r2.stdout).map((s) => [s.status, s.samples.length])).toEqual([
    ['ok', 3],
    ['ok', 3],
  ]);
  const asked = completions(server, from);
  expect(asked.map(choicesOf)).toEqual([1, 1, 1, 1, 1, 1]);
  expect(asked.every((q) => q.status === 200)).toBe(true);
  expect(notes(r2.stderr)).toEqual([]);
});

it('a server that honours n: no note, and a later run with more samples still asks them all in one request', async () => {
  const server = await startOpenAIServer({ apiKey: KEY });
  servers.push(server);
  const first = tmp.path('honour-first');
  const second = tmp.path('honour-second');
  await Promise.all([mkdir(first), mkdir(second)]);
  await writeImages(first, spread(3, 'c').map((s, i) => small(s.name, s.quality, 30 + i)));
  await writeImages(second, spread(2, 'd').map((s, i) => small(s.name, s.quality, 40 + i)));
  const db = tmp.path('honour.db');
  const score = (dir: string, samples: number) =>
    runQuorum(['score', dir, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', String(samples), '--db', db, '--format', 'json'], {
      env: { OPENAI_API_KEY: KEY },
    });
  const r1 = await score(first, 3);
  expect(r1.code, r1.stderr).toBe(0);
  expect(r1.stderr).not.toMatch(/fewer choices/);
  expect(completions(server).map(choicesOf)).toEqual([3, 3, 3]);
  const r2 = await score(second, 5);
  expect(r2.code, r2.stderr).toBe(0);
  expect(r2.stderr).not.toMatch(/fewer choices/);
  expect(completions(server).slice(3).map(choicesOf)).toEqual([5, 5]);
});
