/**
 * Endpoint pools: throughput of a 4-endpoint pool against the sum of the same endpoints'
 * solo throughputs. `npx tsx bench/pool.ts [--rounds N] [--images N] [--slow F] [--slots S]` (about 1-2 min).
 *
 * Four OpenAI test servers run in child processes (bench/_judge-server.ts), with latencies
 * of 100, 130, 160 and 200 ms; each endpoint serves at most 4 requests at once, so an
 * endpoint's throughput is bounded (about 4 / latency) the way a GPU replica's batch is.
 * - solo: `quorum score --base-url URL --concurrency 4`, once per endpoint, over a quarter
 *   of the images (about that endpoint's share of the pool's work, so a solo run lasts about
 *   as long as the pool run and the tail of its last requests weighs the same);
 * - pool: `quorum score --base-url URL#concurrency=4` for all four (run concurrency: 16).
 * Each run is a fresh CLI process over a fresh database; throughput is read from the
 * stored calls (answered samples over the span from the first start to the last finish),
 * so process start-up is not counted. Rounds interleave pool and solo runs; the ratio
 * pool / sum(solo) is taken per round and its median printed with the load average.
 * Target: >= 0.9, judged where the client is not CPU-bound (bench/README.md).
 *
 * Two figures say whether a shortfall is the pool's scheduling or the client's CPU:
 * - CPU per call: the CLI child's own user + system time (process.cpuUsage, written at
 *   exit by bench/_cpu-usage.mjs), start-up included, over its calls; pool and solo do the
 *   same work per call, so equal figures mean the pool adds no work of its own;
 * - server CPU per call: the four server processes' CPU time (/proc/PID/stat) over the run,
 *   per call; client + server CPU per call times the throughput is the CPU the run needed;
 * - in flight per endpoint: the summed latency of an endpoint's calls over the run's span,
 *   i.e. its mean outstanding requests (4 = every slot busy all the time). A pool below
 *   its solos here left slots idle: the client did not feed them fast enough.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
const SLOTS = arg('slots', 4);

function startServer(latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/_judge-server.ts', String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout!.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), child })));
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const CPU_HOOK = fileURLToPath(new URL('./_cpu-usage.mjs', import.meta.url));

/** CPU time of the server processes so far, ms (utime + stime of /proc/PID/stat, in 1/100 s ticks). */
function serverCpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

interface Measured {
  /** Answered samples per second over the calls' own span. */
  perSecond: number;
  /** The CLI process's CPU time per answered call, ms. */
  cpuMsPerCall: number;
  /** The servers' CPU time per answered call, ms. */
  serverCpuMsPerCall: number;
  /** Mean outstanding requests per endpoint (summed latency / span), in the order of `urls`. */
  inFlight: number[];
}

function measure(db: string, cpuFile: string, urls: readonly string[], serverMs: number): Measured {
  const d = new Database(db, { readonly: true });
  try {
    const rows = d
      .prepare("SELECT started_at AS s, finished_at AS f, latency_ms AS ms, endpoint FROM calls WHERE status = 'ok'")
      .all() as { s: string; f: string; ms: number; endpoint: string | null }[];
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const r of rows) {
      first = Math.min(first, Date.parse(r.s));
      last = Math.max(last, Date.parse(r.f));
    }
    const spanMs = last - first;
    const busy = urls.map((u) => rows.filter((r) => (r.endpoint ?? urls[0]) === u).reduce((t, r) => t + r.ms, 0));
    const cpu = JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number };
    return {
      perSecond: rows.length / (spanMs / 1000),
      cpuMsPerCall: (cpu.user + cpu.system) / 1000 / rows.length,
      serverCpuMsPerCall: serverMs / rows.length,
      inFlight: busy.map((b) => b / spanMs),
    };
  } finally {
    d.close();
  }
}

