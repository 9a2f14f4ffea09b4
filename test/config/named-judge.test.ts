/**
 * A judge named in quorum.config.yaml works end to end against the loopback OpenAI server:
 * its settings reach the wire, flags override them, the config's default judge applies
 * without --judge, and the name is only an alias (the cache is shared with provider:model).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { choicesOf, completions, lines, parseScores } from '../scoring/_support.js';
import { project, type Project } from './_support.js';

const KEY = 'sk-test-named';
let p: Project;
let server: JudgeServer;

beforeAll(async () => {
  p = await project(3);
  server = await startOpenAIServer({ apiKey: KEY, seed: 5 });
  await p.write(
    'quorum.config.yaml',
    [
      '# the judge used when --judge is absent',
      'judge: sim',
      'judges:',
      '  sim:',
      '    judge: openai:sim',
      `    baseUrl: ${server.url}`,
      '    apiKeyEnv: SIM_KEY',
      '    method: sample',
      '    samples: 2',
      '    options:',
      '      temperature: 0.5',
      '  unset:',
      '    judge: openai:sim',
      `    baseUrl: ${server.url}`,
      '    apiKeyEnv: NOT_SET_ANYWHERE',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await server.close();
  await p.cleanup();
});

const env = { SIM_KEY: KEY };
const body = (r: { body?: unknown }) => r.body as { temperature?: number; n?: number };

describe('named judges', () => {
  it('a name resolves to its provider:model and settings, which reach the server', async () => {
    const from = server.requests.length;
    const r = await p.quorum(['score', 'images', '--judge', 'sim', '--db', 'a.db', '--format', 'json', '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    const sent = completions(server, from);
    expect(sent).toHaveLength(3);
    expect(sent.map(choicesOf)).toEqual([2, 2, 2]);
    expect(sent.map((s) => body(s).temperature)).toEqual([0.5, 0.5, 0.5]);
    expect(parseScores(r.stdout).map((s) => s.samples.length)).toEqual([2, 2, 2]);
  });

  it('flags override the config', async () => {
    const from = server.requests.length;
    const r = await p.quorum(['score', 'images', '--judge', 'sim', '--samples', '3', '--temperature', '0.9', '--db', 'b.db', '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    const sent = completions(server, from);
    expect(sent.map(choicesOf)).toEqual([3, 3, 3]);
    expect(sent.map((s) => body(s).temperature)).toEqual([0.9, 0.9, 0.9]);
  });

  it('the config default judge applies without --judge, and the name is not part of the cache key', async () => {
    const from = server.requests.length;
    const named = await p.quorum(['score', 'images', '--db', 'c.db', '--quiet'], { env });
    expect(named.code, named.stderr).toBe(0);
    expect(completions(server, from)).toHaveLength(3);
    const after = server.requests.length;
    // The same judge spelled out (with an empty config file): everything comes from the cache.
    await p.write('empty.yaml', '');
    const again = await p.quorum(
      ['score', 'images', '--config', 'empty.yaml', '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '2', '--temperature', '0.5', '--db', 'c.db', '--quiet'],
      { env: { OPENAI_API_KEY: KEY } },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(completions(server, after)).toHaveLength(0);
    expect(again.stderr).toMatch(/0 requests, 6 cached samples/);
  });

  it('a key variable named by apiKeyEnv that is not set: one line naming file, line and key', async () => {
    const r = await p.quorum(['score', 'images', '--judge', 'unset', '--db', 'd.db', '--quiet'], { env });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      'error: quorum.config.yaml:15: judges.unset.apiKeyEnv: NOT_SET_ANYWHERE is not set: export it to use the judge unset',
    ]);
  });

  it('an unknown name, and no judge at all, are usage errors', async () => {
    const r = await p.quorum(['score', 'images', '--judge', 'smi', '--db', 'e.db'], { env });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)[0]).toBe('error: Unknown judge `smi`: not provider:model and not among the judges of quorum.config.yaml (did you mean `sim`?)');
    // Neither --judge nor a config `judge:`: the catalogue's local default, which off a
    // terminal and not on disk stops with the command that pulls it.
    const none = await p.quorum(['score', 'images', '--config', 'empty.yaml', '--db', 'e.db'], { env: { ...env, QUORUM_MODELS: p.path('no-models') } });
    expect(none.code).toBe(2);
    expect(lines(none.stderr)[0]).toMatch(/^error: No --judge given; the default local judge .* Run `quorum pull qwen2\.5-vl-7b` first/);
  });

  it('compare takes a named judge too', async () => {
    const from = server.requests.length;
    const r = await p.quorum(['compare', 'images', 'images', '--judge', 'sim', '--prompt', 'compare-sample', '--db', 'f.db', '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    // 3 pairs in both orders, each with the config's 2 samples at its temperature.
    const sent = completions(server, from);
    expect(sent.map(choicesOf)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(new Set(sent.map((s) => body(s).temperature))).toEqual(new Set([0.5]));
  });
});
