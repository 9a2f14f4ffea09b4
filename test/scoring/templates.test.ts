/**
 * Descriptive reports through each provider's structured-output mode, and user template
 * files: used as written, recorded with their hash, and a bad file named in a clear error.
 */
import { writeFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTemplates, compareLevels, hallucinationReport } from '../../src/prompts/builtin.js';
import { defineBuiltinTemplate, defineTemplate, type TemplateSpec } from '../../src/prompts/template.js';
import { metaTemplate, neuronHallucinationTemplate, neuronPairTemplate, neuronTemplate, rolesTemplate } from '../../src/judges/panels/_prompts.js';
import { runQuorum } from '../support/cli.js';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { tempDir, writeImages, type TempDir } from './_support.js';

let tmp: TempDir;
let openai: JudgeServer;
let anthropic: JudgeServer;
beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, [
    { name: 'noisy.png', quality: 1.6 },
    { name: 'clean.png', quality: 4.6 },
  ]);
  openai = await startOpenAIServer({ seed: 5 });
  anthropic = await startAnthropicServer({ seed: 5, apiKey: 'sk-ant-test' });
});
afterAll(async () => {
  await openai?.close();
  await anthropic?.close();
  await tmp?.cleanup();
});

interface Report {
  path: string;
  score: number;
  method: string;
  distortions: { type: string; severity: string; location: string }[];
  reasoning: string;
}

describe('quality-report', () => {
  it('uses OpenAI json_schema and returns distortions with severity and location', async () => {
    const r = await runQuorum(
      ['score', tmp.images, '--judge', 'openai:sim', '--base-url', openai.url, '--prompt', 'quality-report', '--samples', '2', '--format', 'json', '--db', tmp.path('r1.db')],
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Report[];
    const byName = Object.fromEntries(out.map((x) => [x.path.split('/').at(-1), x]));
    expect(byName['noisy.png']?.method).toBe('report');
    expect(byName['noisy.png']?.score).toBeLessThan(byName['clean.png']?.score as number);
    expect(byName['noisy.png']?.distortions.length).toBeGreaterThan(0);
    for (const d of byName['noisy.png']?.distortions ?? []) {
      expect(['minor', 'moderate', 'severe']).toContain(d.severity);
      expect(d.location.length).toBeGreaterThan(0);
    }
    expect(byName['noisy.png']?.reasoning.length).toBeGreaterThan(0);
    const body = openai.requests.at(-1)?.body as { response_format?: { type: string; json_schema: { name: string; strict: boolean } } };
    expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'quality_report', strict: true } });
  });

  it('uses Anthropic forced tool use', async () => {
    const r = await runQuorum(
      ['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', anthropic.url, '--prompt', 'quality-report', '--samples', '1', '--format', 'json', '--db', tmp.path('r2.db')],
      { env: { ANTHROPIC_API_KEY: 'sk-ant-test' } },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Report[];
    expect(out.every((x) => x.distortions !== null && x.score >= 1 && x.score <= 5)).toBe(true);
    const body = anthropic.requests.at(-1)?.body as { tools: { name: string }[]; tool_choice: { type: string; name: string } };
    expect(body.tools.map((t) => t.name)).toEqual(['quality_report']);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'quality_report' });
  });
});

