/**
 * Pairwise panels through the real CLI (`node bin/quorum.js`, built dist/): `compare` and
 * `rank --strategy round-robin` with `--judge panel:NAME` against simulated judges on
 * 127.0.0.1 (two that read the pixels with noise, one that never answers in format);
 * escalation by the cheap judge's order disagreement; a rerun sends nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';
import { completions, panelConfig, tempDir, textOf, messagesOf, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-test-pair-panels';
let tmp: TempDir;
const servers: JudgeServer[] = [];
/** Quality of content i in system s: system s is `s * 0.5` better. */
const quality = (i: number, s: number) => 1.6 + i * 0.3 + s * 0.5;

beforeAll(async () => {
  tmp = await tempDir();
  for (const [s, name] of ['A', 'B', 'C'].entries()) {
    await mkdir(tmp.path(name));
    for (let i = 0; i < 6; i++) await writeFile(join(tmp.path(name), `img${i}.png`), await makeTestImage({ quality: quality(i, s), seed: 10 * s + i }));
  }
  servers.push(
    await startOpenAIServer({ apiKey: KEY, seed: 1, noiseSd: 0.2 }),
    await startOpenAIServer({ apiKey: KEY, seed: 2, noiseSd: 0.3 }),
    await startOpenAIServer({ apiKey: KEY, seed: 3, faultRate: 1, faultKinds: [{ kind: 'missing-tags' }] }),
    // The cheap judge: a strong first-slot bias makes its two orders disagree on close pairs.
    await startOpenAIServer({ apiKey: KEY, seed: 4, noiseSd: 0.4, firstSlotBias: 1 }),
  );
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp.cleanup();
});

async function configFile(name: string, panel: string[]): Promise<string> {
  const file = tmp.path(name);
  await writeFile(file, panelConfig(servers, 'trio', panel));
  return file;
}

const TRIO = ['samples: 2', 'neurons:', '  - judge: sim1', '  - judge: sim2', '  - judge: sim3', '    role: colour'];
const run = (args: string[]) => runQuorum([...args, '--quiet'], { env: { SIM_KEY: KEY }, cwd: tmp.dir });
const requests = () => servers.map((s) => completions(s).length);

type Review = { neuron: number; role: string; status: string; preference: number | null };
type Pair = {
  key: string;
  status: string;
  verdict: string | null;
  preference: number | null;
  orders: unknown[];
  panel: { escalated: boolean; neuronsUsed: number; reviews: Review[]; failedNeurons: string[]; cheap: { consistent: boolean | null } | null };
};

