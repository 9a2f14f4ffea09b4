/**
 * `quorum score` and `quorum compare` with `--judge llama:` end to end, through the CLI
 * over the compiled `dist/`, with the real engines on the tiny random model.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { badModels } from '../support/gguf/index.js';
import { tinyModels, type TinyModels } from './fixtures.js';

let m: TinyModels;
let images: string;
beforeAll(async () => {
  m = tinyModels();
  images = join(m.dir, 'images');
  mkdirSync(images);
  for (let i = 0; i < 3; i++) {
    const png = await sharp({ create: { width: 40, height: 32, channels: 3, background: { r: 60 * i, g: 120, b: 200 - 50 * i } } }).png().toBuffer();
    writeFileSync(join(images, `img-${i}.png`), png);
  }
});
afterAll(() => m.cleanup());

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const llama = (): string[] => ['--judge', `llama:${m.model}`, '--mmproj', m.mmproj, '--threads', '1'];

interface CallRow {
  status: string;
  image_hashes: string;
  sample_index: number;
  meta: Record<string, unknown>;
  attempts: number;
}
function calls(db: string): CallRow[] {
  const d = new Database(db, { fileMustExist: true });
  try {
    const rows = d.prepare('SELECT status, sample_index, meta, attempts, image_hashes FROM calls ORDER BY id').all() as (Omit<CallRow, 'meta'> & { meta: string })[];
    return rows.map((r) => ({ ...r, meta: JSON.parse(r.meta) as Record<string, unknown> }));
  } finally {
    d.close();
  }
}

interface Scored {
  status: string;
  score: number | null;
  samples: number[];
  levels: Record<string, number> | null;
  coverage: number | null;
}

describe('quorum with a llama: judge', () => {
  it('scores with the levels method: exact probabilities, one evaluation per image, fingerprints stored', async () => {
    const db = join(m.dir, 'levels.db');
    const r = await runQuorum(['score', images, ...llama(), '--method', 'levels', '--format', 'json', '--db', db]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const scores = JSON.parse(r.stdout) as Scored[];
    expect(scores).toHaveLength(3);
    for (const s of scores) {
      expect(s.status).toBe('ok');
      const total = Object.values(s.levels!).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(1, 9);
      expect(s.score).toBeGreaterThanOrEqual(1);
      expect(s.score).toBeLessThanOrEqual(5);
    }
    const rows = calls(db);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.meta).toMatchObject({
        engine: '@fugood/llama.node@1.7.15',
        modelSha256: sha(m.model),
        mmprojSha256: sha(m.mmproj),
        promptEvaluations: 1,
      });
      expect(row.meta.distributionSum as number).toBeCloseTo(1, 5);
    }
  });

  it('scores with K samples from one prompt evaluation per image, every answer parsed', async () => {
    const db = join(m.dir, 'sample.db');
    const r = await runQuorum(['score', images, ...llama(), '--method', 'sample', '--samples', '4', '--seed', '7', '--format', 'json', '--db', db]);
    expect(r.code).toBe(0);
    const scores = JSON.parse(r.stdout) as Scored[];
    for (const s of scores) {
      expect(s.status).toBe('ok');
      expect(s.samples).toHaveLength(4);
      for (const v of s.samples) expect(v >= 1 && v <= 5).toBe(true);
    }
    const rows = calls(db);
    expect(rows).toHaveLength(12);
    expect(rows.every((row) => row.status === 'ok')).toBe(true);
    // One request per image for its 4 samples, and that request evaluated its prompt once.
    const byImage = new Map<string, CallRow[]>();
    for (const row of rows) byImage.set(row.image_hashes, [...(byImage.get(row.image_hashes) ?? []), row]);
    expect(byImage.size).toBe(3);
    for (const samples of byImage.values()) {
      expect(samples).toHaveLength(4);
      for (const row of samples) expect(row.meta).toMatchObject({ samples: 4, promptEvaluations: 1 });
    }
  });

  it('compares two folders with reasoned verdicts', async () => {
    const a = join(m.dir, 'sys-a');
    const b = join(m.dir, 'sys-b');
    mkdirSync(a);
    mkdirSync(b);
    const files = readdirSync(images).slice(0, 2);
    files.forEach((f, i) => {
      copyFileSync(join(images, f), join(a, f));
      copyFileSync(join(images, files[(i + 1) % files.length]!), join(b, f));
    });
    const db = join(m.dir, 'compare.db');
    const r = await runQuorum(['compare', a, b, ...llama(), '--prompt', 'compare-sample', '--samples', '2', '--format', 'json', '--db', db]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { summary: { pairs: number; judged: number } };
    expect(out.summary).toMatchObject({ pairs: 2, judged: 2 });
    expect(calls(db).every((row) => row.status === 'ok')).toBe(true);
  });

  it('recovers when the engine child is killed mid-run: every image scored, no sample lost', async () => {
    const many = join(m.dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 8; i++) {
      const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 30 * i, g: 50, b: 90 } } }).png().toBuffer();
      writeFileSync(join(many, `p-${i}.png`), png);
    }
    const db = join(m.dir, 'killed.db');
    const run = spawnQuorum(['score', many, ...llama(), '--method', 'sample', '--samples', '6', '--seed', '3', '--format', 'json', '--db', db]);
    // Once the first image's samples are stored, later requests are queued in the engine: kill it.
    await waitUntil(() => okCalls(db) >= 6, { what: 'the first stored samples', timeoutMs: 30_000 });
    const victim = childrenOf(run.pid)[0];
    expect(victim).toBeDefined();
    process.kill(victim!, 'SIGKILL');
    const r = await run.exited;
    expect(r.code).toBe(0);
    const scores = JSON.parse(r.stdout) as Scored[];
    expect(scores).toHaveLength(8);
    for (const s of scores) {
      expect(s.status).toBe('ok');
      expect(s.samples).toHaveLength(6);
    }
    const rows = calls(db);
    expect(rows.filter((row) => row.status === 'ok')).toHaveLength(48);
    // The call that was hit failed as retryable and was retried on a restarted engine.
    expect(rows.some((row) => row.attempts > 1)).toBe(true);
  }, 60_000);

  it('lists GGUF files with `quorum models`: architecture, quantisation, vision, unusable files', async () => {
    const dir = join(m.dir, 'models-list');
    mkdirSync(dir);
    copyFileSync(m.model, join(dir, 'tiny.gguf'));
    copyFileSync(m.mmproj, join(dir, 'mmproj-tiny.gguf'));
    badModels.truncated(join(dir, 'cut.gguf'));
    const r = await runQuorum(['models', dir, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { path: string; kind: string; architecture?: string; quantisation?: string; vision: boolean; projectors: string[]; error?: string }[];
    const byName = Object.fromEntries(listed.map((x) => [x.path.split('/').at(-1), x]));
    expect(byName['tiny.gguf']).toMatchObject({ kind: 'text', architecture: 'llama', vision: true });
    expect(byName['tiny.gguf']?.projectors.map((p: string) => p.split('/').at(-1))).toEqual(['mmproj-tiny.gguf']);
    expect(byName['tiny.gguf']?.quantisation).toBeTruthy();
    expect(byName['mmproj-tiny.gguf']).toMatchObject({ kind: 'projector', vision: true });
    expect(byName['cut.gguf']).toMatchObject({ kind: 'invalid' });
    expect(byName['cut.gguf']?.error).toMatch(/truncated/);
    const table = await runQuorum(['models', dir]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/tiny\.gguf\s+text\s+llama/);
  });

  const bad: [string, (dir: string) => string[], RegExp][] = [
    ['not a GGUF file', (d) => ['--judge', `llama:${badModels.notGguf(join(d, 'notes.gguf'))}`], /not a GGUF file/],
    ['a truncated model', (d) => ['--judge', `llama:${badModels.truncated(join(d, 'cut.gguf'))}`], /truncated/],
    ['an unknown architecture', (d) => ['--judge', `llama:${badModels.wrongArchitecture(join(d, 'bogus.gguf'))}`], /architecture `bogus`/],
    ['a projector for another model', (d) => ['--judge', `llama:${m.model}`, '--mmproj', badModels.mismatchedProjector(join(d, 'mmproj-48.gguf'))], /belong to different models/],
    ['a projector that crashes the engine', (d) => ['--judge', `llama:${m.model}`, '--mmproj', badModels.malformedProjector(join(d, 'mmproj-bad.gguf'))], /crashed \(SIGSEGV\) while loading it/],
    ['no projector for an image task', () => ['--judge', `llama:${m.model}`], /cannot see images without its vision projector: add --mmproj/],
  ];
  it.each(bad)('stops before any work on %s, with a clear message', async (_name, judge, message) => {
    const dir = join(m.dir, `bad-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    const db = join(dir, 'q.db');
    const r = await runQuorum(['score', images, ...judge(dir), '--threads', '1', '--method', 'levels', '--db', db]);
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

/** Stored successful calls, read while another process writes the database. */
function okCalls(db: string): number {
  try {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (d.prepare("SELECT count(*) AS n FROM calls WHERE status = 'ok'").get() as { n: number }).n;
    } finally {
      d.close();
    }
  } catch {
    return 0; // not created yet
  }
}

/** Live child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
