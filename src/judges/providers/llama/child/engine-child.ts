/**
 * The engine child process: runs @fugood/llama.node, the engine that takes images, where a
 * native crash cannot take the orchestrator down (see docs/local-models.md). One job at a
 * time; each sample is reported as soon as it is done, so the parent keeps finished work
 * if the engine dies later in the job.
 *
 * Defects of @fugood/llama.node 1.7.15 contained here (see docs/local-models.md):
 * - The binding registers its "completion finished" hook only after queueing the work;
 *   a completion that finishes first leaves the context believing a completion is
 *   still running ("Another completion is in progress"), for good. The parent runs
 *   this child with a one-thread libuv pool and every completion is queued behind a
 *   gate that opens only after the binding has returned, so the work cannot finish
 *   first. Should it happen anyway, the child reports `stuck` and is replaced.
 * - A completion that fails never clears that state either: after any failure the
 *   child is replaced.
 * - `release()` can segfault afterwards, so the child never calls it: it exits and
 *   lets the OS reclaim memory.
 * - `prefill_text` does not reach the prompt; the child formats the chat itself and
 *   appends the prefill to the raw prompt.
 * - `completion_probabilities` accumulates over the context's life (every call returns
 *   all earlier ones too): the child reads the last entry, caps `n_probs`, and asks to
 *   be replaced once the pile grows large.
 * - Grammar-constrained sampling with `top_p` 1 and `min_p` 0 together lets tokens past
 *   the grammar ("Unexpected empty grammar stack"); samples use `min_p` 1e-12 instead,
 *   which drops only tokens 12 orders of magnitude below the likeliest.
 */
import { execFileSync } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { closeSync, constants, openSync, read, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CandidateOutput, EngineJob, SampleOutput, WireMessage } from '../job.js';
import type { ChildLoadInfo, ChildLoadOptions, FromChild, LoadStage, ToChild } from './protocol.js';

/** The slice of @fugood/llama.node this child uses (typed here: the package ships no declarations). */
interface LlamaNodeModule {
  loadModel(options: Record<string, unknown>): Promise<LlamaNodeContext>;
  isLibVariantAvailable(variant: string): Promise<boolean>;
  BuildInfo: { number: string; commit: string };
}
interface LlamaNodeContext {
  getFormattedChat(messages: Record<string, unknown>[], template?: string, params?: Record<string, unknown>): { prompt: string; media_paths?: string[] };
  initMultimodal(options: { path: string; use_gpu?: boolean }): boolean;
  getMultimodalSupport(): { vision: boolean; audio: boolean };
  getUsedDevices?(): string[];
  completion(options: Record<string, unknown>): Promise<LlamaNodeResult>;
  tokenize(text: string): Promise<{ tokens: Int32Array }>;
  detokenize(tokens: number[]): Promise<string>;
}
interface LlamaNodeResult {
  text: string;
  tokens_predicted: number;
  tokens_evaluated: number;
  truncated: boolean;
  stopped_limit?: boolean;
  context_full: boolean;
  interrupted: boolean;
  completion_probabilities?: { content: string; probs: { tok_str: string; prob: number }[] }[];
  timings: { prompt_n: number; predicted_n: number };
}

const send = (message: FromChild): void => {
  process.send?.(message);
};

let ctx: LlamaNodeContext | undefined;

async function load(options: ChildLoadOptions): Promise<void> {
  let stage: LoadStage = 'engine';
  const enter = (s: LoadStage): void => {
    stage = s;
    send({ type: 'stage', stage: s });
  };
  try {
    enter('engine');
    const started = performance.now();
    const specifier = '@fugood/llama.node';
    const mod = (await import(specifier)) as LlamaNodeModule;
    // GPU builds are separate native modules; use one only when offload is wanted and it loads.
    let variant = 'default';
    if (options.gpuLayers !== 0) {
      for (const v of ['cuda', 'vulkan']) {
        if (await mod.isLibVariantAvailable(v)) {
          variant = v;
          break;
        }
      }
    }
    enter('model');
    ctx = await mod.loadModel({
      model: options.model,
      n_ctx: options.contextSize,
      n_batch: options.batchSize,
      n_ubatch: options.batchSize,
      n_threads: options.threads,
      n_gpu_layers: options.gpuLayers,
      n_parallel: 1,
      lib_variant: variant,
    });
    let vision = false;
    if (options.mmproj !== undefined) {
      enter('projector');
      if (!ctx.initMultimodal({ path: options.mmproj, use_gpu: options.gpuLayers !== 0 })) {
        throw new Error('the engine rejected it (see the engine log: often a projector made for another model)');
      }
      vision = ctx.getMultimodalSupport().vision;
      if (!vision) throw new Error('it loaded but offers no vision support');
    }
    const info: ChildLoadInfo = {
      variant,
      devices: ctx.getUsedDevices?.() ?? [],
      llamaCppBuild: `b${mod.BuildInfo.number} (${mod.BuildInfo.commit})`,
      loadMs: performance.now() - started,
      vision,
    };
    send({ type: 'loaded', info });
  } catch (error) {
    send({ type: 'load-error', stage, message: error instanceof Error ? error.message : String(error) });
  }
}

