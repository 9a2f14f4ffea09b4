/**
 * What `quorum runs` and `quorum show` say about a run's state, from another process: a
 * run being worked on is `running`; a run whose process was killed with `kill -9` is
 * `interrupted` (nothing is left to mark it), not `running` forever; a run another
 * process finished is `done`, even when a process that resumed it alongside was killed.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { spread, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-ant-test-status';
const env = { ANTHROPIC_API_KEY: KEY };
let tmp: TempDir;
let server: JudgeServer;

beforeEach(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(6));
});
afterEach(async () => {
  await server?.close();
  await tmp.cleanup();
});

const scoreArgs = (db: string) => [
  'score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--method', 'sample', '--samples', '2',
  '--concurrency', '2', '--retries', '1', '--db', db, '--run', 'photos', '--format', 'json',
];

async function statuses(db: string): Promise<Record<string, string>> {
  const r = await runQuorum(['runs', '--db', db, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries((JSON.parse(r.stdout) as { name: string; status: string }[]).map((x) => [x.name, x.status]));
}

/** Whether the process with this pid holds the run (it opened it and has not finished). */
function holds(db: string, pid: number): boolean {
  try {
    return withDb(db, (d) => d.prepare("SELECT count(*) FROM runs WHERE status = 'running' AND owner LIKE ?").pluck().get(`%:${pid}:%`) === 1);
  } catch {
    return false; // not created yet
  }
}

it('running while its process works; interrupted in runs and show once it was killed with kill -9', async () => {
  server = await startAnthropicServer({ apiKey: KEY, latencyMs: 300 });
  const db = tmp.path('quorum.db');
  const proc = spawnQuorum(scoreArgs(db), { env });
  await waitUntil(() => server.calls >= 2, { what: 'two answered calls' });

  expect(await statuses(db)).toEqual({ photos: 'running' });

  proc.kill('SIGKILL');
  expect((await proc.exited).signal).toBe('SIGKILL');
  server.setOptions({ latencyMs: 20 });
  expect(await statuses(db)).toEqual({ photos: 'interrupted' });
  const table = await runQuorum(['runs', '--db', db]);
  expect(table.stdout).toMatch(/^photos\s+score\s+\S+\s+interrupted\s/m);
  const shown = await runQuorum(['show', 'photos', '--db', db]);
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stderr).toMatch(/^run photos \(score, interrupted\)/m);

  // The same command resumes it, and then it is done.
  const resumed = await runQuorum(scoreArgs(db), { env });
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(await statuses(db)).toEqual({ photos: 'done' });
});

it('done when one process finished it, though a second one that resumed it meanwhile was killed', async () => {
  server = await startAnthropicServer({ apiKey: KEY, latencyMs: 300 });
  const db = tmp.path('quorum.db');
  const finisher = spawnQuorum(scoreArgs(db), { env });
  await waitUntil(() => server.calls >= 1, { what: 'the first answer' });
  // The second process opens the run last, so it holds the run when it dies.
  const killed = spawnQuorum(scoreArgs(db), { env });
  await waitUntil(() => holds(db, killed.pid), { what: 'the second process to hold the run', intervalMs: 50 });
  killed.kill('SIGKILL');
  await killed.exited;
  server.setOptions({ latencyMs: 20 });

  const done = await finisher.exited;
  expect(done.code, done.stderr).toBe(0);
  expect(await statuses(db)).toEqual({ photos: 'done' });
});
