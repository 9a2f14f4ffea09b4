/**
 * `--dry-run` sends nothing and creates no run, and what it plans is what the real run
 * then does: the same number of requests reach the server and the same number of samples
 * are stored; after the run, the plan is all cached.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';
import { completions, withDb } from '../scoring/_support.js';
import { project, type Project } from './_support.js';

interface Plan {
  command: string;
  dryRun: true;
  judges: { judge: string; name?: string; samples: number; cached: number; requests: number; probes: number; inputTokens: number; outputTokensAtMost: number; costUsdAtMost: number | null; batchCostUsdAtMost: number | null }[];
}

let p: Project;
let server: JudgeServer;
beforeAll(async () => {
  p = await project(4);
  server = await startOpenAIServer({ seed: 9 });
  for (const side of ['A', 'B']) {
    await mkdir(p.path(side));
    for (let i = 0; i < 3; i++) await writeFile(p.path(side, `img${i}.png`), await makeTestImage({ quality: 2 + i * 0.5 + (side === 'B' ? 0.4 : 0), seed: i + (side === 'B' ? 50 : 0) }));
  }
});
afterAll(async () => {
  await server.close();
  await p.cleanup();
});

const judge = () => ['--judge', 'openai:sim', '--base-url', server.url, '--quiet'];

/** Dry run (asserting it sent nothing), then the real run; returns the plan and what the run did. */
async function planThenRun(args: string[], db: string): Promise<{ plan: Plan['judges'][number]; sent: number; stored: number; replanned: Plan['judges'][number] }> {
  const before = server.requests.length;
  const dry = await p.quorum([...args, ...judge(), '--db', db, '--dry-run', '--format', 'json']);
  expect(dry.code, dry.stderr).toBe(0);
  expect(server.requests.length - before).toBe(0);
  expect(existsSync(p.path(db))).toBe(false);
  const plan = (JSON.parse(dry.stdout) as Plan).judges[0]!;

  const real = await p.quorum([...args, ...judge(), '--db', db]);
  expect(real.code, real.stderr).toBe(0);
  const sent = completions(server, before).length;
  const stored = withDb(p.path(db), (d) => (d.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n);

  const after = server.requests.length;
  const again = await p.quorum([...args, ...judge(), '--db', db, '--dry-run', '--format', 'json']);
  expect(again.code, again.stderr).toBe(0);
  expect(server.requests.length).toBe(after);
  return { plan, sent, stored, replanned: (JSON.parse(again.stdout) as Plan).judges[0]! };
}

describe('--dry-run', () => {
  it('score: zero requests, then the run sends exactly the planned requests and stores the planned samples', async () => {
    const { plan, sent, stored, replanned } = await planThenRun(['score', 'images', '--method', 'sample', '--samples', '3'], 'score.db');
    expect(plan).toMatchObject({ judge: 'openai:sim', samples: 12, cached: 0, requests: 4, probes: 0 });
    expect(sent).toBe(plan.requests);
    expect(stored).toBe(plan.samples);
    expect(plan.inputTokens).toBeGreaterThan(0);
    expect(plan.outputTokensAtMost).toBe(12 * 1024);
    expect(replanned).toMatchObject({ samples: 12, cached: 12, requests: 0, inputTokens: 0 });
  });

  it('score --method auto counts the one log-probability probe a new judge gets', async () => {
    const { plan, sent, stored } = await planThenRun(['score', 'images'], 'auto.db');
    expect(plan).toMatchObject({ samples: 4, requests: 5, probes: 1 });
    expect(sent).toBe(plan.requests);
    expect(stored).toBe(plan.samples);
  });

  it('compare: both orders of every matched pair', async () => {
    const { plan, sent, stored, replanned } = await planThenRun(['compare', 'A', 'B', '--prompt', 'compare-sample', '--samples', '2'], 'compare.db');
    expect(plan).toMatchObject({ samples: 12, requests: 6 });
    expect(sent).toBe(plan.requests);
    expect(stored).toBe(plan.samples);
    expect(replanned).toMatchObject({ cached: 12, requests: 0 });
  });

  it('rank --strategy round-robin: every pair in both orders', async () => {
    const { plan, sent, stored, replanned } = await planThenRun(['rank', '--items', 'images', '--strategy', 'round-robin', '--prompt', 'compare-sample', '--samples', '2'], 'rank.db');
    // 4 images: 6 pairs, 12 orders, 2 samples each (one request per order).
    expect(plan).toMatchObject({ samples: 24, requests: 12 });
    expect(sent).toBe(plan.requests);
    expect(stored).toBe(plan.samples);
    expect(replanned).toMatchObject({ cached: 24, requests: 0 });
  });

  it('prints a readable plan by default, with the cost where the judge has a price', async () => {
    await p.write('quorum.config.yaml', ['judges:', '  priced:', '    judge: openai:sim', `    baseUrl: ${server.url}`, '    price: { input: 1, output: 2 }', ''].join('\n'));
    const before = server.requests.length;
    const r = await p.quorum(['score', join('images'), '--judge', 'priced', '--method', 'sample', '--samples', '2', '--db', 'text.db', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.requests.length).toBe(before);
    expect(r.stdout).toContain('dry run of score: nothing was sent and no run was created');
    expect(r.stdout).toContain('judge openai:sim (priced): method sample, prompt quality-score');
    expect(r.stdout).toMatch(/4 image\(s\) x 2 sample\(s\) = 8 sample\(s\), 0 cached, 8 to ask/);
    // Beside the live cost, the same tokens at the batch API's price (half, for OpenAI).
    const [, live, batch] = /at most \$(\d+\.\d+) \(with --batch: \$(\d+\.\d+)\)/.exec(r.stdout) ?? [];
    expect(Number(batch)).toBeCloseTo(Number(live) / 2, 3);
    expect(Number(live)).toBeGreaterThan(0);
  });
});
