/**
 * What `quorum hallucination` costs besides the judge's own time.
 *
 *   node --import tsx bench/hallucination.ts [--rounds N] [--fidelity-only]
 *
 * 1. Fidelity: PSNR + SSIM (RGB and BT.601 Y, border cropped) of one 2048 x 2048 pair,
 *    and the box downscale against the LR, in-process, median of N runs after one warm-up,
 *    wall and CPU time. Baselines in the same run: the first implementation (commit
 *    fb5a496, read from git history into a temporary file; skipped outside a clone),
 *    interleaved with the current one round by round; and, when Debian's /usr/bin/python3
 *    has python3-skimage, scikit-image's peak_signal_noise_ratio + structural_similarity
 *    on RGB with the same settings (its own process, median of N, computation only),
 *    beside the current code timed on the same RGB-only work.
 * 2. Scoring overhead per tile: the OpenAI test server runs in a CHILD process
 *    (bench/_judge-server.ts, 0 ms latency, its CPU not counted). Workload: 4 triplets of
 *    a 1024 x 1024 SR output (x4), 512-pixel tiles (9 per image with overlap), 1 sample:
 *    36 requests at concurrency 4, through
 *      (a) Quorum: `runHallucination` with a fresh Store in a temporary folder
 *          (decode, fidelity, upscale, crops, PNG encodes, session, SQLite);
 *      (b) a bare `openai` SDK loop sending pre-encoded crops (input + output) with the
 *          same prompt and schema, recording nothing.
 *    Each round runs (a) and (b) in FRESH processes, alternating which goes first; the
 *    figure is the median over rounds of (CPU per tile of a) - (CPU per tile of b), and
 *    the same for wall time. The load average is printed per round.
 * No targets are asserted; the figures go to docs/hallucination.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import PQueue from 'p-queue';
import sharp from 'sharp';
import { hallucinationSchema } from '../src/hallucination/answer.js';
import { tileMessages } from '../src/hallucination/judge.js';
import { runHallucination } from '../src/hallucination/run.js';
import { planTiles } from '../src/hallucination/tiles.js';
import { fidelityReport, psnr, ssim } from '../src/images/fidelity/index.js';
import { createOpenAIProvider } from '../src/judges/providers/openai/index.js';
import { hallucinationReport } from '../src/prompts/builtin.js';
import { Store } from '../src/store/store.js';

sharp.cache(false);
sharp.concurrency(1);

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, side: { type: 'string' }, url: { type: 'string' }, dir: { type: 'string' }, 'fidelity-only': { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
const SR_SIDE = 1024;
const TILE = 512;
const ITEMS = 4;
const CONCURRENCY = 4;
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)] as number;
const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');

function noisyImage(side: number, seed: number): Uint8Array {
  const data = new Uint8Array(side * side * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = (((i / 3) % side) / 8 + (s >>> 27)) & 255;
  }
  return data;
}

async function writeTriplets(dir: string): Promise<void> {
  for (const sub of ['lr', 'sr']) await mkdir(join(dir, sub), { recursive: true });
  for (let k = 0; k < ITEMS; k++) {
    const sr = sharp(noisyImage(SR_SIDE, k + 1), { raw: { width: SR_SIDE, height: SR_SIDE, channels: 3 } });
    const png = await sr.png().toBuffer();
    await writeFile(join(dir, 'sr', `img${k}.png`), png);
    await writeFile(join(dir, 'lr', `img${k}.png`), await sharp(png).resize(SR_SIDE / 4, SR_SIDE / 4, { kernel: 'cubic' }).png().toBuffer());
  }
}

/** One side of part 2 in this (fresh) process; prints JSON. */
async function side(which: 'quorum' | 'bare', url: string, dir: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let tiles = 0;
  if (which === 'quorum') {
    const work = await mkdtemp(join(tmpdir(), 'quorum-bench-h-'));
    const store = Store.open(join(work, 'q.db'));
    const provider = createOpenAIProvider({ model: 'sim-judge', baseURL: url, apiKey: 'sk-bench', maxImageSide: TILE });
    const result = await runHallucination({
      store,
      provider,
      lr: join(dir, 'lr'),
      srs: [join(dir, 'sr')],
      tiles: 'auto',
      settings: { template: hallucinationReport, samples: 1, temperature: 1 },
      runName: 'bench',
      runOptions: {},
      argv: [],
      price: undefined,
      concurrency: CONCURRENCY,
    });
    tiles = result.items.reduce((n, i) => n + i.tiles.length, 0);
    store.close();
    await rm(work, { recursive: true, force: true });
  } else {
    const client = new OpenAI({ baseURL: url, apiKey: 'sk-bench', maxRetries: 0 });
    const queue = new PQueue({ concurrency: CONCURRENCY });
    const plan = planTiles(SR_SIDE, SR_SIDE, 'auto', TILE);
    // Crops encoded before the clock matters as little as possible: the bare loop sends ready bytes.
    const crop = await sharp(noisyImage(SR_SIDE, 99), { raw: { width: SR_SIDE, height: SR_SIDE, channels: 3 } }).extract({ left: 0, top: 0, width: TILE, height: TILE }).png().toBuffer();
    const part = { type: 'image' as const, data: new Uint8Array(crop), mediaType: 'image/png' as const, sha256: '', width: TILE, height: TILE };
    const messages = tileMessages(hallucinationReport, { input: part, output: part });
    const wire = messages.map((m) => ({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : m.content.map((c) => (c.type === 'text' ? { type: 'text' as const, text: c.text } : { type: 'image_url' as const, image_url: { url: `data:image/png;base64,${Buffer.from(c.data).toString('base64')}` } })),
    }));
    await Promise.all(
      Array.from({ length: ITEMS * plan.length }, () =>
        queue.add(() =>
          client.chat.completions.create({
            model: 'sim-judge',
            temperature: 1,
            max_tokens: 1024,
            messages: wire as never,
            response_format: { type: 'json_schema', json_schema: { name: hallucinationSchema.name, schema: hallucinationSchema.schema, strict: true } },
          }),
        ),
      ),
    );
    tiles = ITEMS * plan.length;
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ tiles, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));
}

