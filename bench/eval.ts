/**
 * `quorum eval` on cached items: what the evaluation adds on top of scoring from cache.
 *
 *   npx tsx bench/eval.ts [--n 10000] [--rounds 3]
 *
 * Builds N distinct 16x16 PNGs and a `csv:` label file, starts the OpenAI test server
 * in this process, and scores them once (`--method sample --samples 1`) to fill the
 * cache. Then, per round, in FRESH processes of the built CLI, alternating which goes
 * first: (a) `quorum score <folder>` again, every sample from the cache; (b) `quorum eval
 * --dataset csv:labels.csv` on the same items, every sample from the cache, plus the
 * metrics with 1000-round bootstrap intervals. Medians over rounds; the load average is
 * printed per round.
 *
 * Target (issue 12): (b) on 10,000 cached items under 5 s. Exit code 1 when it fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createRandom } from '../src/aggregate/random.js';
import { startOpenAIServer } from '../src/demo/judge-server/openai.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' } } });
const N = Number(values.n);
const ROUNDS = Number(values.rounds);
const BIN = fileURLToPath(new URL('../bin/quorum.js', import.meta.url));
const KEY = 'sk-bench-eval';

const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-eval-'));
const images = join(dir, 'images');
await mkdir(images);
const random = createRandom(1);
const rows: string[] = [];
for (let i = 0; i < N; i++) {
  const pixels = Buffer.alloc(16 * 16 * 3);
  for (let k = 0; k < pixels.length; k++) pixels[k] = random.integer(256);
  const name = `i${String(i).padStart(5, '0')}.png`;
  await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(join(images, name));
  rows.push(`images/${name},${(1 + 4 * random.uniform()).toFixed(3)}`);
}
await writeFile(join(dir, 'labels.csv'), `path,score\n${rows.join('\n')}\n`);
const server = await startOpenAIServer({ apiKey: KEY, seed: 1, qualityOf: () => 1 + 4 * random.uniform() });
const db = join(dir, 'q.db');
const judge = ['--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '1', '--db', db, '--quiet', '--concurrency', '16'];

function time(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, OPENAI_API_KEY: KEY }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`quorum ${args[0]} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return seconds;
}

try {
  // In-process server, child CLI: spawnSync would block the server, so the first fill runs async.
  const fill = await new Promise<number>((resolve, reject) => {
    import('node:child_process').then(({ spawn }) => {
      const child = spawn(process.execPath, [BIN, 'score', images, ...judge, '--format', 'jsonl', '--out', join(dir, 'fill.jsonl')], { env: { ...process.env, OPENAI_API_KEY: KEY }, stdio: 'inherit' });
      child.on('exit', (code) => (code === 0 ? resolve(0) : reject(new Error(`fill exited ${code}`))));
    }, reject);
  });
  void fill;
  // Cached runs make no call: the server may stay in this process while spawnSync blocks it.
  const score: number[] = [];
  const evals: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s = () => score.push(time(['score', images, ...judge, '--format', 'jsonl', '--out', join(dir, 'again.jsonl')]));
    const e = () => evals.push(time(['eval', '--dataset', `csv:${join(dir, 'labels.csv')}`, ...judge, '--format', 'json']));
    if (r % 2 === 0) { s(); e(); } else { e(); s(); }
    console.log(`round ${r + 1}: score from cache ${score.at(-1)!.toFixed(2)} s, eval ${evals.at(-1)!.toFixed(2)} s, load average ${loadavg()[0]!.toFixed(2)}`);
  }
  const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
  console.log(`${N} cached items: quorum score ${median(score).toFixed(2)} s, quorum eval ${median(evals).toFixed(2)} s (median of ${ROUNDS})`);
  const ok = median(evals) < 5;
  console.log(`target: eval on 10,000 cached items < 5 s: ${N === 10000 ? (ok ? 'met' : 'NOT met') : 'not measured at this --n'}`);
  process.exitCode = N === 10000 && !ok ? 1 : 0;
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
