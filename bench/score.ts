/**
 * What Quorum's scoring path costs on top of the HTTP calls it makes.
 *
 *   npx tsx bench/score.ts
 *
 * The OpenAI test server runs in a CHILD process (test/support/serve.ts, 50 ms latency),
 * so its CPU is not counted here. Workload: 800 PNG test images (64 x 64) x 1 sample
 * (`--method sample --samples 1`) at concurrency 16, through
 *   (a) Quorum: `runScore` with a fresh Store (SQLite file) in a temporary folder;
 *   (b) a bare `openai` SDK loop at the same concurrency, sending the same encoded images
 *       (`encodeForJudge`, done before timing) and the same prompt, recording nothing.
 * Then (c) a cache rerun: 500 images x 20 samples stored once, then the same run again,
 * 10,000 samples all served from the database.
 *
 * Targets (issue "Scoring path"): (a) reaches >= 0.95 of (b)'s calls per second; Quorum's
 * own CPU per call (CPU per call of (a) minus that of (b)) < 2 ms; (c) < 2 s.
 * CPU is `process.cpuUsage()` (user + system, all threads, so sharp's work counts). An
 * extra row times the image work alone (`loadImage` + `encodeForJudge` per image, what
 * Quorum does before a new image's first call) to show how much of the overhead it is.
 * (a) and (b) are each the median of 5 rounds, alternated, after a warm-up of each over
 * all the images (so the server has decoded the exact bytes each sends). Each round,
 * like a real run, starts a fresh client; Quorum's round also creates its database.
 * Exit code 1 when a target fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import PQueue from 'p-queue';
import sharp from 'sharp';
import { encodeForJudge, loadImage, readImageFile } from '../src/images/index.js';
import { createOpenAIProvider } from '../src/judges/providers/openai/index.js';
import { runScore, type ScoreRunResult } from '../src/judges/score-run.js';
import type { ScoreSettings } from '../src/judges/score.js';
import { qualityScore } from '../src/prompts/builtin.js';
import { Store } from '../src/store/store.js';
import { makeTestImage } from '../test/support/test-images.js';

// The same libvips settings the CLI's main() applies.
sharp.cache(false);
sharp.concurrency(1);

const IMAGES = 800;
const CONCURRENCY = 16;
const LATENCY_MS = 50;
const ROUNDS = 5;
const CACHE_IMAGES = 500;
const CACHE_SAMPLES = 20;
const MODEL = 'sim-judge';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Measure {
  calls: number;
  wallS: number;
  cpuMs: number;
}
const perS = (m: Measure) => m.calls / m.wallS;
const cpuPerCall = (m: Measure) => m.cpuMs / m.calls;

async function measure(calls: number, work: () => Promise<unknown>): Promise<Measure> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const wallS = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { calls, wallS, cpuMs: (used.user + used.system) / 1000 };
}

const median = <T>(xs: T[], key: (x: T) => number): T => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve.ts', '--openai', '--latency-ms', String(LATENCY_MS)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [url] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { url, child };
}

async function writeImages(dir: string, count: number, seed: number): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `img-${String(i).padStart(4, '0')}.png`);
    await writeFile(path, await makeTestImage({ quality: 1 + ((i * 37) % 400) / 100, seed: seed + i }));
    paths.push(path);
  }
  return paths;
}

const settings = (samples: number): ScoreSettings => ({ template: qualityScore, method: 'sample', samples, temperature: 1 });

/** Scores `inputs` (files or folders) into the database `db`; throws unless all `images` come back scored. */
async function quorumRun(url: string, inputs: string[], images: number, db: string, samples: number): Promise<ScoreRunResult> {
  const store = Store.open(db);
  try {
    const result = await runScore({
      store,
      provider: createOpenAIProvider({ model: MODEL, baseURL: url, apiKey: 'bench' }),
      inputs,
      settings: settings(samples),
      runName: 'bench',
      argv: [],
      runOptions: {},
      price: undefined,
      concurrency: CONCURRENCY,
    });
    const scored = result.results.filter((r) => r.status === 'ok').length;
    if (scored !== images) throw new Error(`Quorum scored ${scored}/${images} images: ${JSON.stringify(result.results.find((r) => r.status !== 'ok'))}`);
    return result;
  } finally {
    store.close();
  }
}

/** The request Quorum's OpenAI provider sends for one image and one sample, built once. */
function bareBodies(images: { mediaType: string; data: Uint8Array }[]): ChatCompletionCreateParamsNonStreaming[] {
  return images.map((image) => ({
    model: MODEL,
    messages: [
      { role: 'system', content: qualityScore.system },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: `data:${image.mediaType};base64,${Buffer.from(image.data).toString('base64')}` } },
          { type: 'text', text: qualityScore.user },
        ],
      },
    ],
    temperature: 1,
    max_tokens: 1024,
  }));
}

