/**
 * Every mistake in a configuration file is one line naming the file, the line and the key
 * path, with exit code 2, before any image is read or any judge asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lines } from '../scoring/_support.js';
import { project, type Project } from './_support.js';

let p: Project;
beforeAll(async () => {
  p = await project(1);
});
afterAll(async () => {
  await p.cleanup();
});

/** Runs `score` with `text` as the config file and returns its stderr lines. */
async function errorOf(name: string, text: string, extra: string[] = []): Promise<string[]> {
  await p.write(name, text);
  const r = await p.quorum(['score', 'images', '--config', name, '--judge', 'openai:x', '--base-url', 'http://127.0.0.1:9/v1', '--db', 'q.db', ...extra]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  return lines(r.stderr);
}

describe('config errors: one line, file:line: key.path: reason, exit 2', () => {
  it('an unknown judge name in a panel', async () => {
    const text = ['judges:', '  fast:', '    judge: openai:gpt-4o-mini', 'panels:', '  wide:', '    neurons:', '      - judge: fast', '      - judge: slow', ''].join('\n');
    expect(await errorOf('quorum.config.yaml', text)).toEqual([
      'error: quorum.config.yaml:8: panels.wide.neurons[1].judge: unknown judge "slow" (judges: fast; or give provider:model)',
    ]);
    const layered = ['judges:', '  fast:', '    judge: openai:x', 'panels:', '  deep:', '    layers:', '      - neurons:', '          - judge: fast', '    meta:', '      judge: fats', ''].join('\n');
    expect(await errorOf('quorum.config.yaml', layered)).toEqual([
      'error: quorum.config.yaml:10: panels.deep.meta.judge: unknown judge "fats" (judges: fast; or give provider:model)',
    ]);
  });

  it('a bad provider', async () => {
    const text = ['judge: fast', 'judges:', '  fast:', '    judge: opnai:gpt-4o-mini', ''].join('\n');
    expect(await errorOf('quorum.config.yaml', text)).toEqual([
      'error: quorum.config.yaml:4: judges.fast.judge: unknown provider "opnai" (known: openai, anthropic, llama)',
    ]);
  });

  it('a missing required key points at its parent', async () => {
    const text = ['judges:', '  fast:', '    baseUrl: http://127.0.0.1:8080/v1', ''].join('\n');
    expect(await errorOf('quorum.config.yaml', text)).toEqual(['error: quorum.config.yaml:2: judges.fast.judge: missing (required: string)']);
  });

  it('a wrong type, and a value out of bounds', async () => {
    const text = ['judges:', '  fast:', '    judge: openai:x', '    samples: five', ''].join('\n');
    expect(await errorOf('quorum.config.yaml', text)).toEqual(['error: quorum.config.yaml:4: judges.fast.samples: expected number, got string "five"']);
    const zero = ['judges:', '  fast:', '    judge: openai:x', '    options:', '      maxTokens: 0', ''].join('\n');
    expect(await errorOf('quorum.config.yaml', zero)).toEqual(['error: quorum.config.yaml:5: judges.fast.options.maxTokens: expected at least 1, got number 0']);
  });

  it('an unknown key, with the nearest known one', async () => {
    const text = ['judges:', '  fast:', '    judge: openai:x', '    options:', '      tempreature: 0.5', ''].join('\n');
    expect(await errorOf('quorum.config.yaml', text)).toEqual([
      'error: quorum.config.yaml:5: judges.fast.options.tempreature: unknown key "tempreature" (did you mean "temperature"?)',
    ]);
  });

  it('an API key written where the name of its variable belongs', async () => {
    const text = ['judges:', '  fast:', '    judge: openai:x', '    apiKeyEnv: sk-proj-abc123def456', ''].join('\n');
    const [line] = await errorOf('quorum.config.yaml', text);
    expect(line).toMatch(/^error: quorum\.config\.yaml:4: judges\.fast\.apiKeyEnv: looks like an API key itself/);
    expect(line).not.toContain('sk-proj-abc123def456');
  });

  it('a YAML syntax error', async () => {
    const text = ['judges:', '  fast:', '    judge: openai:x', '    samples: [1, 2', ''].join('\n');
    const out = await errorOf('quorum.config.yaml', text);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^error: quorum\.config\.yaml:\d+: invalid YAML: /);
  });

  it('a JSON syntax error, and JSON validation errors with their line', async () => {
    const broken = ['{', '  "judges": {', '    "fast": { "judge": "openai:x", }', '  }', '}', ''].join('\n');
    expect(await errorOf('quorum.config.json', broken)).toEqual([expect.stringMatching(/^error: quorum\.config\.json:3: invalid JSON: /)]);
    const wrong = ['{', '  "judges": {', '    "fast": {', '      "judge": "openai:x",', '      "concurrency": "4"', '    }', '  }', '}', ''].join('\n');
    expect(await errorOf('quorum.config.json', wrong)).toEqual(['error: quorum.config.json:5: judges.fast.concurrency: expected number, got string "4"']);
  });

  it('a --config file that does not exist', async () => {
    const r = await p.quorum(['score', 'images', '--config', 'nope.yaml', '--judge', 'openai:x']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['error: nope.yaml: no such file (given with --config)']);
  });
});
