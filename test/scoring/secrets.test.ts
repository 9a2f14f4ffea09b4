/**
 * The API key never leaves the environment: not into the database (its main file, WAL
 * and shared-memory files, read as raw bytes, also right after a kill), not onto stdout
 * or stderr, including when the server rejects the key.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum, spawnQuorum, waitUntil, type QuorumResult } from '../support/cli.js';
import { completions, runNameOf, spread, tempDir, writeImages, type TempDir } from './_support.js';

const SECRET = 'sk-test-SECRET-123';

let tmp: TempDir;
let server: JudgeServer;
beforeEach(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(8));
});
afterEach(async () => {
  await server.close();
  await tmp.cleanup();
});

/** Raw bytes of the database and its WAL and shared-memory files, those that exist. */
async function databaseBytes(db: string): Promise<{ file: string; bytes: Buffer }[]> {
  const files = [db, `${db}-wal`, `${db}-shm`].filter((f) => existsSync(f));
  return Promise.all(files.map(async (file) => ({ file, bytes: await readFile(file) })));
}

async function expectNoSecretIn(db: string, outputs: readonly QuorumResult[]): Promise<string[]> {
  const files = await databaseBytes(db);
  for (const { file, bytes } of files) expect(bytes.includes(SECRET), `${file} holds the key`).toBe(false);
  for (const { stdout, stderr } of outputs) {
    expect(stdout).not.toContain(SECRET);
    expect(stderr).not.toContain(SECRET);
  }
  return files.map((f) => f.file);
}

describe.each([
  { provider: 'openai', keyEnv: 'OPENAI_API_KEY', start: startOpenAIServer },
  { provider: 'anthropic', keyEnv: 'ANTHROPIC_API_KEY', start: startAnthropicServer },
])('$provider', ({ provider, keyEnv, start }) => {
  it('the key is in no database file nor output, during a run (killed) and after it', async () => {
    server = await start({ apiKey: SECRET, latencyMs: 150 });
    const db = tmp.path('quorum.db');
    const args = ['score', tmp.images, '--judge', `${provider}:sim`, '--base-url', server.url, '--method', 'sample', '--samples', '3',
      '--concurrency', '1', '--db', db, '--format', 'json'];
    const env = { [keyEnv]: SECRET };

    const killed = spawnQuorum(args, { env });
    // One request at a time, 150 ms each: killed after two, well before the end.
    await waitUntil(() => server.calls >= 2, { what: 'two answered calls' });
    killed.kill('SIGKILL');
    const first = await killed.exited;
    // Killed mid-run, the write-ahead log is still there: it is checked too.
    expect(await expectNoSecretIn(db, [first])).toEqual([db, `${db}-wal`, `${db}-shm`]);

    server.setOptions({ latencyMs: 0 });
    const done = await runQuorum(args, { env });
    expect(done.code, done.stderr).toBe(0);
    const name = runNameOf(done.stderr);
    const shown = await runQuorum(['show', name, '--calls', '--db', db]);
    const runs = await runQuorum(['runs', '--format', 'json', '--db', db]);
    expect(shown.stdout).toContain('"status":"ok"');
    expect(runs.stdout).toContain(name);
    await expectNoSecretIn(db, [done, shown, runs]);
    // The database does hold the run (so the scan read the right bytes).
    expect((await readFile(db)).includes(Buffer.from('quality-score'))).toBe(true);
  });

  it('the key is in no database file nor output when the server rejects it (401)', async () => {
    server = await start({ apiKey: 'sk-the-right-key' });
    const db = tmp.path('quorum.db');
    const r = await runQuorum(
      ['score', tmp.images, '--judge', `${provider}:sim`, '--base-url', server.url, '--method', 'sample', '--samples', '1', '--db', db, '--format', 'json'],
      { env: { [keyEnv]: SECRET, QUORUM_DEBUG: '1' } },
    );
    expect(r.code).toBe(1);
    expect(completions(server).every((q) => q.status === 401)).toBe(true);
    expect(r.stderr).toMatch(/HTTP 401/);
    const shown = await runQuorum(['show', runNameOf(r.stderr), '--calls', '--db', db]);
    expect(shown.stdout).toMatch(/"status":"error"/);
    await expectNoSecretIn(db, [r, shown]);
  });
});
