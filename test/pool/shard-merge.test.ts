/**
 * Sharded runs: `--shard 0/2` and `--shard 1/2` on two databases, merged with `quorum
 * merge`, hold exactly what one run on one database holds; merging again changes nothing;
 * a database with other answers for the same samples is reported, never overwrites.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, parseScores, spread, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';
import { inShard, parseShard } from '../../src/judges/shard.js';

const IMAGES = 30;
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(IMAGES));
  server = await startOpenAIServer({ seed: 7 });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

const score = (db: string, extra: string[] = [], url = server.url) =>
  runQuorum(['score', tmp.images, '--judge', 'openai:sim', '--base-url', url, '--method', 'sample', '--samples', '2',
    '--db', tmp.path(db), '--format', 'json', ...extra]);

const show = async (db: string, run: string) => {
  const r = await runQuorum(['show', run, '--db', tmp.path(db), '--format', 'json']);
  expect(r.code).toBe(0);
  return parseScores(r.stdout).sort((a, b) => a.path.localeCompare(b.path));
};

const runName = (stderr: string) => /run (\S+?)( \(resumed\))?:/.exec(stderr)?.[1] as string;

it('two shards merged equal one run on one database', async () => {
  const whole = await score('whole.db');
  expect(whole.code).toBe(0);
  const name = runName(whole.stderr);

  server.resetCounts(); // answers repeat as from a fresh server
  const parts = [await score('part0.db', ['--shard', '0/2']), await score('part1.db', ['--shard', '1/2'])];
  for (const p of parts) expect(p.code).toBe(0);
  // Each image went to exactly one shard, and each shard asked only its own.
  expect(completions(server)).toHaveLength(IMAGES);
  const sizes = parts.map((p) => parseScores(p.stdout).length);
  expect(sizes[0]! + sizes[1]!).toBe(IMAGES);
  expect(Math.min(...sizes)).toBeGreaterThan(0);
  expect(parts[0]!.stderr).toMatch(new RegExp(`shard 0/2: ${sizes[0]} images here, ${sizes[1]} left to the other shards`));
  for (const s of parseScores(parts[1]!.stdout)) expect(inShard(s.sha256 as string, { index: 1, count: 2 })).toBe(true);
  // The shards' runs have the unsharded run's name: merged, they are one run.
  expect(runName(parts[0]!.stderr)).toBe(name);

  const merged = await runQuorum(['merge', tmp.path('part0.db'), tmp.path('part1.db'), '--into', tmp.path('merged.db')]);
  expect(merged.stderr).not.toMatch(/^conflict:/m);
  expect(merged.code).toBe(0);
  expect(merged.stderr).toMatch(/part1\.db: 0 runs added, 1 joined, 0 renamed; \d+ calls added/);
  expect(await show('merged.db', name)).toEqual(await show('whole.db', name));
  const calls = (db: string) => withDb(tmp.path(db), (d) => d.prepare('SELECT cache_key, raw FROM calls ORDER BY cache_key').all());
  expect(calls('merged.db')).toEqual(calls('whole.db'));

  // The unsharded command on the merged database is served whole from the cache.
  const before = completions(server).length;
  const again = await score('merged.db');
  expect(again.code).toBe(0);
  expect(completions(server).length).toBe(before);
  expect(again.stderr).toMatch(new RegExp(`${IMAGES}/${IMAGES} images scored, 0 requests`));

  // Merging the same database again adds nothing.
  const twice = await runQuorum(['merge', tmp.path('part0.db'), '--into', tmp.path('merged.db'), '--format', 'json']);
  expect(twice.code).toBe(0);
  const [report] = JSON.parse(twice.stdout) as { calls: { added: number }; conflicts: unknown[] }[];
  expect(report).toMatchObject({ calls: { added: 0 }, conflicts: [] });
}, 120_000);

it('other answers for the same samples are conflicts: reported, the target keeps its own', async () => {
  // A one-endpoint pool is identified by its model, not its URL: two servers answer the same samples differently.
  const other = await startOpenAIServer({ seed: 99 });
  try {
    expect((await score('mine.db', ['--shard', '0/2'], `${server.url}#weight=1`)).code).toBe(0);
    expect((await score('theirs.db', ['--shard', '0/2'], `${other.url}#weight=1`)).code).toBe(0);
    expect((await runQuorum(['merge', tmp.path('mine.db'), '--into', tmp.path('conflict.db')])).code).toBe(0);
    const before = withDb(tmp.path('conflict.db'), (d) => d.prepare('SELECT cache_key, raw FROM calls ORDER BY id').all());
    const r = await runQuorum(['merge', tmp.path('theirs.db'), '--into', tmp.path('conflict.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^conflict: call [0-9a-f]{64}: another answer for this sample is already stored/m);
    const again = await runQuorum(['merge', tmp.path('theirs.db'), '--into', tmp.path('conflict.db'), '--format', 'json']);
    const [report] = JSON.parse(again.stdout) as { conflicts: { kind: string }[] }[];
    expect(new Set(report!.conflicts.map((c) => c.kind))).toEqual(new Set(['call', 'result']));
    expect(withDb(tmp.path('conflict.db'), (d) => d.prepare('SELECT cache_key, raw FROM calls ORDER BY id').all())).toEqual(before);
  } finally {
    await other.close();
  }
}, 120_000);

it('--shard syntax and a database merged into itself are usage errors', async () => {
  expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
  for (const bad of ['2/2', '1', '-1/2', '0/0', 'a/b']) expect(() => parseShard(bad)).toThrow(/Expected `shard` to be k\/n/);
  expect((await score('x.db', ['--shard', '3/2'])).code).toBe(2);
  const self = await runQuorum(['merge', tmp.path('whole.db'), '--into', tmp.path('whole.db')]);
  expect(self.code).toBe(2);
  expect(self.stderr).toMatch(/is the --into database itself/);
});
