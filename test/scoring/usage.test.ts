/**
 * Usage errors exit 2 with a one-line reason and a pointer to `--help` (not the whole
 * help); a missing API key is a one-line error that names the variable to set. None of
 * these reaches a judge: the test server sees no completion request.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { completions, lines, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-usage';
let tmp: TempDir;
let server: JudgeServer;
beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, [{ name: 'a.png', quality: 3 }]);
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

/** A usage error's whole stderr: the reason, then where to read the usage. */
function expectUsageError(r: { code: number | null; stdout: string; stderr: string }, reason: string | RegExp, command = 'score'): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const [first, ...rest] = lines(r.stderr);
  if (typeof reason === 'string') expect(first).toBe(reason);
  else expect(first).toMatch(reason);
  expect(rest).toEqual([`Run \`quorum ${command} --help\` for usage.`]);
}

it.each([
  // No --judge means the default local judge; not on disk and no terminal: stop with the pull command.
  ['no --judge', [], /^error: No --judge given; the default local judge qwen2\.5-vl-7b .* is not downloaded: .* Run `quorum pull qwen2\.5-vl-7b` first, or add --yes/],
  ['--samples 0', ['--judge', 'openai:sim', '--samples', '0'], 'error: Expected `samples` to be an integer in [1, 1000], got `0`'],
  ['--samples 2.5', ['--judge', 'openai:sim', '--samples', '2.5'], 'error: Expected `samples` to be an integer in [1, 1000], got `2.5`'],
  ['an unknown option', ['--judge', 'openai:sim', '--colour', 'red'], 'error: Unknown option --colour'],
  ['a misspelt option', ['--judge', 'openai:sim', '--sample', '3'], 'error: Unknown option --sample (did you mean --samples?)'],
  ['an unknown method', ['--judge', 'openai:sim', '--method', 'vibes'], /^error: Expected `method` to be one of auto, sample, levels\b.*, got `vibes`$/],
  ['a judge without a provider', ['--judge', 'gpt-4o'], 'error: Expected `--judge` to look like provider:model (e.g. openai:gpt-4o), got `gpt-4o` (a judge name needs a quorum.config.yaml that defines it)'],
] as [string, string[], string | RegExp][])('%s: exit 2, one line saying why and a pointer to --help', async (_what, extra, reason) => {
  const r = await runQuorum(['score', tmp.images, '--db', tmp.path('usage.db'), ...extra], { env: { QUORUM_MODELS: tmp.path('no-models') } });
  expectUsageError(r, reason);
});

// Each of these once went through: `--samples 1e9` allocated 3.8 GB before any request,
// a huge --concurrency or --timeout overflowed queues and timers.
it.each([
  ['score', '--samples', '1e9', 'an integer in [1, 1000]'],
  ['score', '--samples', '1001', 'an integer in [1, 1000]'],
  ['score', '--concurrency', '1025', 'an integer in [1, 1024]'],
  ['score', '--concurrency', '0x10', 'an integer in [1, 1024]'],
  ['score', '--rpm', '1e7', 'an integer in [1, 1000000]'],
  ['score', '--retries', '1000', 'an integer in [0, 100]'],
  ['score', '--timeout', '1e9', 'a number in [0.001, 86400]'],
  ['score', '--max-side', '100000', 'an integer in [16, 16384]'],
  ['score', '--threads', 'many', 'an integer in [1, 1024]'],
  ['score', '--context-size', '1e12', 'an integer in [64, 1048576]'],
  ['score', '--seed', '99999999999', 'an integer in [0, 4294967295]'],
  ['compare', '--samples', '5000', 'an integer in [1, 1000]'],
  ['rank', '--budget', '1e9', 'an integer in [2, 1000000]'],
])('%s %s %s: exit 2 before any call, naming the bounds', async (command, option, value, bounds) => {
  const before = completions(server).length;
  const db = tmp.path(`bounds-${command}${option}.db`);
  const inputs = command === 'score' ? [tmp.images] : command === 'compare' ? [tmp.images, tmp.images] : ['--items', tmp.images];
  const r = await runQuorum([command, ...inputs, '--judge', 'openai:sim', '--base-url', server.url, '--db', db, option, value], {
    env: { OPENAI_API_KEY: KEY },
  });
  expectUsageError(r, `error: Expected \`${option.slice(2)}\` to be ${bounds}, got \`${value}\``, command);
  expect(completions(server).length).toBe(before);
});

it.each(['localhost:8080', 'ftp://example.com/v1', 'http//127.0.0.1:8080', 'http://', 'file:///tmp/x'])(
  '--base-url %s: exit 2 before the database is opened',
  async (url) => {
    const db = tmp.path('base-url.db');
    const r = await runQuorum(['score', tmp.images, '--judge', 'openai:sim', '--base-url', url, '--db', db], { env: { OPENAI_API_KEY: KEY } });
    expectUsageError(r, `error: Expected \`base-url\` to be an http(s) URL such as http://127.0.0.1:8080/v1, got \`${url}\``);
    expect(existsSync(db)).toBe(false);
  },
);
it('no input: exit 2', async () => {
  const r = await runQuorum(['score', '--judge', 'openai:sim']);
  expectUsageError(r, 'error: Give at least one image or folder to score');
});

it('an unknown command: exit 2, one line with the nearest command and a pointer to `quorum --help`', async () => {
  const r = await runQuorum(['scroe']);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toEqual(['error: Unknown command `scroe` (did you mean `score`?)', 'Run `quorum --help` for the list of commands.']);
  const far = await runQuorum(['banana']);
  expect(lines(far.stderr)).toEqual(['error: Unknown command `banana`', 'Run `quorum --help` for the list of commands.']);
});

it('--help still prints the whole help, on stdout', async () => {
  const r = await runQuorum(['score', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Usage: quorum score <image-or-folder>\.\.\. \[--judge provider:model\|name\|panel:NAME\] \[--dry-run\] \[options\]$/m);
  expect(r.stdout).toMatch(/--samples <K> +Samples per image/);
});

it.each([
  ['openai:gpt-4o', 'OPENAI_API_KEY'],
  ['anthropic:claude-sonnet-4-5', 'ANTHROPIC_API_KEY'],
])('%s without %s: exit 1, one line naming the variable', async (judge, variable) => {
  const r = await runQuorum(['score', tmp.images, '--judge', judge, '--db', tmp.path('keys.db')], { env: { [variable]: undefined } });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^error: ${variable} is not set: `))]);
});