function toLlamaMessages(messages: readonly WireMessage[]): Record<string, unknown>[] {
  return messages.map((m) => {
    const hasImage = m.content.some((p) => p.type === 'image');
    if (!hasImage) return { role: m.role, content: m.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n') };
    return {
      role: m.role,
      content: m.content.map((p) =>
        p.type === 'text'
          ? { type: 'text', text: p.text }
          : { type: 'image_url', image_url: { url: `data:${p.mediaType};base64,${Buffer.from(p.data).toString('base64')}` } },
      ),
    };
  });
}

/**
 * Tokens read from the next-token distribution. Each one's probability is exact (the
 * softmax runs over the whole vocabulary); tokens outside the top `CANDIDATE_TOP` are
 * not reported, and `distributionSum` says how much mass the read-out covered.
 */
const CANDIDATE_TOP = 1024;
/** Entries piled up (see the defects above) before the child asks to be replaced. */
const MAX_PROBABILITY_PILE = 1 << 21;

/** Sampling at the given temperature without truncation (see the `min_p` note above) or penalties. */
const PLAIN_SAMPLING = { top_k: 0, top_p: 1, min_p: 1e-12, penalty_repeat: 1, penalty_last_n: 0, typ_p: 1 };
/** The exact next-token distribution: temperature 1, nothing truncated. */
const FULL_DISTRIBUTION = { temperature: 1, top_k: 0, top_p: 1, min_p: 0, penalty_repeat: 1, penalty_last_n: 0, typ_p: 1 };

/**
 * Holds the (single) libuv pool thread until released, so queued native work cannot run
 * before the JavaScript call that queued it has returned. A FIFO read blocks the thread
 * until one byte is written; where FIFOs are unavailable, a ~3 ms hash is the fallback.
 */
interface Gate {
  hold(): void;
  release(): void;
}

function createGate(): Gate {
  try {
    const path = join(tmpdir(), `quorum-llama-gate-${process.pid}-${Date.now()}`);
    execFileSync('mkfifo', [path], { stdio: 'ignore' });
    // Read-write: opening does not wait for a writer (Linux, macOS).
    const fd = openSync(path, constants.O_RDWR);
    unlinkSync(path);
    const byte = Buffer.alloc(1);
    process.on('exit', () => closeSync(fd));
    return {
      hold: () => read(fd, Buffer.alloc(1), 0, 1, null, () => undefined),
      release: () => {
        writeSync(fd, byte);
      },
    };
  } catch {
    return {
      hold: () => pbkdf2('gate', 'salt', 10_000, 32, 'sha256', () => undefined),
      release: () => undefined,
    };
  }
}

let gate: Gate | undefined;

async function complete(options: Record<string, unknown>): Promise<LlamaNodeResult> {
  gate ??= createGate();
  gate.hold();
  let pending: Promise<LlamaNodeResult>;
  try {
    pending = ctx!.completion(options);
  } finally {
    gate.release();
  }
  return pending;
}

/** The chat in the model's template with the assistant turn opened, then the prefill. */
function formatPrompt(job: EngineJob): { prompt: string; media_paths: string[] } {
  const formatted = ctx!.getFormattedChat(toLlamaMessages(job.messages), undefined, { add_generation_prompt: true });
  return { prompt: formatted.prompt + job.prefill, media_paths: formatted.media_paths ?? [] };
}

async function runSamples(id: number, job: EngineJob): Promise<void> {
  const prompt = formatPrompt(job);
  for (let index = job.firstSample; index < job.samples; index++) {
    const started = performance.now();
    const r = await complete({
      ...prompt,
      ...(job.grammar ? { grammar: job.grammar } : {}),
      n_predict: job.maxTokens,
      temperature: job.temperature,
      seed: (job.seed + index) >>> 0,
      ...PLAIN_SAMPLING,
    });
    const sample: SampleOutput = {
      index,
      text: r.text,
      finishReason: r.tokens_predicted >= job.maxTokens || r.context_full ? 'length' : 'stop',
      promptTokens: r.tokens_evaluated - r.tokens_predicted,
      promptTokensEvaluated: r.timings.prompt_n,
      generatedTokens: r.tokens_predicted,
      ms: performance.now() - started,
    };
    send({ type: 'sample', id, sample });
  }
}

/** How the engine spells a token in `n_probs` output (its piece; SentencePiece may drop a leading space). */
async function firstTokenPiece(candidate: string): Promise<string | undefined> {
  const { tokens } = await ctx!.tokenize(candidate);
  const first = tokens[0];
  return first === undefined ? undefined : ctx!.detokenize([first]);
}

/** Probability entries the engine has piled up (see the defects above). */
let probabilityPile = 0;

async function runCandidates(id: number, job: EngineJob): Promise<void> {
  const started = performance.now();
  const nProbs = Math.min(job.vocabSize, CANDIDATE_TOP);
  // One step with the full distribution: temperature 1 and no truncation, so `n_probs`
  // reports softmax probabilities normalised over the whole vocabulary. When the step
  // happens to sample a partial UTF-8 byte token, the engine reports that token alone
  // (probability 1) instead of the distribution: the distribution does not depend on
  // which token was drawn, so the step is repeated with another seed (the prompt is
  // cached, so a repeat evaluates one token).
  const prompt = formatPrompt(job);
  let r: LlamaNodeResult | undefined;
  let dist: { tok_str: string; prob: number }[] = [];
  let promptEvaluated = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    r = await complete({
      ...prompt,
      n_predict: 1,
      n_probs: nProbs,
      seed: (job.seed + attempt * 7919) >>> 0,
      ...FULL_DISTRIBUTION,
    });
    probabilityPile += nProbs * (r.completion_probabilities?.length ?? 0);
    promptEvaluated += r.timings.prompt_n;
    dist = r.completion_probabilities?.at(-1)?.probs ?? [];
    if (dist.length >= Math.min(nProbs, 2)) break;
  }
  if (!r || dist.length < Math.min(nProbs, 2)) throw new Error('the engine reported no next-token distribution');
  const byPiece = new Map<string, number>();
  let sum = 0;
  for (const { tok_str, prob } of dist) {
    byPiece.set(tok_str, (byPiece.get(tok_str) ?? 0) + prob);
    sum += prob;
  }
  const probabilities: Record<string, number> = {};
  const firstTokens: Record<string, string> = {};
  for (const candidate of job.candidates ?? []) {
    let piece = await firstTokenPiece(candidate);
    if (piece !== undefined && !byPiece.has(piece) && byPiece.has(` ${piece}`)) piece = ` ${piece}`;
    firstTokens[candidate] = piece ?? '';
    probabilities[candidate] = piece === undefined ? 0 : (byPiece.get(piece) ?? 0);
  }
  const result: CandidateOutput = {
    probabilities,
    firstTokens,
    distributionSize: dist.length,
    distributionSum: sum,
    promptTokens: r.tokens_evaluated - r.tokens_predicted,
    promptTokensEvaluated: promptEvaluated,
    ms: performance.now() - started,
  };
  send({ type: 'candidates', id, result, retire: probabilityPile > MAX_PROBABILITY_PILE });
}

async function run(id: number, job: EngineJob): Promise<void> {
  try {
    if (!ctx) throw new Error('no model loaded');
    if (job.candidates) await runCandidates(id, job);
    else await runSamples(id, job);
    send({ type: 'done', id });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    send({ type: 'run-error', id, kind: /another completion is in progress/i.test(message) ? 'stuck' : 'failed', message });
  }
}

// Jobs run one after another; the parent sends one at a time, this keeps it so regardless.
let chain: Promise<void> = Promise.resolve();
process.on('message', (message: ToChild) => {
  if (message.type === 'exit') process.exit(0);
  chain = chain.then(() => (message.type === 'load' ? load(message.options) : run(message.id, message.job)));
});
// The parent is gone: nothing left to serve.
process.on('disconnect', () => process.exit(0));