/** One bare run: like a Quorum run, it starts with a fresh client (and so fresh sockets). */
async function bareRun(url: string, bodies: ChatCompletionCreateParamsNonStreaming[]): Promise<void> {
  const client = new OpenAI({ baseURL: url, apiKey: 'bench', maxRetries: 0 });
  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await client.chat.completions.create(body);
      if (res.choices[0]?.message.content) answered++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (answered !== bodies.length) throw new Error(`bare loop: ${answered}/${bodies.length} answered`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-score-'));
  const server = await startServer();
  try {
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'c'));
    const inputs = await writeImages(join(dir, 'a'), IMAGES, 1);
    await writeImages(join(dir, 'c'), CACHE_IMAGES, 100_000);

    // The bytes Quorum sends, encoded before timing for the bare loop.
    const encoded = await Promise.all(inputs.map((p) => encodeForJudge(p, { maxSide: 1536 })));
    const bodies = bareBodies(encoded);

    // Warm-up: JIT, sockets, and the server's decode cache for these exact bytes.
    await bareRun(server.url, bodies);
    // All images, as for the bare loop: Quorum sends judge-ready files as they are, so its
    // bytes differ from the re-encoded ones above and the server must have seen them too.
    await quorumRun(server.url, [join(dir, 'a')], IMAGES, join(dir, 'warm.db'), 1);

    const bare: Measure[] = [];
    const quorum: Measure[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await measure(IMAGES, () => bareRun(server.url, bodies)));
      quorum.push(await measure(IMAGES, () => quorumRun(server.url, [join(dir, 'a')], IMAGES, join(dir, `a-${round}.db`), 1)));
    }
    // Where Quorum's CPU goes, in part: checking and encoding each new image (sharp), the
    // same calls at the same concurrency, without HTTP or the store.
    const imageWork = await measure(IMAGES, async () => {
      const queue = new PQueue({ concurrency: CONCURRENCY });
      await Promise.all(
        inputs.map((path) =>
          queue.add(async () => {
            const source = await readImageFile(path);
            await loadImage(source);
            await encodeForJudge(source, { maxSide: 1536 });
          }),
        ),
      );
    });

    const b = median(bare, perS);
    const q = median(quorum, perS);
    const bCpu = median(bare, cpuPerCall);
    const qCpu = median(quorum, cpuPerCall);

    // (c): populate, then time the rerun that the cache answers in full.
    const cacheDb = join(dir, 'cache.db');
    await quorumRun(server.url, [join(dir, 'c')], CACHE_IMAGES, cacheDb, CACHE_SAMPLES);
    const cacheCalls = CACHE_IMAGES * CACHE_SAMPLES;
    let cachedResult: ScoreRunResult | undefined;
    const cached = await measure(cacheCalls, async () => {
      cachedResult = await quorumRun(server.url, [join(dir, 'c')], CACHE_IMAGES, cacheDb, CACHE_SAMPLES);
    });
    if (cachedResult!.counts.requests !== 0 || cachedResult!.counts.cached !== cacheCalls) {
      throw new Error(`cache rerun made ${cachedResult!.counts.requests} requests, served ${cachedResult!.counts.cached} cached samples`);
    }

    const ratio = perS(q) / perS(b);
    const overhead = cpuPerCall(qCpu) - cpuPerCall(bCpu);
    const rows: [string, string, string, boolean][] = [
      ['throughput, Quorum / bare SDK', ratio.toFixed(3), '>= 0.95', ratio >= 0.95],
      ['Quorum CPU overhead per call', `${overhead.toFixed(2)} ms`, '< 2 ms', overhead < 2],
      [`cache rerun, ${cacheCalls.toLocaleString('en')} samples`, `${cached.wallS.toFixed(2)} s`, '< 2 s', cached.wallS < 2],
    ];

    const line = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    console.log(`Quorum scoring bench: ${IMAGES} PNG 64x64 x 1 sample, concurrency ${CONCURRENCY}, test server latency ${LATENCY_MS} ms (child process)`);
    console.log(`median of ${ROUNDS} rounds; node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at the end\n`);
    const w1 = [24, 7, 8, 9, 12];
    console.log(line(['', 'calls', 'wall s', 'calls/s', 'CPU ms/call'], w1));
    for (const [name, m, cpu] of [['bare openai SDK', b, bCpu], ['Quorum runScore', q, qCpu]] as const) {
      console.log(line([name, String(m.calls), m.wallS.toFixed(2), perS(m).toFixed(1), cpuPerCall(cpu).toFixed(2)], w1));
    }
    console.log(line(['Quorum cache rerun', String(cacheCalls), cached.wallS.toFixed(2), perS(cached).toFixed(0), cpuPerCall(cached).toFixed(3)], w1));
    console.log(line(['(image check + encode)', String(IMAGES), imageWork.wallS.toFixed(2), '', cpuPerCall(imageWork).toFixed(2)], w1));
    console.log('');
    const w2 = [36, 10, 8, 6];
    console.log(line(['target', 'value', 'wanted', ''], w2));
    for (const [name, value, target, pass] of rows) console.log(line([name, value, target, pass ? 'PASS' : 'FAIL'], w2));
    if (rows.some((r) => !r[3])) process.exitCode = 1;
  } finally {
    server.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
