/**
 * A run can be read back from the database without any judge: `quorum show` prints the
 * same results the run printed, `quorum runs` lists it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { spawnSync } from 'node:child_process';
import { cleanEnv, QUORUM_BIN, runQuorum, type QuorumResult } from '../support/cli.js';
import { parseScores, runNameOf, spread, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-show';
let tmp: TempDir;
let server: JudgeServer;
let db: string;
let scored: QuorumResult;
let name: string;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(4));
  server = await startOpenAIServer({ apiKey: KEY });
  db = tmp.path('quorum.db');
  scored = await runQuorum(
    ['score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '3', '--db', db, '--format', 'json'],
    { env: { OPENAI_API_KEY: KEY } },
  );
  name = runNameOf(scored.stderr);
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

it('the scored run exits 0', () => {
  expect(scored.code, scored.stderr).toBe(0);
  expect(parseScores(scored.stdout)).toHaveLength(4);
});

it('`quorum show <run>` prints the same results from the database, calling no judge', async () => {
  const calls = server.requests.length;
  // No key and a dead judge: show must not need either.
  await server.close();
  const json = await runQuorum(['show', name, '--db', db, '--format', 'json']);
  expect(json.code, json.stderr).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual(JSON.parse(scored.stdout));
  expect(json.stderr).toMatch(new RegExp(`^run ${name} \\(score, done\\): 4 .*results, 12 calls, 0 parse errors$`, 'm'));

  const table = await runQuorum(['show', name, '--db', db]);
  expect(table.code, table.stderr).toBe(0);
  for (const s of parseScores(scored.stdout)) {
    expect(table.stdout).toMatch(new RegExp(`^${s.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+${s.score!.toFixed(2)}\\s+${s.std!.toFixed(2)}\\s+3/3\\s+ok`, 'm'));
  }
  expect(server.requests.length).toBe(calls);
  // By id too.
  const byId = await runQuorum(['show', '1', '--db', db, '--format', 'json']);
  expect(JSON.parse(byId.stdout)).toEqual(JSON.parse(scored.stdout));
});

it('`quorum runs` lists the run, and `quorum show` of an unknown run is a usage error', async () => {
  const json = await runQuorum(['runs', '--db', db, '--format', 'json']);
  expect(json.code, json.stderr).toBe(0);
  const runs = JSON.parse(json.stdout) as { name: string; command: string; status: string; results: number; calls: number; cached: number }[];
  expect(runs).toEqual([expect.objectContaining({ name, command: 'score', status: 'done', results: 4, calls: 12, cached: 0 })]);
  const table = await runQuorum(['runs', '--db', db]);
  expect(table.stdout).toMatch(new RegExp(`^${name}\\s+score\\s+openai:sim\\s+done\\s+4 images\\s+12 \\(0 cached\\)`, 'm'));

  const unknown = await runQuorum(['show', 'no-such-run', '--db', db]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/^error: No run `no-such-run` in .*quorum\.db; `quorum runs` lists them$/m);
});

it('`quorum show <run> --calls | head -1`: the closed pipe ends it quietly, exit 0, no stack trace', async () => {
  // More output than a pipe holds (64 KiB), so the writer meets the closed pipe.
  const judge = await startOpenAIServer({ apiKey: KEY });
  const big = await runQuorum(
    ['score', tmp.images, '--judge', 'openai:sim', '--base-url', judge.url, '--method', 'sample', '--samples', '64', '--db', db, '--run', 'many-calls', '--quiet'],
    { env: { OPENAI_API_KEY: KEY } },
  );
  await judge.close();
  expect(big.code, big.stderr).toBe(0);
  // A real pipeline: `head -1` exits after one line while quorum is still writing.
  const shell = spawnSync('bash', ['-c', `"${process.execPath}" "${QUORUM_BIN}" show many-calls --calls --db "${db}" | head -1; echo "quorum exited \${PIPESTATUS[0]}" >&2`], {
    encoding: 'utf8',
    env: cleanEnv(),
  });
  expect(JSON.parse(shell.stdout.split('\n')[0]!)).toMatchObject({ runId: expect.any(Number), status: 'ok' });
  expect(shell.stderr.trim()).toBe('quorum exited 0');
});