/** The first fidelity implementation, from git history, as a baseline; undefined outside a clone. */
const BASELINE_COMMIT = 'fb5a496';
async function baselineFidelity(): Promise<typeof fidelityReport | undefined> {
  const git = spawnSync('git', ['show', `${BASELINE_COMMIT}:src/images/fidelity/index.ts`], { encoding: 'utf8' });
  if (git.status !== 0) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-fid-'));
  const file = join(dir, 'baseline.ts');
  await writeFile(file, git.stdout);
  return ((await import(file)) as { fidelityReport: typeof fidelityReport }).fidelityReport;
}

/** Median wall and CPU ms of `fn` over the rounds. */
function timed(fn: () => unknown): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  fn();
  const cpu = process.cpuUsage(cpu0);
  return { wall: performance.now() - t, cpu: (cpu.user + cpu.system) / 1000 };
}

async function fidelityPart(): Promise<void> {
  const side = 2048;
  const a = { data: noisyImage(side, 1), width: side, height: side, channels: 3 };
  const b = { data: noisyImage(side, 2), width: side, height: side, channels: 3 };
  const lr = { data: noisyImage(side / 4, 3), width: side / 4, height: side / 4, channels: 3 };
  const baseline = await baselineFidelity();
  const sides = { current: fidelityReport, ...(baseline ? { baseline } : {}) };
  const times: Record<string, { wall: number; cpu: number }[]> = { current: [], baseline: [], rgb: [] };
  for (const fn of Object.values(sides)) fn({ sr: a, lr, gt: b, scale: 4 });
  for (let r = 0; r < Math.max(3, rounds); r++) {
    const order = r % 2 === 0 ? Object.entries(sides) : Object.entries(sides).reverse();
    for (const [name, fn] of order) times[name]!.push(timed(() => fn({ sr: a, lr, gt: b, scale: 4 })));
    times.rgb!.push(timed(() => [psnr(a, b), ssim(a, b)]));
    console.log(`   round ${r + 1}: ${order.map(([name]) => `${name} ${times[name]!.at(-1)!.wall.toFixed(0)} ms`).join(', ')} (load ${load()})`);
  }
  const figure = (name: string) => `median ${median(times[name]!.map((t) => t.wall)).toFixed(0)} ms wall, ${median(times[name]!.map((t) => t.cpu)).toFixed(0)} ms CPU`;
  console.log(`1. fidelity of a 2048x2048 pair (PSNR+SSIM on RGB and Y, crop 4, plus LR consistency): ${figure('current')} (load ${load()})`);
  if (baseline) console.log(`   baseline (first implementation, ${BASELINE_COMMIT}), same rounds: ${figure('baseline')}`);
  else console.log(`   (baseline ${BASELINE_COMMIT} not in git history here: skipped)`);
  console.log(`   Quorum PSNR+SSIM on RGB only, no crop: ${figure('rgb')}`);
  const py = spawnSync('/usr/bin/python3', ['-c', `
import time, numpy as np
from skimage.metrics import peak_signal_noise_ratio as p, structural_similarity as s
r = np.random.default_rng(0); a = r.integers(0, 256, (2048, 2048, 3), dtype=np.uint8); b = r.integers(0, 256, (2048, 2048, 3), dtype=np.uint8)
ts = []; cs = []
for _ in range(${Math.max(3, rounds)}):
    t = time.perf_counter(); c = time.process_time(); p(a, b, data_range=255); s(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1); ts.append(time.perf_counter() - t); cs.append(time.process_time() - c)
print(sorted(ts)[len(ts)//2] * 1000, sorted(cs)[len(cs)//2] * 1000)
`], { encoding: 'utf8' });
  const [pyWall, pyCpu] = py.stdout.trim().split(' ').map(Number) as [number, number];
  if (py.status === 0) console.log(`   scikit-image PSNR+SSIM on RGB only, same size: median ${pyWall.toFixed(0)} ms wall, ${pyCpu.toFixed(0)} ms CPU (load ${load()})`);
  else console.log('   (scikit-image not available: apt-get install -y python3-skimage)');
}

