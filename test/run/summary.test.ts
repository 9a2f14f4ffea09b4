/**
 * The summary line counts the requests the server rejected, so a run that was retried
 * does not look like a clean one: a 503 then success prints `1 requests, 1 rejected`.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, lines, tempDir, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-summary';
let tmp: TempDir;
const servers: JudgeServer[] = [];

beforeAll(async () => {
  tmp = await tempDir();
  await Promise.all(['a', 'b'].map((d) => mkdir(tmp.path(d))));
  await writeImages(tmp.path('a'), [{ name: 'x.png', quality: 2, seed: 1, width: 32, height: 32 }]);
  await writeImages(tmp.path('b'), [{ name: 'x.png', quality: 4, seed: 2, width: 32, height: 32 }]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp.cleanup();
});

async function server503(): Promise<JudgeServer> {
  const server = await startOpenAIServer({ apiKey: KEY });
  servers.push(server);
  server.failNext({ kind: 'status', status: 503 });
  return server;
}

const summaryOf = (stderr: string) => lines(stderr).filter((l) => l.startsWith('run '));

it.concurrent('score: a 503 then success is 1 request, 1 rejected', async () => {
  const server = await server503();
  const r = await runQuorum(
    ['score', tmp.path('a'), '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '1', '--db', tmp.path('score.db')],
    { env: { OPENAI_API_KEY: KEY } },
  );
  expect(r.code, r.stderr).toBe(0);
  expect(completions(server).map((q) => q.status)).toEqual([503, 200]);
  expect(summaryOf(r.stderr)).toEqual([expect.stringMatching(/: 1\/1 images scored, 1 requests, 1 rejected, 0 cached samples;/)]);
});

it.concurrent('compare: a 503 then success is counted as rejected too', async () => {
  const server = await server503();
  const r = await runQuorum(
    ['compare', tmp.path('a'), tmp.path('b'), '--judge', 'openai:sim', '--base-url', server.url, '--prompt', 'compare-sample', '--samples', '1', '--db', tmp.path('compare.db')],
    { env: { OPENAI_API_KEY: KEY } },
  );
  expect(r.code, r.stderr).toBe(0);
  // One pair in both orders: two answered requests, one rejected before them.
  expect(completions(server).map((q) => q.status)).toEqual([503, 200, 200]);
  expect(summaryOf(r.stderr)).toEqual([expect.stringMatching(/: 2 requests, 1 rejected, 0 cached;/)]);
});
