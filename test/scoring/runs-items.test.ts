/**
 * `quorum runs` says what its item count counts: images scored, pairs compared, systems
 * or images ranked (a rank run also stores its judged pairs and a summary; those are not
 * items).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { spread, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-runs';
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(3));
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

it('items are images for score, pairs for compare, ranked entries for rank', async () => {
  const db = tmp.path('q.db');
  const judge = ['--judge', 'openai:sim', '--base-url', server.url, '--db', db, '--quiet'];
  const env = { OPENAI_API_KEY: KEY };
  for (const args of [
    ['score', tmp.images, '--run', 'scored', ...judge],
    ['compare', tmp.images, tmp.images, '--run', 'compared', ...judge],
    ['rank', '--items', tmp.images, '--strategy', 'round-robin', '--run', 'ranked', ...judge],
  ]) {
    const r = await runQuorum(args, { env });
    expect(r.code, r.stderr).toBe(0);
  }
  const table = await runQuorum(['runs', '--db', db]);
  expect(table.code, table.stderr).toBe(0);
  expect(table.stdout).toMatch(/^run +command +judge +status +items +calls/m);
  expect(table.stdout).toMatch(/^scored +score +openai:sim +done +3 images +/m);
  expect(table.stdout).toMatch(/^compared +compare +openai:sim +done +3 pairs +/m);
  expect(table.stdout).toMatch(/^ranked +rank +openai:sim +done +3 ranked +/m);

  const json = JSON.parse((await runQuorum(['runs', '--db', db, '--format', 'json'])).stdout) as { name: string; items: number; itemUnit: string }[];
  expect(json.map((r) => [r.name, r.items, r.itemUnit])).toEqual([
    ['scored', 3, 'images'],
    ['compared', 3, 'pairs'],
    ['ranked', 3, 'ranked'],
  ]);
});
