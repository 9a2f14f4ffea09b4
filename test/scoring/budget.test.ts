/**
 * `--max-cost`: with a price for the judge (from a `--prices` table), the run stops
 * issuing calls before the estimated spend would pass the budget, says so on stderr,
 * and what it spent stays within it.
 *
 * The Anthropic server is used: a judge behind an OpenAI-compatible --base-url counts as
 * local and free whatever the price table says (see the report of this suite).
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { answered, parseScores, runNameOf, spread, tempDir, withDb, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-ant-test-budget';
const IMAGES = 10;
const SAMPLES = 2;
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(IMAGES));
  // USD 1000 per million tokens both ways: one call of ~160 tokens costs ~USD 0.16.
  await writeFile(tmp.path('prices.json'), JSON.stringify({ 'anthropic:sim': { input: 1000, output: 1000 } }));
  server = await startAnthropicServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

it.each([1, 4])('stops before passing --max-cost 2 at concurrency %i, and says so', async (concurrency) => {
  const before = server.requests.length;
  const db = tmp.path(`budget-${concurrency}.db`);
  const r = await runQuorum(
    ['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', String(SAMPLES), '--prices', tmp.path('prices.json'),
      '--max-cost', '2', '--concurrency', String(concurrency), '--db', db, '--format', 'json'],
    { env: { ANTHROPIC_API_KEY: KEY } },
  );
  expect(r.code).toBe(1);
  const note = /^--max-cost 2 reached \(spent about \$(\d+\.\d{4})\): no new calls issued$/m.exec(r.stderr);
  expect(note, r.stderr).not.toBeNull();

  const made = answered(server, before).length;
  const spent = withDb(db, (d) => (d.prepare('SELECT sum(cost_usd) AS usd, count(*) AS n FROM calls').get() as { usd: number; n: number }));
  // Calls were made and paid for, the budget stopped the rest, and the spend is within it.
  expect(made).toBeGreaterThan(1);
  expect(made).toBeLessThan(IMAGES * SAMPLES);
  expect(spent.n).toBe(made);
  expect(spent.usd).toBeGreaterThan(0);
  expect(spent.usd).toBeLessThanOrEqual(2);
  // The note says what was really spent.
  expect(Number(note![1])).toBeCloseTo(spent.usd, 3);
  // ...and the budget was used: the run stopped only when about one more call would pass it
  // (calls in flight at the start reserve a worst-case estimate, settled when they finish).
  const perCall = spent.usd / spent.n;
  expect(spent.usd).toBeGreaterThan(2 - 2 * perCall);

  const runs = JSON.parse((await runQuorum(['runs', '--format', 'json', '--db', db])).stdout) as { name: string; costUsd: number }[];
  expect(runs.find((x) => x.name === runNameOf(r.stderr))!.costUsd).toBeCloseTo(spent.usd, 10);
  // Images the budget left unfinished are not given a score they did not earn.
  for (const s of parseScores(r.stdout)) expect(s.samples).toHaveLength(s.ok);
});
