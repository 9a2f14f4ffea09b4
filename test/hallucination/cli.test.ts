import { mkdtemp, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iou } from '../../src/hallucination/tiles.js';
import { runQuorum } from '../support/cli.js';
import { startAnthropicServer, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { withDb } from '../scoring/_support.js';
import { TEXT_BOX, TEXTURE_BOX, writeFixtures } from './_fixtures.js';

interface Item {
  system: string;
  key: string;
  status: string;
  score: number | null;
  areaScore: number | null;
  spread: number | null;
  errors: string[];
  tiles: unknown[];
  findings: { kind: string; box: { x0: number; y0: number; x1: number; y1: number }; tiles: number[] }[];
  fidelity: { psnrY: number; ssimY: number; psnrLr: number } | null;
}

describe('quorum hallucination', () => {
  let dir: string;
  let openai: JudgeServer;
  let anthropic: JudgeServer;
  const base = ['--lr', 'lr', '--sr', 'sr-faithful', '--sr', 'sr-texture', '--sr', 'sr-text', '--gt', 'gt', '--db', 'q.db', '--quiet'];
  const run = (args: string[], server: JudgeServer = openai) =>
    runQuorum(['hallucination', ...base, '--judge', `${server.protocol}:sim`, '--base-url', server.url, ...args], {
      cwd: dir,
      env: { ANTHROPIC_API_KEY: 'sk-test', OPENAI_API_KEY: 'sk-test' },
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorum-halluc-'));
    await writeFixtures(dir);
    openai = await startOpenAIServer({ seed: 1 });
    anthropic = await startAnthropicServer({ seed: 1 });
  });
  afterAll(async () => {
    await openai?.close();
    await anthropic?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the planted regions through tiles, ranks the three systems and stores everything (OpenAI)', async () => {
    const r = await run(['--max-side', '512', '--format', 'json', '--run', 'h1']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { items: Item[]; systems: { system: string; rank: number; score: { estimate: number }; findings: Record<string, number> }[] };
    const by = (s: string) => out.items.find((i) => i.system === s) as Item;
    // 768 px with 512-px tiles: 2 x 2 tiles, the judge saw each at native resolution.
    for (const i of out.items) expect(i.tiles).toHaveLength(4);
    expect(by('sr-faithful').score).toBe(0);
    expect(by('sr-faithful').findings).toEqual([]);
    expect(by('sr-texture').score).toBeGreaterThan(0);
    expect(by('sr-text').score).toBeGreaterThan(by('sr-texture').score as number);
    const text = by('sr-text').findings.filter((f) => f.kind === 'text');
    // The text crosses the seam: seen by several tiles, merged into one box.
    expect(text).toHaveLength(1);
    expect(text[0]!.tiles.length).toBeGreaterThan(1);
    expect(iou(text[0]!.box, TEXT_BOX)).toBeGreaterThanOrEqual(0.5);
    const texture = by('sr-texture').findings.filter((f) => f.kind === 'texture');
    expect(texture).toHaveLength(1);
    expect(iou(texture[0]!.box, TEXTURE_BOX)).toBeGreaterThanOrEqual(0.5);
    expect(out.systems.sort((a, b) => a.rank - b.rank).map((s) => s.system)).toEqual(['sr-faithful', 'sr-texture', 'sr-text']);
    expect(out.systems.find((s) => s.system === 'sr-text')!.findings.text).toBe(1);
    // Fidelity beside: the faithful output is closest to the GT and consistent with the input.
    expect(by('sr-faithful').fidelity!.psnrY).toBeGreaterThan(by('sr-texture').fidelity!.psnrY);
    expect(by('sr-faithful').fidelity!.psnrLr).toBeGreaterThan(30);

    const rows = withDb(join(dir, 'q.db'), (db) => db.prepare("SELECT item_key, kind FROM hallucination_findings f JOIN runs r ON r.id = f.run_id WHERE r.name = 'h1' ORDER BY item_key").all());
    expect(rows).toEqual([
      { item_key: 'sr-text/city', kind: 'text' },
      { item_key: 'sr-texture/city', kind: 'texture' },
    ]);

    // Rerun: every call served from the store; `show` prints the same.
    const calls = openai.calls;
    const again = await run(['--max-side', '512', '--format', 'json', '--run', 'h1']);
    expect(again.code, again.stderr).toBe(0);
    expect(openai.calls).toBe(calls);
    expect(JSON.parse(again.stdout).systems).toEqual(JSON.parse(r.stdout).systems);
    const shown = await runQuorum(['show', 'h1', '--db', 'q.db', '--format', 'table'], { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('sr-text');
    expect(shown.stdout).toMatch(/text\(/);
  });

  it('whole images without tiles, through the Anthropic wire format, with samples', async () => {
    const r = await run(['--tiles', 'off', '--samples', '2', '--format', 'jsonl', '--run', 'h2'], anthropic);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Item & { type: string });
    const items = rows.filter((x) => x.type === 'item');
    expect(items.map((i) => i.tiles.length)).toEqual([1, 1, 1]);
    const text = items.find((i) => i.system === 'sr-text') as Item;
    expect(text.spread).toBe(0);
    expect(iou(text.findings.find((f) => f.kind === 'text')!.box, TEXT_BOX)).toBeGreaterThanOrEqual(0.5);
    expect(items.find((i) => i.system === 'sr-faithful')!.score).toBe(0);
    expect(anthropic.calls).toBe(6);
  });

  it('--prompt takes a template of task hallucination: its words are sent, the answer is the same JSON, the run records it', async () => {
    const words = 'Compare the bicubic input and the output; list every invented element with a box, then score 0-4 as JSON.';
    await writeFile(
      join(dir, 'mine.md'),
      ['---', 'id: my-hallucination', 'version: 2', 'kind: report', 'task: hallucination', 'range: 0, 4', '---', '## system', 'You check SR outputs.', '## user', words, ''].join('\n'),
    );
    const before = openai.requests.length;
    const r = await run(['--tiles', 'off', '--prompt', 'mine.md', '--format', 'json', '--run', 'mine']);
    expect(r.code, r.stderr).toBe(0);
    const sent = openai.requests.slice(before).map((q) => JSON.stringify(q.body));
    expect(sent).toHaveLength(3);
    for (const body of sent) expect(body).toContain(words);
    const text = (JSON.parse(r.stdout) as { items: Item[] }).items.find((i) => i.system === 'sr-text') as Item;
    expect(iou(text.findings.find((f) => f.kind === 'text')!.box, TEXT_BOX)).toBeGreaterThanOrEqual(0.5);
    const row = withDb(join(dir, 'q.db'), (db) => db.prepare("SELECT options FROM runs WHERE name = 'mine'").get() as { options: string });
    expect(JSON.parse(row.options).prompt).toMatchObject({ id: 'my-hallucination', version: 2 });
  });

  it('--prompt of another task is a usage error naming it; nothing is sent', async () => {
    const before = openai.requests.length;
    const r = await run(['--prompt', 'quality-report']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Expected `prompt` to be a template of task `hallucination` \(kind report\), got `quality-report` of task `single`/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(openai.requests.length).toBe(before);
  });

  it('bad triplets: each gets its reason, the rest proceeds; --dry-run sends nothing', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'quorum-halluc-bad-'));
    for (const sub of ['lr', 'gt', 'sr']) await mkdir(join(bad, sub));
    await copyFile(join(dir, 'lr', 'city.png'), join(bad, 'lr', 'good.png'));
    await copyFile(join(dir, 'gt', 'city.png'), join(bad, 'gt', 'good.png'));
    await copyFile(join(dir, 'sr-text', 'city.png'), join(bad, 'sr', 'good.png'));
    // Not an integer multiple: 770 px from 192 px.
    await copyFile(join(dir, 'lr', 'city.png'), join(bad, 'lr', 'odd.png'));
    await copyFile(join(dir, 'gt', 'city.png'), join(bad, 'gt', 'odd.png'));
    await writeFile(join(bad, 'sr', 'odd.png'), await sharp(join(dir, 'sr-text', 'city.png')).resize(770, 770).png().toBuffer());
    // No LR; no GT; unreadable.
    await copyFile(join(dir, 'sr-text', 'city.png'), join(bad, 'sr', 'nolr.png'));
    await copyFile(join(dir, 'gt', 'city.png'), join(bad, 'gt', 'nolr.png'));
    await copyFile(join(dir, 'lr', 'city.png'), join(bad, 'lr', 'nogt.png'));
    await copyFile(join(dir, 'sr-text', 'city.png'), join(bad, 'sr', 'nogt.png'));
    await copyFile(join(dir, 'lr', 'city.png'), join(bad, 'lr', 'broken.png'));
    await copyFile(join(dir, 'gt', 'city.png'), join(bad, 'gt', 'broken.png'));
    await writeFile(join(bad, 'sr', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
    const args = ['hallucination', '--lr', 'lr', '--sr', 'sr', '--gt', 'gt', '--judge', 'openai:sim', '--base-url', openai.url, '--db', 'q.db', '--quiet', '--tiles', 'off'];
    try {
      const before = openai.requests.length;
      const dry = await runQuorum([...args, '--dry-run', '--format', 'json'], { cwd: bad, env: { OPENAI_API_KEY: 'sk-test' } });
      expect(openai.requests.length).toBe(before);
      expect(dry.code).toBe(1);
      const plan = JSON.parse(dry.stdout) as { calls: number; items: { key: string; status: string; reason: string }[] };
      expect(plan.calls).toBe(1);
      expect(plan.items.find((i) => i.key === 'good')!.status).toBe('planned');

      const r = await runQuorum([...args, '--format', 'json'], { cwd: bad, env: { OPENAI_API_KEY: 'sk-test' } });
      expect(r.code).toBe(1);
      const items = (JSON.parse(r.stdout) as { items: Item[] }).items;
      const reason = (key: string) => items.find((i) => i.key === key)!.errors.join(' ');
      expect(items.find((i) => i.key === 'good')!.status).toBe('ok');
      for (const key of ['odd', 'nolr', 'nogt', 'broken']) expect(items.find((i) => i.key === key)!.status).toBe('error');
      expect(reason('odd')).toMatch(/770x770 is not an integer multiple of its LR input 192x192/);
      expect(reason('nolr')).toMatch(/no LR input `nolr`/);
      expect(reason('nogt')).toMatch(/no ground truth `nogt`/);
      expect(reason('broken')).toMatch(/broken\.png/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // Dry-run reasons are the same as the run's.
      expect(plan.items.find((i) => i.key === 'odd')!.reason).toMatch(/not an integer multiple/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
