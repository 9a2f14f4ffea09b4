/**
 * The `llama` provider: GGUF models in process, behind the same seam as hosted judges.
 *
 * Routing is fixed, so a request always meets the same engine:
 * - requests with images go to @fugood/llama.node in a child process (the engine that
 *   takes images through a projector; isolated because it can crash natively);
 * - text-only requests go to node-llama-cpp in this process.
 * Every call records the engine, the file fingerprints and how many prompt evaluations
 * it cost.
 */
import { randomInt } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFileError } from '../../../core/errors.js';
import type {
  Choice,
  CompleteOptions,
  Completion,
  CompletionRequest,
  Message,
  Provider,
  ProviderCapabilities,
  ProviderConfig,
} from '../../../core/provider.js';
import { validateModelFiles, type ValidatedModelFiles } from '../../../local/model-file.js';
import { ChildEngine, type ChildEngineStats } from './child/child-engine.js';
import { fileSha256, fileSha256Sync } from './fingerprint.js';
import { grammarForRequest, type GrammarPlan } from './grammar.js';
import type { Engine, EngineJob, EngineOutput, WireMessage } from './job.js';
import { resolveLlamaOptions, type ResolvedLlamaOptions } from './options.js';
import { TextEngine } from './text-engine.js';
import { IMAGE_ENGINE_PACKAGE, packageVersion, TEXT_ENGINE_PACKAGE } from './versions.js';

/** Context window when none is given: enough for a few images and a reasoned answer. */
export const DEFAULT_CONTEXT_SIZE = 4096;
/** Used for the full next-token distribution when the file does not list its vocabulary. */
const FALLBACK_VOCAB = 1 << 18;

/** Engine state, for diagnostics, tests and the bench. */
export interface LlamaProviderStatus {
  /** The child running the image engine, when one was started. */
  image: ChildEngineStats | undefined;
  /** The in-process text engine: whether it is loaded and its GPU backend (`false` for CPU). */
  text: { loaded: boolean; gpu: string | false | undefined } | undefined;
}

export class LlamaProvider implements Provider {
  readonly id = 'llama';
  readonly model: string;
  readonly capabilities: ProviderCapabilities;
  readonly maxImageSide: number;
  private readonly options: ResolvedLlamaOptions;
  readonly contextSize: number;
  readonly batchSize: number;
  private readonly engineNames: { text: string; image: string };
  private opening: Promise<ValidatedModelFiles> | undefined;
  private hashes: { model: string; mmproj: string | undefined } | undefined;
  private textEngine: TextEngine | undefined;
  private imageEngine: ChildEngine | undefined;

  constructor(config: ProviderConfig) {
    this.options = resolveLlamaOptions(config);
    this.model = basename(this.options.model);
    this.maxImageSide = this.options.maxImageSide;
    this.contextSize = this.options.contextSize ?? DEFAULT_CONTEXT_SIZE;
    this.batchSize = this.options.batchSize ?? Math.min(this.contextSize, 2048);
    this.engineNames = { text: packageVersion(TEXT_ENGINE_PACKAGE), image: packageVersion(IMAGE_ENGINE_PACKAGE) };
    this.capabilities = {
      logprobs: false,
      multipleChoices: true,
      structuredOutput: true,
      prefill: true,
      candidateProbabilities: true,
      images: this.options.mmproj !== undefined,
    };
  }

  /**
   * Validates the model files from their headers, fingerprints them, and loads the engine
   * the provider will use first (the image engine when a projector is given). Model file
   * problems reject with `ModelFileError`, before any work starts.
   */
  async open(): Promise<void> {
    await this.openFiles();
    await this.primaryEngine().start();
  }

  private openFiles(): Promise<ValidatedModelFiles> {
    this.opening ??= (async () => {
      const files = await validateModelFiles({ model: this.options.model, mmproj: this.options.mmproj });
      const [model, mmproj] = await Promise.all([
        fileSha256(this.options.model),
        this.options.mmproj !== undefined ? fileSha256(this.options.mmproj) : Promise.resolve(undefined),
      ]);
      this.hashes = { model, mmproj };
      return files;
    })();
    return this.opening;
  }

  private primaryEngine(): Engine {
    return this.options.mmproj !== undefined ? this.image() : this.text();
  }

  private image(): ChildEngine {
    const o = this.options;
    this.imageEngine ??= new ChildEngine({
      model: o.model,
      mmproj: o.mmproj,
      contextSize: this.contextSize,
      batchSize: this.batchSize,
      threads: o.threads,
      gpuLayers: o.gpuLayers === 'auto' ? -1 : o.gpuLayers,
      loadTimeoutMs: o.loadTimeoutMs,
      engineName: this.engineNames.image,
    });
    return this.imageEngine;
  }

  private text(): TextEngine {
    const o = this.options;
    this.textEngine ??= new TextEngine({
      model: o.model,
      contextSize: this.contextSize,
      batchSize: this.batchSize,
      threads: o.threads,
      gpuLayers: o.gpuLayers,
      engineName: this.engineNames.text,
    });
    return this.textEngine;
  }

  /** File fingerprints, engine versions and context size: what makes this judge's answers what they are. */
  identity(): Record<string, unknown> {
    const model = this.hashes?.model ?? fileSha256Sync(this.options.model);
    const mmproj = this.options.mmproj === undefined ? undefined : (this.hashes?.mmproj ?? fileSha256Sync(this.options.mmproj));
    return {
      modelSha256: model,
      ...(mmproj !== undefined ? { mmprojSha256: mmproj, textEngine: this.engineNames.text } : {}),
      engine: this.options.mmproj !== undefined ? this.engineNames.image : this.engineNames.text,
      contextSize: this.contextSize,
    };
  }

