/**
 * Usage errors exit 2 with the usage and a one-line reason; a missing API key is a
 * one-line error that names the variable to set. None of these reaches a judge.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { lines, tempDir, writeImages, type TempDir } from './_support.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, [{ name: 'a.png', quality: 3 }]);
});
afterAll(() => tmp.cleanup());

/** The `error: ...` lines of stderr. */
const errorLines = (stderr: string) => lines(stderr).filter((l) => l.startsWith('error: '));

it.each([
  ['no --judge', [], 'error: Missing required argument: --judge'],
  ['--samples 0', ['--judge', 'openai:sim', '--samples', '0'], 'error: Expected `samples` to be an integer >= 1, got `0`'],
  ['--samples 2.5', ['--judge', 'openai:sim', '--samples', '2.5'], 'error: Expected `samples` to be an integer >= 1, got `2.5`'],
  ['an unknown option', ['--judge', 'openai:sim', '--colour', 'red'], 'error: Unknown option --colour'],
  ['an unknown method', ['--judge', 'openai:sim', '--method', 'vibes'], /^error: Expected `method` to be one of auto, sample, levels\b.*, got `vibes`$/],
  ['a judge without a provider', ['--judge', 'gpt-4o'], 'error: Expected `--judge` to look like provider:model (e.g. openai:gpt-4o), got `gpt-4o`'],
] as [string, string[], string | RegExp][])('%s: exit 2, usage, and one line saying why', async (_what, extra, reason) => {
  const r = await runQuorum(['score', tmp.images, '--db', tmp.path('usage.db'), ...extra]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^Usage: quorum score <image-or-folder>\.\.\. --judge provider:model \[options\]$/m);
  // The reason is the last line, and the only error line.
  const errors = errorLines(r.stderr);
  expect(errors).toHaveLength(1);
  if (typeof reason === 'string') expect(errors[0]).toBe(reason);
  else expect(errors[0]).toMatch(reason);
  expect(lines(r.stderr).at(-1)).toBe(errors[0]);
});

it('no input: exit 2', async () => {
  const r = await runQuorum(['score', '--judge', 'openai:sim']);
  expect(r.code).toBe(2);
  expect(errorLines(r.stderr)).toEqual(['error: Give at least one image or folder to score']);
});

it('an unknown command: exit 2 with the list of commands', async () => {
  const r = await runQuorum(['scroe']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^ {2}score +Score images/m);
  expect(lines(r.stderr).at(-1)).toBe('Unknown command `scroe`');
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
