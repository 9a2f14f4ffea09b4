/**
 * Sharded pairwise runs: `compare` splits its matched pairs by relative path, `rank`
 * (round-robin, random) its planned pairs by their images' content hashes. Each shard
 * judges its part and says its summary is over that part; merged with `quorum merge`, the
 * unsharded command on the merged database is served whole from the cache and prints what
 * one run on one database prints. Active ranking refuses `--shard`.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, spread, tempDir, writeImages, type TempDir } from '../scoring/_support.js';
import { inShard } from '../../src/judges/shard.js';

let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  for (const dir of ['A', 'B']) await mkdir(tmp.path(dir));
  // B is a little better than A on every content; 12 contents, one only in B.
  await writeImages(tmp.path('A'), spread(12, 'c'));
  await writeImages(tmp.path('B'), [...spread(12, 'c').map((s) => ({ ...s, quality: Math.min(4.9, s.quality + 0.4) })), { name: 'only-b.png', quality: 3 }]);
  await writeImages(tmp.images, spread(9));
  server = await startOpenAIServer({ seed: 5, noiseSd: 0.3 });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

const judge = () => ['--judge', 'openai:sim', '--base-url', server.url, '--format', 'json', '--quiet'];
const runName = (stderr: string) => /run (\S+?)( \(resumed\))?:/.exec(stderr)?.[1] as string;

/**
 * The printed result without how many samples came from the cache (which says how, not
 * what) and the calls' row ids (each database numbers its own rows).
 */
function withoutCacheCounts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCacheCounts);
  if (value && typeof value === 'object') {
    const kept = Object.entries(value).filter(([k]) => k !== 'cached' && k !== 'callIds');
    return Object.fromEntries(kept.map(([k, v]) => [k, withoutCacheCounts(v)]));
  }
  return value;
}

/**
 * Runs `command` whole on one database, then as shards 0/2 and 1/2 on two, merges them and
 * runs it unsharded on the merged database; returns the shards' outputs.
 */
async function shardedEqualsWhole(label: string, command: string[], unit: RegExp) {
  const db = (name: string) => ['--db', tmp.path(`${label}-${name}.db`)];
  server.resetCounts(); // every run below sees the answers of a fresh server
  const whole = await runQuorum([...command, ...judge(), ...db('whole')], { cwd: tmp.dir });
  expect(whole.code, whole.stderr).toBe(0);
  const asked = completions(server).length;

  server.resetCounts();
  const parts = [];
  for (const k of [0, 1]) {
    const r = await runQuorum([...command, ...judge(), ...db(`part${k}`), '--shard', `${k}/2`], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(runName(r.stderr)).toBe(runName(whole.stderr));
    parts.push(r);
  }
  // Every pair was asked by exactly one shard (each fresh database probes the judge once).
  expect(completions(server).length).toBe(asked + 1);
  const counts = parts.map((p) => Number(unit.exec(p.stderr)?.[1]));
  const others = parts.map((p) => Number(/(\d+) left to the other shards/.exec(p.stderr)?.[1]));
  expect(Math.min(...counts)).toBeGreaterThan(0);
  expect(counts[1]).toBe(others[0]);
  expect(counts[0]).toBe(others[1]);
  for (const p of parts) expect(p.stderr).toMatch(/over this shard's pairs only/);

  const merged = await runQuorum(['merge', tmp.path(`${label}-part0.db`), tmp.path(`${label}-part1.db`), '--into', tmp.path(`${label}-merged.db`)]);
  expect(merged.stderr).not.toMatch(/^conflict:/m);
  expect(merged.code, merged.stderr).toBe(0);
  expect(merged.stderr).toMatch(/part1\.db: 0 runs added, 1 joined, 0 renamed/);

  const before = completions(server).length;
  const again = await runQuorum([...command, ...judge(), ...db('merged')], { cwd: tmp.dir });
  expect(again.code, again.stderr).toBe(0);
  expect(completions(server).length).toBe(before);
  expect(again.stderr).toMatch(/: 0 requests, \d+ cached/);
  expect(withoutCacheCounts(JSON.parse(again.stdout))).toEqual(withoutCacheCounts(JSON.parse(whole.stdout)));
  return { name: runName(whole.stderr), parts: parts.map((p) => JSON.parse(p.stdout) as Record<string, unknown>) };
}

it('compare: shards split the matched pairs by relative path; merged, the unsharded compare equals one run', async () => {
  const { name, parts } = await shardedEqualsWhole('compare', ['compare', 'A', 'B', '--order', 'random', '--samples', '2'], /shard \d\/2: (\d+) pairs here/);
  for (const [k, part] of parts.entries()) {
    const pairs = part['pairs'] as { key: string }[];
    for (const p of pairs) expect(inShard(p.key, { index: k, count: 2 })).toBe(true);
    // The summary a shard prints is over its own pairs.
    expect((part['summary'] as { pairs: number }).pairs).toBe(pairs.length);
  }
  // A shard stores its pairs, not its partial summary: show says how to complete the run.
  const show = await runQuorum(['show', name, '--db', tmp.path('compare-part0.db')]);
  expect(show.code).toBe(0);
  expect(show.stderr).toMatch(/no summary yet \(interrupted before it finished, or judged as --shard parts\)/);
}, 120_000);

it('rank round-robin: shards split the planned pairs by content hash; merged, the unsharded rank equals one run', async () => {
  const { parts } = await shardedEqualsWhole('rr', ['rank', '--items', 'images', '--strategy', 'round-robin'], /shard \d\/2: (\d+) pairs here/);
  const judged = parts.map((p) => (p['pairs'] as unknown[]).length);
  expect(judged[0]! + judged[1]!).toBe((9 * 8) / 2);
}, 120_000);

it('rank random with a budget: every shard draws the same plan and judges its part', async () => {
  await shardedEqualsWhole('random', ['rank', '--items', 'images', '--strategy', 'random', '--budget', '30'], /shard \d\/2: (\d+) pairs here/);
}, 120_000);

it('active rank with --shard is a usage error, before any call', async () => {
  server.resetCounts();
  const r = await runQuorum(['rank', '--items', 'images', ...judge(), '--db', tmp.path('active.db'), '--shard', '0/2'], { cwd: tmp.dir });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--shard needs --strategy round-robin or random/);
  expect(server.requests).toHaveLength(0);
  const bad = await runQuorum(['compare', 'A', 'B', ...judge(), '--db', tmp.path('bad.db'), '--shard', '2/2'], { cwd: tmp.dir });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/Expected `shard` to be k\/n/);
});
