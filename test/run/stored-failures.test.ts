/**
 * Failed parses are kept (they were paid for) but not served from the cache forever:
 * failures the server caused (a levels request that came back without log-probabilities)
 * are asked again by default on the next run; genuine answers that did not parse are
 * served from the cache on a plain rerun, asked again with `--retry-failed` and never
 * with `--no-retry-failed`. `quorum show` says how many stored failures a run has, and of
 * which kind.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, lines, parseScores, runNameOf, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-stored-failures';
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});
beforeEach(() => {
  server.clearFaults();
  server.resetCounts();
  server.setOptions({ logprobs: true });
});

const env = { OPENAI_API_KEY: KEY };

async function folder(name: string, specs: { name: string; quality: number; seed: number }[]): Promise<string> {
  const dir = tmp.path(name);
  await mkdir(dir);
  await writeImages(dir, specs.map((s) => ({ ...s, width: 32, height: 32 })));
  return dir;
}

const judge = () => ['--judge', 'openai:sim', '--base-url', server.url, '--retries', '1'];

function show(db: string, run: string) {
  return runQuorum(['show', run, '--db', db], { env });
}

function failureRows(db: string): { status: string; failure: string | null }[] {
  return withDb(db, (d) => d.prepare("SELECT status, failure FROM calls WHERE status != 'ok' ORDER BY id").all() as never);
}

it('parse failures the server caused (no log-probabilities came back) are asked again by default on the next run', async () => {
  const db = tmp.path('mismatch.db');
  // The judge proves it returns log-probabilities...
  const before = await folder('mismatch-before', [{ name: 'p.png', quality: 3, seed: 1 }]);
  const proven = await runQuorum(['score', before, ...judge(), '--method', 'levels', '--db', db, '--format', 'json'], { env });
  expect(proven.code, proven.stderr).toBe(0);

  // ...then the server is restarted without them: every levels answer is unreadable.
  server.setOptions({ logprobs: false });
  const dir = await folder('mismatch', [
    { name: 'a.png', quality: 2, seed: 2 },
    { name: 'b.png', quality: 4, seed: 3 },
  ]);
  const command = ['score', dir, ...judge(), '--method', 'levels', '--db', db, '--format', 'json'];
  const broken = await runQuorum(command, { env });
  expect(broken.code).toBe(1);
  expect(parseScores(broken.stdout).map((s) => s.status)).toEqual(['failed', 'failed']);
  expect(failureRows(db)).toEqual([
    { status: 'parse_error', failure: 'mismatch' },
    { status: 'parse_error', failure: 'mismatch' },
  ]);
  const run = runNameOf(broken.stderr);
  const shown = await show(db, run);
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stderr).toMatch(/^2 stored parse failures: 2 the server caused \(re-asked on the next run\)$/m);

  // Served as they are only when asked for: --no-retry-failed sends nothing.
  server.setOptions({ logprobs: true });
  server.resetCounts();
  const kept = await runQuorum([...command, '--no-retry-failed'], { env });
  expect(completions(server)).toHaveLength(0);
  expect(parseScores(kept.stdout).map((s) => s.status)).toEqual(['failed', 'failed']);

  // The plain rerun asks them again, and the run is whole.
  const fixed = await runQuorum(command, { env });
  expect(fixed.code, fixed.stderr).toBe(0);
  expect(runNameOf(fixed.stderr)).toBe(run);
  expect(completions(server)).toHaveLength(2);
  expect(parseScores(fixed.stdout).map((s) => [s.status, s.cached])).toEqual([
    ['ok', 0],
    ['ok', 0],
  ]);
  // The answers replaced the failures: show no longer reports them.
  const after = await show(db, run);
  expect(after.stderr).not.toMatch(/stored parse failure/);
});

it('answers that did not parse: cached on a plain rerun, asked again with --retry-failed, never with --no-retry-failed', async () => {
  const db = tmp.path('answer.db');
  const dir = await folder('answer', [{ name: 'x.png', quality: 3, seed: 4 }]);
  const command = ['score', dir, ...judge(), '--method', 'sample', '--samples', '1', '--db', db, '--format', 'json'];
  // The answer and its re-ask both ignore the format.
  server.failNext({ kind: 'missing-tags' }, { kind: 'missing-tags' });
  const first = await runQuorum(command, { env });
  expect(first.code).toBe(1);
  expect(completions(server)).toHaveLength(2);
  expect(parseScores(first.stdout)[0]).toMatchObject({ status: 'failed', failed: 1 });
  expect(first.stderr).toMatch(/^1 stored answer\(s\) did not parse; --retry-failed asks them again$/m);
  expect(failureRows(db).map((r) => r.status)).toEqual(['parse_error']);
  const run = runNameOf(first.stderr);
  const shown = await show(db, run);
  expect(shown.stderr).toMatch(/^1 stored parse failure: 1 answer that did not parse \(--retry-failed re-asks it\)$/m);

  for (const flags of [[], ['--no-retry-failed']]) {
    server.resetCounts();
    const rerun = await runQuorum([...command, ...flags], { env });
    expect(rerun.code).toBe(1);
    expect(completions(server)).toHaveLength(0);
    expect(parseScores(rerun.stdout)[0]).toMatchObject({ status: 'failed', cached: 1 });
  }

  server.resetCounts();
  const retried = await runQuorum([...command, '--retry-failed'], { env });
  expect(retried.code, retried.stderr).toBe(0);
  expect(runNameOf(retried.stderr)).toBe(run);
  expect(completions(server)).toHaveLength(1);
  expect(parseScores(retried.stdout)[0]).toMatchObject({ status: 'ok', ok: 1, cached: 0 });
  expect(lines(retried.stderr).filter((l) => /did not parse/.test(l))).toEqual([]);
  expect((await show(db, run)).stderr).not.toMatch(/stored parse failure/);
});