async function score(dir: string, folder: string, name: string, urls: string[], concurrency: number): Promise<Measured> {
  const db = join(dir, `${name}.db`);
  const cpuFile = join(dir, `${name}.cpu.json`);
  const pids = servers.map((x) => x.child.pid as number);
  const serverBefore = serverCpuMs(pids);
  const r = await runQuorum(
    ['score', folder, '--judge', 'openai:sim', ...urls.flatMap((u) => ['--base-url', u]), '--method', 'sample', '--samples', '1',
      '--concurrency', String(concurrency), '--db', db, '--quiet', '--format', 'jsonl', '--out', join(dir, `${name}.jsonl`)],
    { timeoutMs: 600_000, env: { NODE_OPTIONS: `--import=${CPU_HOOK}`, QUORUM_BENCH_CPU: cpuFile } },
  );
  if (r.code !== 0) throw new Error(`${name}: exit ${r.code}\n${r.stderr}`);
  return measure(db, cpuFile, urls.map((u) => u.replace(/#.*$/, '')), serverCpuMs(pids) - serverBefore);
}

const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-pool-'));
const servers = await Promise.all(LATENCIES.map(startServer));
try {
  const folder = join(dir, 'images');
  const soloFolder = join(dir, 'solo');
  await Promise.all([mkdir(folder), mkdir(soloFolder)]);
  for (let i = 0; i < IMAGES; i++) {
    const png = await makeTestImage({ quality: 1 + (i % 40) / 10, seed: 500 + i });
    await writeFile(join(folder, `img${i}.png`), png);
    if (i % servers.length === 0) await writeFile(join(soloFolder, `img${i}.png`), png);
  }
  console.log(`bench/pool.ts: ${IMAGES} images x 1 sample; endpoints ${LATENCIES.join(', ')} ms, ${SLOTS} slots each; ${ROUNDS} rounds`);
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const pool = async () => score(dir, folder, `pool-${round}`, servers.map((s) => `${s.url}#concurrency=${SLOTS}`), SLOTS * servers.length);
    const solos = async () => {
      const each: Measured[] = [];
      for (const [i, s] of servers.entries()) each.push(await score(dir, soloFolder, `solo-${round}-${i}`, [s.url], SLOTS));
      return each;
    };
    // Interleaved: pool first on even rounds, solo first on odd ones.
    let p: Measured;
    let each: Measured[];
    if (round % 2 === 0) {
      p = await pool();
      each = await solos();
    } else {
      each = await solos();
      p = await pool();
    }
    const sum = each.reduce((a, b) => a + b.perSecond, 0);
    const soloCpu = median(each.map((x) => x.cpuMsPerCall));
    ratios.push(p.perSecond / sum);
    cpuRatios.push(p.cpuMsPerCall / soloCpu);
    const fixed = (xs: readonly number[], d = 1) => xs.map((x) => x.toFixed(d)).join(' ');
    console.log(
      `round ${round + 1}: pool ${p.perSecond.toFixed(1)}/s; solo ${each.map((x) => x.perSecond.toFixed(1)).join(' + ')} = ${sum.toFixed(1)}/s; ` +
        `ratio ${(p.perSecond / sum).toFixed(3)}; CPU per call client/servers: pool ${p.cpuMsPerCall.toFixed(1)}/${p.serverCpuMsPerCall.toFixed(1)} ms, ` +
        `solo ${each.map((x) => `${x.cpuMsPerCall.toFixed(1)}/${x.serverCpuMsPerCall.toFixed(1)}`).join(' ')} ms; ` +
        `in flight per endpoint pool ${fixed(p.inFlight, 2)}, solo ${fixed(each.map((x) => x.inFlight[0] as number), 2)} (of ${SLOTS}); load ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  const m = median(ratios);
  console.log(
    `median ratio pool / sum of solos: ${m.toFixed(3)} (target >= 0.9) ${m >= 0.9 ? 'MET' : 'NOT MET'}; ` +
      `median CPU per call pool / solo: ${median(cpuRatios).toFixed(2)}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
  );
} finally {
  for (const s of servers) s.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
