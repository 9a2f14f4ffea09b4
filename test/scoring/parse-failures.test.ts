/**
 * An answer that does not parse is asked again once, quoting the error; a second failure
 * is recorded as `parse_error` with the judge's raw text, never turned into a score.
 * The parse-failure rate is visible per judge; images say partial or failed; a run with
 * an image left without a score exits 1.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startAnthropicServer, startOpenAIServer, type Fault, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { answered, completions, messagesOf, parseScores, runNameOf, tempDir, textOf, withDb, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-ant-test-parse';
let tmp: TempDir;
let server: JudgeServer;
let db: string;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, [
    { name: 'one.png', quality: 2 },
    { name: 'two.png', quality: 4 },
    { name: 'three.png', quality: 3 },
  ]);
  server = await startAnthropicServer({ apiKey: KEY });
  db = tmp.path('quorum.db');
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});
beforeEach(() => {
  server.clearFaults();
  server.resetCounts();
});

/** Scores one image with Anthropic at concurrency 1, so queued faults hit requests in a known order. */
function score(image: string, samples: number, faults: Fault[]) {
  server.failNext(...faults);
  return runQuorum(
    ['score', join(tmp.images, image), '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', String(samples), '--concurrency', '1', '--db', db, '--format', 'json'],
    { env: { ANTHROPIC_API_KEY: KEY } },
  );
}

interface CallRow {
  status: string;
  raw: string | null;
  parsed: string | null;
  error: string | null;
  meta: string | null;
  sample_index: number;
}

function callsOf(runName: string): CallRow[] {
  return withDb(db, (d) =>
    d.prepare('SELECT c.* FROM calls c JOIN runs r ON r.id = c.run_id WHERE r.name = ? ORDER BY c.sample_index').all(runName) as CallRow[],
  );
}

it('a missing <answer> gets one re-ask quoting the error, and the repaired answer counts', async () => {
  const r = await score('one.png', 1, [{ kind: 'missing-tags' }]);
  expect(r.code, r.stderr).toBe(0);
  const requests = completions(server);
  expect(requests).toHaveLength(2);
  const reask = messagesOf(requests[1]!);
  // The re-ask carries the first answer and quotes why it could not be read.
  expect(reask.at(-2)).toMatchObject({ role: 'assistant', content: 'I think the image is decent.' });
  expect(textOf(reask.at(-1)!.content)).toMatch(/^Your answer could not be read: no <answer>\.\.\.<\/answer> block with a score was found\./);

  const [s] = parseScores(r.stdout);
  expect(s).toMatchObject({ status: 'ok', ok: 1, failed: 0 });
  const [call] = callsOf(runNameOf(r.stderr));
  expect(call!.status).toBe('ok');
  expect(JSON.parse(call!.meta!).reask).toMatchObject({ firstRaw: 'I think the image is decent.' });
});

it('two failures in a row: parse_error with the raw text kept, no score, exit 1', async () => {
  const r = await score('two.png', 1, [{ kind: 'out-of-range' }, { kind: 'missing-tags' }]);
  expect(r.code).toBe(1);
  expect(completions(server)).toHaveLength(2);
  expect(textOf(messagesOf(completions(server)[1]!).at(-1)!.content)).toMatch(/score 7\.5 is outside 1\.\.5/);

  const [s] = parseScores(r.stdout);
  expect(s).toMatchObject({ status: 'failed', score: null, samples: [], ok: 0, failed: 1 });
  expect(r.stderr).toMatch(/^failed: .*two\.png: sample 0: score 7\.5 is outside 1\.\.5; after a re-ask: no <answer>/m);

  const [call] = callsOf(runNameOf(r.stderr));
  expect(call).toMatchObject({ status: 'parse_error', raw: 'I think the image is decent.', parsed: null });
  expect(JSON.parse(call!.meta!).reask.firstRaw).toMatch(/<answer>7\.5<\/answer>/);

  // `quorum show --calls` gives the user the raw answers.
  const shown = await runQuorum(['show', runNameOf(r.stderr), '--calls', '--db', db]);
  expect(shown.code, shown.stderr).toBe(0);
  const calls = shown.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; raw: string });
  expect(calls).toEqual([expect.objectContaining({ status: 'parse_error', raw: 'I think the image is decent.' })]);
});

it('one of two samples failing twice leaves the image partial, scored from the good sample only', async () => {
  const r = await score('three.png', 2, [{ kind: 'invalid-json' }, { kind: 'missing-tags' }]);
  expect(r.code, r.stderr).toBe(0);
  expect(completions(server)).toHaveLength(3);
  const [s] = parseScores(r.stdout);
  expect(s).toMatchObject({ status: 'partial', ok: 1, failed: 1 });
  expect(s!.samples).toHaveLength(1);
  expect(s!.score).toBe(s!.samples[0]);
  expect(r.stderr).toMatch(/^partial: .*three\.png: sample 0: /m);
  const calls = callsOf(runNameOf(r.stderr));
  expect(calls.map((c) => c.status)).toEqual(['parse_error', 'ok']);
  expect(calls[0]!.raw).toBe('I think the image is decent.');
});

it('`quorum judges --format json` shows the parse-failure rate over answered calls', async () => {
  // The three tests above stored 1 + 1 + 2 calls for this judge, 2 of them parse errors.
  const r = await runQuorum(['judges', '--db', db, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  const judges = JSON.parse(r.stdout) as { provider: string; model: string; calls: number; parseFailures: number; errors: number; parseFailureRate: number }[];
  expect(judges).toEqual([expect.objectContaining({ provider: 'anthropic', model: 'sim', calls: 4, parseFailures: 2, errors: 0 })]);
  expect(judges[0]!.parseFailureRate).toBeCloseTo(0.5, 10);
  const table = await runQuorum(['judges', '--db', db]);
  expect(table.stdout).toMatch(/anthropic:sim\s+4\s+2\s+50\.0%/);
});

it('with OpenAI n-sampling, each unreadable choice of a request gets its own re-ask', async () => {
  const openai = await startOpenAIServer({ apiKey: KEY });
  try {
    openai.failNext({ kind: 'missing-tags' });
    const r = await runQuorum(
      ['score', join(tmp.images, 'one.png'), '--judge', 'openai:sim', '--base-url', openai.url, '--method', 'sample', '--samples', '3', '--db', tmp.path('openai.db'), '--format', 'json'],
      { env: { OPENAI_API_KEY: KEY } },
    );
    expect(r.code, r.stderr).toBe(0);
    const requests = answered(openai);
    // One request for the three samples (all unreadable), then one re-ask per sample.
    expect(requests.map((q) => (q.body as { n?: number }).n ?? 1)).toEqual([3, 1, 1, 1]);
    expect(requests.slice(1).every((q) => /Your answer could not be read/.test(textOf(messagesOf(q).at(-1)!.content)))).toBe(true);
    expect(parseScores(r.stdout)[0]).toMatchObject({ status: 'ok', ok: 3 });
  } finally {
    await openai.close();
  }
});
