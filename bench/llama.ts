/**
 * Local-engine bench on the tiny random model (answers are noise; the timings are real):
 * - writing the tiny model files;
 * - engine start-up: node-llama-cpp in process, @fugood/llama.node in its child process;
 * - K = 8 samples per image with prompt reuse (one request, n = 8) and without (8
 *   requests of n = 1, alternating two inputs so the engine cache never matches),
 *   with a short prompt and with a ~400-token one.
 *
 *   node --import tsx bench/llama.ts [--gpu-layers auto|N] [--threads N] [--rounds N]
 *
 * On a GPU machine run it with `--gpu-layers auto` (the default) and record the figures
 * in docs/local-models.md next to the CPU ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { CompletionRequest, ImagePart } from '../src/core/provider.js';
import { createLlamaProvider, defaultThreads, type LlamaProvider } from '../src/judges/providers/llama/index.js';
import { writeTinyProjector, writeTinyTextModel } from '../test/support/gguf/index.js';

const { values } = parseArgs({
  options: {
    'gpu-layers': { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    rounds: { type: 'string', default: '6' },
  },
});
const gpuLayers = values['gpu-layers'] === 'auto' ? 'auto' : Number(values['gpu-layers']);
const threads = values.threads ? Number(values.threads) : defaultThreads();
const rounds = Number(values.rounds);
const K = 8;

const dir = mkdtempSync(join(tmpdir(), 'quorum-bench-'));
const ms = (t0: number): number => performance.now() - t0;
const fmt = (n: number, digits = 1): string => n.toFixed(digits);

async function image(r: number): Promise<ImagePart> {
  const data = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r, g: 90, b: 160 } } }).png().toBuffer();
  return { type: 'image', data: new Uint8Array(data), mediaType: 'image/png', sha256: String(r), width: 32, height: 32 };
}

const LONG = Array.from({ length: 12 }, (_, i) => `Criterion ${i + 1}: judge the image quality with care.`).join(' ');

function request(part: ImagePart | undefined, text: string, n: number, seed: number): CompletionRequest {
  return {
    messages: [{ role: 'user', content: part ? [part, { type: 'text', text }] : [{ type: 'text', text }] }],
    temperature: 1,
    maxTokens: 48,
    n,
    seed,
    answerShape: { kind: 'think-answer', maxThinkChars: 24 },
  };
}

interface Row {
  engine: string;
  prompt: string;
  mode: string;
  samplesPerSecond: number;
  imagesPerSecond: number;
  promptEvaluationsPerImage: number;
  promptTokens: number;
  tokensPerSample: number;
}

async function measure(judge: LlamaProvider, inputs: [ImagePart | undefined, ImagePart | undefined], text: string, label: string): Promise<Row[]> {
  const rows: Row[] = [];
  // Warm up (JIT, grammar compilation, engine buffers) with a little of both modes.
  for (let i = 0; i < 2; i++) {
    await judge.complete(request(inputs[i % 2], `${text} warm ${i}`, K, 0));
    for (let k = 0; k < 4; k++) await judge.complete(request(inputs[k % 2], `${text} warm ${i} ${k}`, 1, k));
  }
  for (const mode of ['reuse', 'no reuse'] as const) {
    let evaluations = 0;
    let promptTokens = 0;
    let own = 0;
    let generated = 0;
    for (let r = 0; r < rounds; r++) {
      const prompt = `${text} (round ${r})`;
      if (mode === 'reuse') {
        const t0 = performance.now();
        const c = await judge.complete(request(inputs[r % 2], prompt, K, r * K));
        own += ms(t0);
        evaluations += c.meta!.promptEvaluations as number;
        generated += c.usage.outputTokens;
        promptTokens = c.meta!.promptTokens as number;
      } else {
        for (let k = 0; k < K; k++) {
          // Same seeds as the reuse row (sample k of a request uses seed + k), so both rows draw the same samples.
          const t0 = performance.now();
          const c = await judge.complete(request(inputs[r % 2], prompt, 1, r * K + k));
          own += ms(t0);
          evaluations += c.meta!.promptEvaluations as number;
          generated += c.usage.outputTokens;
          // Another input in between (not timed) so the engine cache never holds this prompt.
          await judge.complete(request(inputs[(r + 1) % 2], `Another request. ${prompt}`, 1, 0));
        }
      }
    }
    const seconds = own / 1000;
    rows.push({
      engine: label,
      prompt: '',
      mode,
      samplesPerSecond: (rounds * K) / seconds,
      imagesPerSecond: rounds / seconds,
      promptEvaluationsPerImage: evaluations / rounds,
      promptTokens,
      tokensPerSample: generated / (rounds * K),
    });
  }
  rows[1]!.promptTokens = rows[0]!.promptTokens;
  for (const r of rows) r.prompt = `${r.promptTokens} tokens`;
  return rows;
}

try {
  let t0 = performance.now();
  const model = writeTinyTextModel(join(dir, 'tiny.gguf'));
  const writeModel = ms(t0);
  t0 = performance.now();
  const mmproj = writeTinyProjector(join(dir, 'mmproj-tiny.gguf'));
  const writeProjector = ms(t0);
  console.log(`tiny model written in ${fmt(writeModel)} ms, projector in ${fmt(writeProjector)} ms`);
  console.log(`threads ${threads}, gpuLayers ${gpuLayers}, K = ${K}, ${rounds} images per row\n`);

  const textJudge = createLlamaProvider({ model, options: { threads, gpuLayers } });
  t0 = performance.now();
  await textJudge.open();
  const textStart = ms(t0);
  const imageJudge = createLlamaProvider({ model, options: { mmproj, threads, gpuLayers } });
  t0 = performance.now();
  await imageJudge.open();
  const imageStart = ms(t0);
  const load = imageJudge.status().image?.lastLoad;
  console.log(`start-up: node-llama-cpp (in process) ${fmt(textStart)} ms, gpu ${String(textJudge.status().text?.gpu)}`);
  console.log(`start-up: @fugood/llama.node child ${fmt(imageStart)} ms (engine load ${fmt(load?.loadMs ?? NaN)} ms, variant ${load?.variant}, devices ${JSON.stringify(load?.devices)})\n`);

  const images: [ImagePart, ImagePart] = [await image(10), await image(240)];
  const rows: Row[] = [];
  for (const text of ['Score this image.', LONG]) {
    rows.push(...(await measure(imageJudge, images, text, 'llama.node (image)')));
    rows.push(...(await measure(textJudge, [undefined, undefined], text, 'node-llama-cpp (text)')));
  }
  console.table(
    rows.map((r) => ({
      engine: r.engine,
      prompt: r.prompt,
      mode: r.mode,
      'samples/s': fmt(r.samplesPerSecond),
      'images/s (K=8)': fmt(r.imagesPerSecond, 2),
      'prompt evals/image': fmt(r.promptEvaluationsPerImage),
      'tokens/sample': fmt(r.tokensPerSample),
    })),
  );
  const restarts = imageJudge.status().image;
  console.log(`engine child: ${restarts?.starts} start(s), ${restarts?.stuckRestarts} stuck restart(s), ${restarts?.crashes} crash(es)`);
  await Promise.all([textJudge.close(), imageJudge.close()]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