  async complete(request: CompletionRequest, options: CompleteOptions = {}): Promise<Completion> {
    const files = await this.openFiles();
    const hasImages = request.messages.some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'image'));
    if (hasImages && this.options.mmproj === undefined) throw await this.noProjectorError();
    const engine: Engine = hasImages ? this.image() : this.text();

    const candidates = request.candidates && request.candidates.length > 0 ? [...request.candidates] : undefined;
    const grammar: GrammarPlan | undefined = candidates ? undefined : grammarForRequest(request);
    const seed = request.seed ?? this.options.seed ?? randomInt(0, 2 ** 31);
    const job: EngineJob = {
      messages: request.messages.map(toWire),
      prefill: request.prefill ?? '',
      candidates,
      samples: candidates ? 1 : Math.max(1, request.n ?? 1),
      firstSample: 0,
      temperature: request.temperature,
      maxTokens: grammar ? grammar.maxTokens : request.maxTokens,
      seed,
      grammar: grammar?.gbnf,
      vocabSize: files.model.vocabSize ?? FALLBACK_VOCAB,
    };
    const output = await engine.run(job, { timeoutMs: this.options.callTimeoutMs, signal: options.signal });
    return this.toCompletion(engine, job, output, grammar);
  }

  private toCompletion(engine: Engine, job: EngineJob, output: EngineOutput, grammar: GrammarPlan | undefined): Completion {
    const o = this.options;
    const common = {
      engine: engine.name,
      modelSha256: this.hashes?.model,
      ...(o.mmproj !== undefined ? { mmprojSha256: this.hashes?.mmproj } : {}),
      contextSize: this.contextSize,
      batchSize: this.batchSize,
      threads: o.threads,
      gpuLayers: o.gpuLayers,
      seed: job.seed,
    };
    if (output.kind === 'candidates') {
      const c = output.candidates;
      const choice: Choice = { text: '', finishReason: 'stop', candidateProbabilities: c.probabilities };
      return {
        choices: [choice],
        usage: { inputTokens: c.promptTokens, outputTokens: 0 },
        model: this.model,
        meta: {
          ...common,
          promptEvaluations: c.promptTokensEvaluated > 1 ? 1 : 0,
          promptTokens: c.promptTokens,
          promptTokensEvaluated: c.promptTokensEvaluated,
          candidateFirstTokens: c.firstTokens,
          distributionSize: c.distributionSize,
          distributionSum: c.distributionSum,
          ms: Math.round(c.ms),
        },
      };
    }
    const samples = output.samples;
    return {
      choices: samples.map((s) => ({ text: s.text, finishReason: s.finishReason })),
      usage: {
        inputTokens: samples[0]?.promptTokens ?? 0,
        outputTokens: samples.reduce((a, s) => a + s.generatedTokens, 0),
      },
      model: this.model,
      meta: {
        ...common,
        samples: samples.length,
        // A sample that re-read only the final prompt token (to refresh the next-token
        // logits) reused the evaluated prompt; any sample that read more evaluated it.
        promptEvaluations: samples.filter((s) => s.promptTokensEvaluated > 1).length,
        promptTokens: samples[0]?.promptTokens ?? 0,
        promptTokensEvaluated: samples.reduce((a, s) => a + s.promptTokensEvaluated, 0),
        ...(grammar ? { grammar: grammar.caps } : {}),
        ms: Math.round(samples.reduce((a, s) => a + s.ms, 0)),
      },
    };
  }

  /** A request with images but no projector: say so, and point at a projector next to the model if there is one. */
  private async noProjectorError(): Promise<ModelFileError> {
    let hint = '';
    try {
      const dir = dirname(this.options.model);
      const near = (await readdir(dir)).filter((f) => /mmproj|projector|clip/i.test(f) && f.toLowerCase().endsWith('.gguf'));
      if (near.length > 0) hint = ` (found ${near.map((f) => join(dir, f)).join(', ')})`;
    } catch {
      // No hint then.
    }
    return new ModelFileError(this.options.model, `has no projector, so it cannot see images: pass one with --mmproj${hint}`);
  }

  status(): LlamaProviderStatus {
    return {
      image: this.imageEngine?.stats,
      text: this.textEngine ? { loaded: this.textEngine.gpu !== undefined, gpu: this.textEngine.gpu } : undefined,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.imageEngine?.close(), this.textEngine?.close()]);
  }
}

function toWire(m: Message): WireMessage {
  const content = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content;
  return {
    role: m.role,
    content: content.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image', data: p.data, mediaType: p.mediaType })),
  };
}

/**
 * Creates the `llama` provider for a GGUF model. Nothing is loaded until `open()` (or
 * the first call); call `open()` up front to get model file errors before any work.
 *
 * @example
 * const judge = createLlamaProvider({ model: 'qwen2-vl-2b-instruct-q4_k_m.gguf', options: { mmproj: 'mmproj-qwen2-vl-2b-f16.gguf' } });
 * await judge.open();
 */
export function createLlamaProvider(config: ProviderConfig): LlamaProvider {
  return new LlamaProvider(config);
}
