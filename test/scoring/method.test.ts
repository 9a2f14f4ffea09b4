/**
 * `--method auto` takes level probabilities where the judge returns log-probabilities
 * (OpenAI-compatible) and sampling where it does not (Anthropic), and says which on
 * stderr; `--method levels` on a judge without log-probabilities is refused up front.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { answered, completions, parseScores, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-method';
let tmp: TempDir;
let openai: JudgeServer;
let anthropic: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, [
    { name: 'a.png', quality: 2 },
    { name: 'b.png', quality: 4 },
  ]);
  openai = await startOpenAIServer({ apiKey: KEY });
  anthropic = await startAnthropicServer({ apiKey: KEY });
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
  await tmp.cleanup();
});

it('auto picks levels on an OpenAI-compatible server and says so', async () => {
  const r = await runQuorum(['score', tmp.images, '--judge', 'openai:sim', '--base-url', openai.url, '--db', tmp.path('auto-openai.db'), '--format', 'json'], {
    env: { OPENAI_API_KEY: KEY },
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/^method: levels \(the judge returns log-probabilities, checked with one probe\)$/m);
  expect(parseScores(r.stdout).map((s) => s.method)).toEqual(['levels', 'levels']);
  expect(answered(openai).every((q) => (q.body as { logprobs?: boolean }).logprobs === true)).toBe(true);
});

it('auto picks sampling on Anthropic and says so', async () => {
  const r = await runQuorum(['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', anthropic.url, '--samples', '2', '--db', tmp.path('auto-anthropic.db'), '--format', 'json'], {
    env: { ANTHROPIC_API_KEY: KEY },
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/^method: sample \(no log-probabilities from this judge\)$/m);
  const scores = parseScores(r.stdout);
  expect(scores.map((s) => s.method)).toEqual(['sample', 'sample']);
  expect(scores.map((s) => s.samples.length)).toEqual([2, 2]);
});

it('--method levels on Anthropic is a clear error naming the missing log-probabilities, before any call', async () => {
  const before = anthropic.requests.length;
  const r = await runQuorum(['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', anthropic.url, '--method', 'levels', '--db', tmp.path('levels-anthropic.db')], {
    env: { ANTHROPIC_API_KEY: KEY },
  });
  expect([1, 2]).toContain(r.code);
  expect(r.stderr).toMatch(/^error: .*anthropic:sim.* no log-probabilities.*levels method/m);
  expect(r.stdout).toBe('');
  expect(completions(anthropic, before)).toHaveLength(0);
});