async function main(): Promise<void> {
  if (values.side) return side(values.side as 'quorum' | 'bare', values.url as string, values.dir as string);
  await fidelityPart();
  if (values['fidelity-only']) return;
  const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-hdata-'));
  await writeTriplets(dir);
  const server = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./_judge-server.ts', import.meta.url)), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [url] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
  const me = fileURLToPath(import.meta.url);
  const runSide = (which: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', me, '--side', which, '--url', url, '--dir', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as { tiles: number; wallMs: number; cpuMs: number };
  };
  const cpuDiff: number[] = [];
  const wallDiff: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['quorum', 'bare'] : ['bare', 'quorum'];
      const got = Object.fromEntries(order.map((w) => [w, runSide(w)])) as Record<'quorum' | 'bare', { tiles: number; wallMs: number; cpuMs: number }>;
      const q = got.quorum;
      const b = got.bare;
      cpuDiff.push(q.cpuMs / q.tiles - b.cpuMs / b.tiles);
      wallDiff.push(q.wallMs / q.tiles - b.wallMs / b.tiles);
      console.log(
        `   round ${r + 1}: quorum ${q.tiles} tiles ${q.wallMs.toFixed(0)} ms wall, ${q.cpuMs.toFixed(0)} ms CPU; bare ${b.tiles} requests ${b.wallMs.toFixed(0)} ms wall, ${b.cpuMs.toFixed(0)} ms CPU (load ${load()})`,
      );
    }
    console.log(`2. overhead per tile (quorum - bare loop): CPU median ${median(cpuDiff).toFixed(1)} ms, wall median ${median(wallDiff).toFixed(1)} ms`);
  } finally {
    server.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