describe('compare --judge panel:NAME', () => {
  it('fuses the neurons that answered into the right winner, records the failing neuron, and a rerun sends nothing', async () => {
    const file = await configFile('trio.yaml', TRIO);
    const args = ['compare', 'A', 'C', '--judge', 'panel:trio', '--config', file, '--db', 'cmp.db', '--format', 'json'];
    const before = requests();
    const first = await run(args);
    expect(first.stderr).not.toMatch(/at .*\.js:\d+/);
    // The failing neuron leaves pairs with a verdict: exit 0.
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout) as { pairs: Pair[]; summary: { winsB: number; winsA: number; judged: number; bradleyTerry: { estimate: number } | null } };
    expect(out.pairs).toHaveLength(6);
    for (const p of out.pairs) {
      expect(p.status).toBe('ok');
      expect(p.verdict).toBe('b');
      expect(p.panel.neuronsUsed).toBe(2);
      expect(p.panel.reviews.map((r) => [r.role, r.status])).toEqual([
        ['sharpness and detail', 'ok'],
        ['noise and grain', 'ok'],
        ['colour', 'failed'],
      ]);
      expect(p.panel.failedNeurons[0]).toMatch(/^neuron 3 \(openai:sim, colour\): /);
      // Both orders of every neuron are kept.
      expect(p.orders).toHaveLength(6);
    }
    expect(out.summary.judged).toBe(6);
    expect(out.summary.winsB).toBe(6);
    expect(out.summary.bradleyTerry?.estimate).toBeGreaterThan(0);
    expect(first.stderr).toMatch(/neuron 3 \(openai:sim, colour\) failed on 6 of 6 pair\(s\)/);
    // Every neuron judged every pair in both orders; the role is in the pair prompt.
    const sent = requests().map((n, i) => n - (before[i] as number));
    expect(sent[0]).toBe(12);
    expect(sent[1]).toBe(12);
    expect(sent[3]).toBe(0);
    const prompt = completions(servers[1]!).map((r) => messagesOf(r).map((m) => textOf(m.content)).join('\n')).at(-1);
    expect(prompt).toMatch(/one angle above all: noise and grain/);

    const again = await run(args);
    expect(again.code, again.stderr).toBe(0);
    expect(requests()).toEqual(requests().map((_, i) => (before[i] as number) + (sent[i] as number)));
    expect((JSON.parse(again.stdout) as { pairs: Pair[] }).pairs.map((p) => p.preference)).toEqual(out.pairs.map((p) => p.preference));
  }, 120_000);

  it('minNeurons above the neurons that answer marks every pair failed and says why', async () => {
    const file = await configFile('strict.yaml', ['minNeurons: 3', ...TRIO]);
    const r = await run(['compare', 'A', 'B', '--judge', 'panel:trio', '--config', file, '--db', 'cmp.db', '--format', 'json']);
    expect(r.code).toBe(1);
    const pairs = (JSON.parse(r.stdout) as { pairs: Pair[] }).pairs;
    expect(pairs.every((p) => p.status === 'failed' && p.verdict === null)).toBe(true);
    expect(r.stderr).toMatch(/only 2 of 3 neurons answered \(at least 3 needed\)/);
  }, 120_000);

  it('escalation by disagreement calls the panel only on the pairs whose two orders the cheap judge split', async () => {
    const file = await configFile('cascade.yaml', ['samples: 1', 'escalation: { judge: sim4, disagree: true }', 'neurons:', '  - judge: sim1', '  - judge: sim2']);
    const before = requests();
    const r = await run(['compare', 'A', 'C', '--judge', 'panel:trio', '--config', file, '--db', 'esc.db', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const pairs = (JSON.parse(r.stdout) as { pairs: Pair[] }).pairs;
    const escalated = pairs.filter((p) => p.panel.escalated);
    // Some pairs each way, or the test proves nothing.
    expect(escalated.length).toBeGreaterThan(0);
    expect(escalated.length).toBeLessThan(pairs.length);
    for (const p of pairs) expect(p.panel.escalated).toBe(p.panel.cheap?.consistent !== true);
    const sent = requests().map((n, i) => n - (before[i] as number));
    expect(sent[3]).toBe(2 * pairs.length);
    // One request per order per neuron (samples: 1), only for the escalated pairs.
    expect(sent[0]).toBe(2 * escalated.length);
    expect(sent[1]).toBe(2 * escalated.length);
  }, 120_000);

  it('--dry-run plans every neuron with its role, sends nothing, and the real run sends what it planned', async () => {
    const file = await configFile('trio.yaml', TRIO);
    const before = requests();
    const dry = await run(['compare', 'A', 'B', '--judge', 'panel:trio', '--config', file, '--db', 'dry.db', '--dry-run', '--format', 'json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(requests()).toEqual(before);
    const plan = JSON.parse(dry.stdout) as { judges: { name: string; requests: number; samples: number; cached: number }[] };
    expect(plan.judges.map((j) => j.name)).toEqual(['panel:trio neuron 1 (sharpness and detail)', 'panel:trio neuron 2 (noise and grain)', 'panel:trio neuron 3 (colour)']);
    for (const j of plan.judges) expect(j).toMatchObject({ samples: 24, cached: 0 });
    const real = await run(['compare', 'A', 'B', '--judge', 'panel:trio', '--config', file, '--db', 'dry.db']);
    expect(real.code, real.stderr).toBe(0);
    const sent = requests().map((n, i) => n - (before[i] as number));
    // The two neurons that answer send exactly the planned requests (the third's unparseable answers are asked again).
    expect(sent.slice(0, 2)).toEqual(plan.judges.slice(0, 2).map((j) => j.requests));
  });
});

describe('rank --judge panel:NAME', () => {
  it('round-robin with a panel orders the systems right; a rerun sends nothing', async () => {
    const file = await configFile('trio.yaml', TRIO);
    const args = ['rank', 'A', 'B', 'C', '--strategy', 'round-robin', '--judge', 'panel:trio', '--config', file, '--db', 'rank.db', '--format', 'json'];
    const first = await run(args);
    expect(first.code, first.stderr).toBe(0);
    const ranking = (JSON.parse(first.stdout) as { ranking: { name: string; rank: number }[] }).ranking;
    expect(ranking.map((r) => r.name)).toEqual(['C', 'B', 'A']);
    expect(first.stderr).toMatch(/neuron 3 \(openai:sim, colour\) failed on 18 of 18 pair\(s\)/);
    const before = requests();
    const again = await run(args);
    expect(again.code, again.stderr).toBe(0);
    expect(requests()).toEqual(before);
  }, 120_000);
});