describe('built-in templates', () => {
  // Quorum's own templates skip zod (a cached run never loads it): each must come out as
  // zod's parse makes it, defaults, key order and hash included, whichever fields it omits.
  const review = { neuron: 1, role: 'noise', score: 3.25, reasoning: 'grainy shadows' };
  const ours = [
    ...builtinTemplates,
    neuronTemplate('sharpness'),
    neuronTemplate('sharpness', 2, review, [{ ...review, neuron: 2, reasoning: null }]),
    metaTemplate([review], ['neuron 3 (openai:sim, exposure): no answer']),
    rolesTemplate(4),
    neuronPairTemplate(compareLevels, 'colour'),
    neuronHallucinationTemplate(hallucinationReport, 'text'),
  ];
  const defaulted = ['task', 'description', 'system', 'range'] as const;

  it('come out of defineBuiltinTemplate exactly as defineTemplate (zod) makes them', () => {
    for (const template of ours) {
      const { hash: _h, source: _s, ...full } = template;
      for (let mask = 0; mask < 1 << defaulted.length; mask++) {
        const spec: Record<string, unknown> = { ...full };
        defaulted.forEach((key, i) => mask & (1 << i) && delete spec[key]);
        expect(JSON.stringify(defineBuiltinTemplate(spec as TemplateSpec))).toBe(JSON.stringify(defineTemplate(spec as TemplateSpec)));
      }
    }
  });

  it('still meet the rules across fields', () => {
    const levels: TemplateSpec = { id: 'x', version: 1, kind: 'levels', user: 'Rate it.', levels: ['good', 'bad'] };
    expect(() => defineBuiltinTemplate(levels)).toThrow('Template x: a levels template needs `prefix` and `levels`');
    expect(() => defineBuiltinTemplate({ ...levels, prefix: 'It is', weights: [1] })).toThrow('Template x: `weights` must have one number per level');
  });
});

describe('user templates', () => {
  const template = (version: number, question: string) => `---
id: grain-only
version: ${version}
kind: sample
range: 1, 5
---
## system
You judge film grain only.

## user
${question}
Think inside <think> </think>, then give one number with two decimals in <answer> </answer>.
`;

  it('sends the file as written, stores its hash, and a changed file is a new cache key', async () => {
    const file = tmp.path('grain.md');
    await writeFile(file, template(1, 'How clean of grain is this image, from 1 to 5?'));
    const args = ['score', tmp.images, '--judge', 'openai:sim', '--base-url', openai.url, '--prompt', file, '--samples', '2', '--format', 'json', '--db', tmp.path('t.db')];
    const before = openai.calls;
    const r = await runQuorum(args);
    expect(r.code, r.stderr).toBe(0);
    expect(openai.calls - before).toBe(2);
    const body = openai.requests.at(-1)?.body as { messages: { role: string; content: string | { type: string; text?: string }[] }[] };
    expect(body.messages[0]).toEqual({ role: 'system', content: 'You judge film grain only.' });
    const userText = (body.messages[1]?.content as { type: string; text?: string }[]).find((p) => p.type === 'text')?.text;
    expect(userText).toContain('How clean of grain is this image');

    // Same file again: cached. Edited file: new hash, new calls.
    await runQuorum(args);
    expect(openai.calls - before).toBe(2);
    await writeFile(file, template(2, 'Rate the grain from 1 (heavy) to 5 (none).'));
    const edited = await runQuorum(args);
    expect(edited.code).toBe(0);
    expect(openai.calls - before).toBe(4);

    const db = new Database(tmp.path('t.db'), { readonly: true });
    try {
      const prompts = db.prepare("SELECT id, version, hash FROM prompts WHERE id = 'grain-only' ORDER BY version").all() as { version: number; hash: string }[];
      expect(prompts.map((p) => p.version)).toEqual([1, 2]);
      expect(prompts[0]?.hash).not.toBe(prompts[1]?.hash);
      const used = db.prepare('SELECT DISTINCT prompt_hash FROM calls').all() as { prompt_hash: string }[];
      expect(used.map((u) => u.prompt_hash).sort()).toEqual(prompts.map((p) => p.hash).sort());
    } finally {
      db.close();
    }
  });

  it('names the file and the problem for a bad template, before any call', async () => {
    const file = tmp.path('broken.md');
    await writeFile(file, '---\nid: Broken Id\nversion: 1\nkind: sample\n---\n## system\nno user section\n');
    const before = openai.calls;
    const r = await runQuorum(['score', tmp.images, '--judge', 'openai:sim', '--base-url', openai.url, '--prompt', file, '--db', tmp.path('b.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Prompt template ${file}:`);
    expect(r.stderr).toMatch(/user/);
    expect(openai.calls).toBe(before);
  });
});
