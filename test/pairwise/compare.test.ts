import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';

/**
 * `quorum compare` against the simulated judge: system B is truly better than A on every
 * content (+0.4 quality), and the judge is given a strong first-slot bias. Judged in one
 * fixed order (A first) the bias wins; judged in both orders and mapped back, the truth does.
 */
describe('quorum compare', () => {
  let dir: string;
  let server: JudgeServer;
  const run = (args: string[]) =>
    runQuorum(['compare', 'A', 'B', '--judge', 'openai:sim', '--base-url', server.url, '--db', 'q.db', '--quiet', ...args], {
      cwd: dir,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorum-compare-'));
    await mkdir(join(dir, 'A'));
    await mkdir(join(dir, 'B'));
    await mkdir(join(dir, 'ref'));
    for (let i = 0; i < 10; i++) {
      const q = 1.6 + i * 0.25;
      await writeFile(join(dir, 'A', `img${i}.png`), await makeTestImage({ quality: q, seed: i }));
      // Extension differs on purpose: outputs are matched by relative path without it.
      await writeFile(join(dir, 'B', `img${i}.jpg`), await makeTestImage({ quality: q + 0.4, seed: 100 + i, format: 'jpeg' }));
      await writeFile(join(dir, 'ref', `img${i}.png`), await makeTestImage({ quality: 4.9, seed: 200 + i }));
    }
    await writeFile(join(dir, 'B', 'only-in-b.png'), await makeTestImage({ quality: 3, seed: 999 }));
    server = await startOpenAIServer({ seed: 3, noiseSd: 0.25, firstSlotBias: 1.2 });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a fixed order is fooled by a strong first-slot bias; both orders expose the verdicts as position artefacts', async () => {
    const fixed = await run(['--order', 'fixed', '--format', 'json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    const f = JSON.parse(fixed.stdout);
    // Fooled: with A always first, A "wins" although B is better everywhere.
    expect(f.summary.winsA).toBeGreaterThan(f.summary.winsB);
    expect(f.summary.bradleyTerry.estimate).toBeLessThan(0);
    expect(f.pairs).toHaveLength(10);
    expect(f.pairs[0].orders).toHaveLength(1);

    const both = await run(['--order', 'both', '--format', 'json']);
    expect(both.code, both.stderr).toBe(0);
    const b = JSON.parse(both.stdout);
    for (const pair of b.pairs) expect(pair.orders).toHaveLength(2);
    // The slot decides every order (bias 1.2 against a true difference of 0.4): the two
    // orders disagree and the summary says so instead of a Bradley-Terry difference that
    // would sit near 0 with a near-zero-width interval.
    expect(b.summary.positionBias.firstSlotPreference).toBeGreaterThan(0.9);
    expect(b.summary.positionBias.swapDisagreementRate).toBeGreaterThan(0.9);
    expect(b.summary.positionArtefacts).toBe(true);
    expect(b.summary.bradleyTerry).toBeNull();
    expect(b.summary.winRateB.lower).toBeLessThan(0.5);
    expect(b.summary.winRateB.upper).toBeGreaterThan(0.5);
    // Disagreeing pairs are ties, listed by key.
    const disagreeing = b.pairs.filter((p: { consistent: boolean }) => p.consistent === false).map((p: { key: string }) => p.key);
    expect(b.summary.inconsistent).toEqual(disagreeing);
    expect(b.summary.leastConsistent.length).toBeGreaterThan(0);
    // Unmatched files are listed, not fatal.
    expect(b.unmatched.map((u: { path: string }) => u.path)).toEqual([join('B', 'only-in-b.png')]);
    expect(both.stderr).toContain('unmatched: B/only-in-b.png');

    const table = await run(['--order', 'both']);
    expect(table.stdout).toContain('POSITION ARTEFACTS: the verdicts follow the slot, not the images');
    expect(table.stdout).not.toContain('Bradley-Terry B-A');
  });

  it('with a mild first-slot bias both orders recover the true winner, with an interval that excludes 0', async () => {
    const mild = await startOpenAIServer({ seed: 3, noiseSd: 0.25, firstSlotBias: 0.3 });
    try {
      const r = await runQuorum(
        ['compare', 'A', 'B', '--judge', 'openai:sim', '--base-url', mild.url, '--db', 'mild.db', '--quiet', '--format', 'json'],
        { cwd: dir },
      );
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout).summary;
      expect(s.positionArtefacts).toBe(false);
      expect(s.winsB).toBeGreaterThan(s.winsA);
      expect(s.bradleyTerry.estimate).toBeGreaterThan(0);
      expect(s.bradleyTerry.lower).toBeGreaterThan(0);
      expect(s.winRateB.lower).toBeGreaterThan(0.5);
    } finally {
      await mild.close();
    }
  });

  it('stores every comparison, prints it again without calls, and serves a rerun from cache', async () => {
    const first = await run(['--order', 'both', '--format', 'json', '--run', 'cmp']);
    expect(first.code).toBe(0);
    const before = server.calls;
    const again = await run(['--order', 'both', '--format', 'json', '--run', 'cmp']);
    expect(again.code).toBe(0);
    expect(server.calls).toBe(before);
    expect(JSON.parse(again.stdout).summary).toEqual(JSON.parse(first.stdout).summary);

    const shown = await runQuorum(['show', 'cmp', '--db', 'q.db', '--format', 'json'], { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).summary).toEqual(JSON.parse(first.stdout).summary);
    expect(server.calls).toBe(before);

    const db = new Database(join(dir, 'q.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT value FROM results r JOIN runs ON runs.id = r.run_id WHERE runs.name = 'cmp' AND kind = 'pair'")
        .all() as { value: string }[];
      expect(rows).toHaveLength(10);
      const pair = JSON.parse((rows[0] as { value: string }).value);
      for (const order of pair.orders) {
        expect(order.levels).toHaveLength(5);
        expect(order.callIds.length).toBe(1);
        const call = db.prepare('SELECT raw, status, image_hashes FROM calls WHERE id = ?').get(order.callIds[0]) as {
          raw: string;
          status: string;
          image_hashes: string;
        };
        expect(call.status).toBe('ok');
        expect(call.raw.length).toBeGreaterThan(0);
        expect(JSON.parse(call.image_hashes)).toEqual([order.first, order.second]);
      }
    } finally {
      db.close();
    }
  });

  it('adds the reference image and samples verdicts when asked', async () => {
    const r = await run(['--ref', 'ref', '--prompt', 'compare-sample', '--samples', '2', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.judged).toBe(10);
    const request = server.requests.at(-1)?.body as { messages: { content: { type: string; text?: string }[] }[] };
    const texts = request.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((p) => p.type === 'text');
    expect(texts.map((t) => t.text)).toEqual(expect.arrayContaining(['Reference Image:', 'Image A:', 'Image B:']));
    for (const pair of out.pairs) for (const order of pair.orders) expect(order.ok).toBe(2);
  });
});
