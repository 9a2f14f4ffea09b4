/**
 * The progress line of a real run (stderr is not a terminal here: plain lines): its
 * count of calls ends at its total, also with anchors (the anchors' own pairs and both
 * orders counted), and a run held back by `--rpm` says so while no call completes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { completions, lines, spread, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-progress';
const env = { OPENAI_API_KEY: KEY };
let tmp: TempDir;
let server: JudgeServer;
let anchorsCsv: string;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(2));
  const anchors = tmp.path('anchors');
  await mkdir(anchors);
  const paths = await writeImages(anchors, [
    { name: 'a1.png', quality: 1.5 },
    { name: 'a3.png', quality: 3 },
    { name: 'a5.png', quality: 4.5 },
  ]);
  anchorsCsv = join(anchors, 'anchors.csv');
  await writeFile(anchorsCsv, `path,score\n${paths.map((p, i) => `${p},${1.5 + 1.5 * i}`).join('\n')}\n`);
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

/** done/total of the last progress line. */
function lastCount(stderr: string): { done: number; total: number; line: string } {
  const line = lines(stderr).filter((l) => /^score \d+\/\d+ calls/.test(l)).at(-1);
  if (!line) throw new Error(`no progress line on stderr:\n${stderr}`);
  const [, done, total] = /^score (\d+)\/(\d+) calls/.exec(line)!;
  return { done: Number(done), total: Number(total), line };
}

it.each([
  // 2 images x 3 anchors x 2 orders, plus 3 anchor pairs x 2 orders; one call per order (levels).
  ['compare-levels', [], 2 * 3 * 2 + 3 * 2],
  // The same orders with 2 reasoned verdicts each.
  ['compare-sample', ['--prompt', 'compare-sample', '--samples', '2'], (2 * 3 * 2 + 3 * 2) * 2],
] as [string, string[], number][])('anchors with %s: the count ends at its total, which counts the anchor pairs', async (_what, extra, calls) => {
  const db = tmp.path(`anchors-${_what}.db`);
  const args = ['score', tmp.images, '--method', 'anchors', '--anchors', anchorsCsv, '--judge', 'openai:sim', '--base-url', server.url, '--db', db, ...extra];
  const first = await runQuorum(args, { env });
  expect(first.code, first.stderr).toBe(0);
  expect(lastCount(first.stderr)).toMatchObject({ done: calls, total: calls });
  // A rerun is served from the store: every call counted, as cached.
  const before = completions(server).length;
  const again = await runQuorum(args, { env });
  expect(again.code, again.stderr).toBe(0);
  expect(completions(server).length).toBe(before);
  const rerun = lastCount(again.stderr);
  expect(rerun).toMatchObject({ done: calls, total: calls });
  expect(rerun.line).toContain(`· ${calls} cached ·`);
});

it('under --rpm the line says the run waits for the rate limit, and Ctrl-C still ends it', async () => {
  const before = completions(server).length;
  const proc = spawnQuorum(
    ['score', tmp.images, '--method', 'sample', '--samples', '1', '--rpm', '1', '--concurrency', '1', '--judge', 'openai:sim', '--base-url', server.url, '--db', tmp.path('rpm.db')],
    { env },
  );
  // One request per minute: the first goes at once, the second waits a minute. In a log
  // (stderr not a terminal) the line comes every 5 s even though no call completes.
  const waiting = () => lines(proc.stderr).filter((l) => l.includes('waiting for rate limit'));
  await waitUntil(() => waiting().length >= 2, { what: 'two rate-limit lines', timeoutMs: 30_000 });
  const [first, second] = waiting().map((l) => /^score ([01])\/2 calls · .* (\d+)s elapsed · waiting for rate limit \(--rpm 1\)$/.exec(l));
  expect(first, proc.stderr).toBeTruthy();
  expect(second, proc.stderr).toBeTruthy();
  expect(second![1]).toBe('1');
  expect(Number(second![2])).toBeGreaterThan(Number(first![2]));
  proc.kill('SIGINT');
  const r = await proc.exited;
  expect(r.code, r.stderr).toBe(130);
  expect(completions(server).length - before).toBe(1);
});
