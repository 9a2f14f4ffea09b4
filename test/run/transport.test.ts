/**
 * Answers broken in transit are transport faults, retried like a 5xx, and every line
 * about them names the provider and the host: a connection dropped in the middle of the
 * body (undici's `terminated`), an HTTP 200 whose body is not JSON, an HTTP 200 JSON
 * without the answer (`choices` for OpenAI, `content` for Anthropic).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAnthropicServer, startOpenAIServer, type Fault, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, lines, parseScores, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-transport';
let tmp: TempDir;
let image: string;
const servers: JudgeServer[] = [];

beforeAll(async () => {
  tmp = await tempDir();
  image = (await writeImages(tmp.images, [{ name: 'photo.png', quality: 3.5, width: 32, height: 32 }]))[0]!;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp.cleanup();
});

/**
 * Scores the one image with one sample, on a server of its own that takes `faults`
 * first, into a fresh database (so the cases can run side by side).
 */
async function score(provider: 'openai' | 'anthropic', faults: Fault[], retries = 4) {
  const server = await (provider === 'openai' ? startOpenAIServer : startAnthropicServer)({ apiKey: KEY });
  servers.push(server);
  server.failNext(...faults);
  const db = tmp.path(`transport-${servers.length}.db`);
  const r = await runQuorum(
    ['score', image, '--judge', `${provider}:sim`, '--base-url', server.url, '--method', 'sample', '--samples', '1', '--retries', String(retries), '--db', db, '--format', 'json'],
    { env: provider === 'openai' ? { OPENAI_API_KEY: KEY } : { ANTHROPIC_API_KEY: KEY } },
  );
  const calls = withDb(db, (d) => d.prepare('SELECT status, attempts, error FROM calls ORDER BY id').all() as { status: string; attempts: number; error: string | null }[]);
  return { ...r, calls, server, host: `${provider} at 127.0.0.1:${server.port}` };
}

it.concurrent.each([
  ['a connection dropped mid-body', 'openai', { kind: 'cut-body' }],
  ['an HTML page with HTTP 200', 'openai', { kind: 'not-json' }],
  ['a 200 labelled JSON that is not JSON', 'openai', { kind: 'not-json', contentType: 'application/json' }],
  ['a 200 without choices', 'openai', { kind: 'no-choices' }],
  ['a 200 whose choices are empty', 'openai', { kind: 'no-choices', empty: true }],
  ['a connection dropped mid-body', 'anthropic', { kind: 'cut-body' }],
  ['an HTML page with HTTP 200', 'anthropic', { kind: 'not-json' }],
  ['a 200 without content', 'anthropic', { kind: 'no-choices' }],
] as [string, 'openai' | 'anthropic', Fault][])(
  '%s (%s), then success: retried, scored, recorded ok after 2 attempts; the retry names provider and host',
  async (_what, provider, fault) => {
    const r = await score(provider, [fault]);
    expect(r.code, r.stderr).toBe(0);
    expect(completions(r.server).map((q) => q.fault?.kind ?? 'none')).toEqual([fault.kind, 'none']);
    expect(parseScores(r.stdout)[0]).toMatchObject({ status: 'ok', ok: 1, failed: 0 });
    expect(r.calls).toEqual([{ status: 'ok', attempts: 2, error: null }]);
    // The retry is said on the progress line, naming where the broken answer came from.
    expect(r.stderr).toContain(`retrying: ${r.host} sent a broken answer`);
    expect(r.stderr).toMatch(/, 1 requests, 1 rejected,/);
  },
);

it.concurrent('retries exhausted on a dropped body: the failure line names provider and host, not a bare `terminated`', async () => {
  const r = await score('openai', [{ kind: 'cut-body' }, { kind: 'cut-body' }], 1);
  expect(r.code).toBe(1);
  expect(completions(r.server)).toHaveLength(2);
  const failed = lines(r.stderr).filter((l) => l.startsWith('failed:'));
  expect(failed, r.stderr).toEqual([expect.stringMatching(/^failed: .*photo\.png: sample 0: /)]);
  expect(failed[0]).toContain(`${r.host} sent a broken answer: terminated`);
  expect(parseScores(r.stdout)[0]).toMatchObject({ status: 'failed', score: null });
  expect(r.calls).toEqual([expect.objectContaining({ status: 'error', attempts: 2 })]);
  expect(r.calls[0]!.error).toContain(r.host);
});

it.concurrent('retries exhausted on answers without choices: one failure line naming provider and host', async () => {
  const r = await score('openai', [{ kind: 'no-choices' }, { kind: 'no-choices' }], 1);
  expect(r.code).toBe(1);
  expect(completions(r.server)).toHaveLength(2);
  const failed = lines(r.stderr).filter((l) => l.startsWith('failed:'));
  expect(failed, r.stderr).toEqual([expect.stringContaining(`${r.host} sent a broken answer`)]);
  expect(r.calls).toEqual([expect.objectContaining({ status: 'error', attempts: 2 })]);
});
