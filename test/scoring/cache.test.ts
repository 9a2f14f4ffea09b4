/**
 * Every answered call is stored and keyed by what shaped it, so rerunning a command
 * costs nothing and raising --samples asks only for the new samples.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { answered, choicesOf, completions, imageOf, parseScores, spread, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-cache';
const IMAGES = 4;
let tmp: TempDir;
let server: JudgeServer;

beforeEach(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(IMAGES));
});
afterEach(async () => {
  await server.close();
  await tmp.cleanup();
});

/** Per image (sha256 of the bytes sent): the samples the server was asked for. */
function samplesPerImage(server: JudgeServer, from: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of answered(server, from)) out.set(imageOf(r), (out.get(imageOf(r)) ?? 0) + choicesOf(r));
  return out;
}

describe('with an OpenAI-compatible server (samples share a request via n)', () => {
  const args = (samples: number, method = 'sample') => [
    'score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--method', method, '--samples', String(samples),
    '--db', tmp.path('quorum.db'), '--format', 'json',
  ];

  it('a rerun of the same command makes no call and prints the same scores', async () => {
    server = await startOpenAIServer({ apiKey: KEY });
    const env = { OPENAI_API_KEY: KEY };
    const first = await runQuorum(args(5), { env });
    expect(first.code, first.stderr).toBe(0);
    expect(completions(server)).toHaveLength(IMAGES);

    const before = server.requests.length;
    const again = await runQuorum(args(5), { env });
    expect(again.code, again.stderr).toBe(0);
    expect(server.requests.length - before).toBe(0);
    expect(again.stderr).toMatch(/\(resumed\): 4\/4 images scored, 0 requests, 20 cached samples/);
    const scores = (stdout: string) => parseScores(stdout).map(({ path, score, samples }) => ({ path, score, samples }));
    expect(scores(again.stdout)).toEqual(scores(first.stdout));
    expect(parseScores(again.stdout).map((s) => s.cached)).toEqual([5, 5, 5, 5]);

    // The levels method is cached the same way.
    const levels = await runQuorum(args(1, 'levels'), { env });
    expect(levels.code, levels.stderr).toBe(0);
    const afterLevels = server.requests.length;
    const levelsAgain = await runQuorum(args(1, 'levels'), { env });
    expect(levelsAgain.code, levelsAgain.stderr).toBe(0);
    expect(server.requests.length).toBe(afterLevels);
    expect(levelsAgain.stdout).toBe(levels.stdout.replace(/"cached": 0/g, '"cached": 1'));
  });

  it('--samples 5 then --samples 8 asks for exactly the 3 new samples of each image', async () => {
    server = await startOpenAIServer({ apiKey: KEY });
    const env = { OPENAI_API_KEY: KEY };
    const five = await runQuorum(args(5), { env });
    expect(five.code, five.stderr).toBe(0);
    const before = server.requests.length;
    const eight = await runQuorum(args(8), { env });
    expect(eight.code, eight.stderr).toBe(0);

    const asked = samplesPerImage(server, before);
    expect(asked.size).toBe(IMAGES);
    expect([...asked.values()]).toEqual([3, 3, 3, 3]);
    expect(answered(server, before).map(choicesOf)).toEqual([3, 3, 3, 3]);

    // The first five samples of each image are the stored ones, reused.
    const old = parseScores(five.stdout);
    const now = parseScores(eight.stdout);
    now.forEach((s, i) => {
      expect(s.samples).toHaveLength(8);
      expect(s.samples.slice(0, 5)).toEqual(old[i]!.samples);
      expect(s.cached).toBe(5);
    });
  });
});

it('with Anthropic (one request per sample), --samples 5 then --samples 8 makes exactly 3 new requests per image', async () => {
  server = await startAnthropicServer({ apiKey: KEY });
  const env = { ANTHROPIC_API_KEY: KEY };
  const args = (samples: number) => [
    'score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', String(samples), '--db', tmp.path('quorum.db'), '--format', 'json',
  ];
  expect((await runQuorum(args(5), { env })).code).toBe(0);
  expect(completions(server)).toHaveLength(IMAGES * 5);
  const before = server.requests.length;
  const eight = await runQuorum(args(8), { env });
  expect(eight.code, eight.stderr).toBe(0);
  expect(completions(server, before)).toHaveLength(IMAGES * 3);
  expect([...samplesPerImage(server, before).values()]).toEqual([3, 3, 3, 3]);
  expect(parseScores(eight.stdout).map((s) => s.samples.length)).toEqual([8, 8, 8, 8]);

  const again = await runQuorum(args(8), { env });
  expect(again.code, again.stderr).toBe(0);
  expect(completions(server, before)).toHaveLength(IMAGES * 3);
});
