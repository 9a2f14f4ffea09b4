/**
 * Endpoint pools: throughput of a 4-endpoint pool against the sum of the same endpoints'
 * solo throughputs. `npx tsx bench/pool.ts [--rounds N] [--images N]` (about 1-2 min).
 *
 * Four OpenAI test servers run in child processes (bench/_judge-server.ts), with latencies
 * of 100, 130, 160 and 200 ms; each endpoint serves at most 4 requests at once, so an
 * endpoint's throughput is bounded (about 4 / latency) the way a GPU replica's batch is.
 * - solo: `quorum score --base-url URL --concurrency 4`, once per endpoint;
 * - pool: `quorum score --base-url URL#concurrency=4` for all four (run concurrency: 16).
 * Each run is a fresh CLI process over a fresh database; throughput is read from the
 * stored calls (answered samples over the span from the first start to the last finish),
 * so process start-up is not counted. Rounds interleave pool and solo runs; the ratio
 * pool / sum(solo) is taken per round and its median printed with the load average.
 * Target: >= 0.9.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeTestImage } from '../test/support/test-images.js';
import { runQuorum } from '../test/support/cli.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 3);
const IMAGES = arg('images', 240);
// `--slow F` multiplies the latencies: on a loaded machine the client's CPU, not the pool, bounds a fast pool.
const LATENCIES = [100, 130, 160, 200].map((ms) => ms * arg('slow', 1));
const SLOTS = 4;

function startServer(latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/_judge-server.ts', String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout!.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), child })));
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Answered samples per second over the calls' own span. */
function throughput(db: string): number {
  const d = new Database(db, { readonly: true });
  try {
    const rows = d.prepare("SELECT started_at AS s, finished_at AS f FROM calls WHERE status = 'ok'").all() as { s: string; f: string }[];
    const first = Math.min(...rows.map((r) => Date.parse(r.s)));
    const last = Math.max(...rows.map((r) => Date.parse(r.f)));
    return rows.length / ((last - first) / 1000);
  } finally {
    d.close();
  }
}

async function score(dir: string, folder: string, name: string, urls: string[], concurrency: number): Promise<number> {
  const db = join(dir, `${name}.db`);
  const r = await runQuorum(
    ['score', folder, '--judge', 'openai:sim', ...urls.flatMap((u) => ['--base-url', u]), '--method', 'sample', '--samples', '1',
      '--concurrency', String(concurrency), '--db', db, '--quiet', '--format', 'jsonl', '--out', join(dir, `${name}.jsonl`)],
    { timeoutMs: 600_000 },
  );
  if (r.code !== 0) throw new Error(`${name}: exit ${r.code}\n${r.stderr}`);
  return throughput(db);
}

const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-pool-'));
const servers = await Promise.all(LATENCIES.map(startServer));
try {
  const folder = join(dir, 'images');
  await import('node:fs/promises').then((fs) => fs.mkdir(folder));
  for (let i = 0; i < IMAGES; i++) await writeFile(join(folder, `img${i}.png`), await makeTestImage({ quality: 1 + (i % 40) / 10, seed: 500 + i }));
  console.log(`bench/pool.ts: ${IMAGES} images x 1 sample; endpoints ${LATENCIES.join(', ')} ms, ${SLOTS} slots each; ${ROUNDS} rounds`);
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const pool = async () => score(dir, folder, `pool-${round}`, servers.map((s) => `${s.url}#concurrency=${SLOTS}`), SLOTS * servers.length);
    const solos = async () => {
      const each: number[] = [];
      for (const [i, s] of servers.entries()) each.push(await score(dir, folder, `solo-${round}-${i}`, [s.url], SLOTS));
      return each;
    };
    // Interleaved: pool first on even rounds, solo first on odd ones.
    let p: number;
    let each: number[];
    if (round % 2 === 0) {
      p = await pool();
      each = await solos();
    } else {
      each = await solos();
      p = await pool();
    }
    const sum = each.reduce((a, b) => a + b, 0);
    ratios.push(p / sum);
    console.log(`round ${round + 1}: pool ${p.toFixed(1)}/s; solo ${each.map((x) => x.toFixed(1)).join(' + ')} = ${sum.toFixed(1)}/s; ratio ${(p / sum).toFixed(3)}; load ${loadavg()[0]!.toFixed(1)}`);
  }
  const m = median(ratios);
  console.log(`median ratio pool / sum of solos: ${m.toFixed(3)} (target >= 0.9) ${m >= 0.9 ? 'MET' : 'NOT MET'}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  for (const s of servers) s.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
