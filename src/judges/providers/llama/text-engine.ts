/**
 * node-llama-cpp, in process: text-only judging and exact next-token probabilities. It
 * is stable (no native crash seen in this use), so it needs no child process; it has no
 * image input in 3.21.1, so image requests go to the child engine instead.
 *
 * Prompt reuse: the sequence keeps its evaluated tokens between calls. A job keeps the
 * longest cached prefix of its prompt, evaluates the rest once (all but the last token),
 * then for each sample feeds the last prompt token (for fresh next-token logits),
 * generates, and erases the generated tokens again. A request for K samples thus
 * evaluates its prompt once plus K single tokens, and the counts come from the sequence
 * itself, not from assumption.
 */
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { ModelFileError, ProviderError, TimeoutError } from '../../../core/errors.js';
import type { CandidateOutput, Engine, EngineJob, EngineOutput, RunControl, SampleOutput, WireMessage } from './job.js';

export interface TextEngineOptions {
  model: string;
  contextSize: number;
  batchSize: number;
  threads: number;
  /** `'auto'`: as many as fit (CPU when no GPU); a number: that many layers. */
  gpuLayers: number | 'auto';
  engineName: string;
}

export class TextEngine implements Engine {
  readonly name: string;
  private loading: Promise<Loaded> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private grammars = new Map<string, Promise<LlamaGrammar>>();
  /** Set once loaded: where the layers went. */
  gpu: string | false | undefined;

  constructor(private readonly options: TextEngineOptions) {
    this.name = options.engineName;
  }

  start(): Promise<void> {
    this.loading ??= this.load().catch((error: unknown) => {
      throw error instanceof ModelFileError
        ? error
        : new ModelFileError(this.options.model, `${this.name} cannot load it: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    return this.loading.then(() => undefined);
  }

  private async load(): Promise<Loaded> {
    const { getLlama, LlamaGrammarEvaluationState, resolveChatWrapper } = await import('node-llama-cpp');
    const o = this.options;
    // Prebuilt binaries only: never build from source, never download.
    const llama = await getLlama({
      gpu: o.gpuLayers === 0 ? false : 'auto',
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: 'error' as never,
      logger: () => undefined,
      maxThreads: o.threads,
    });
    this.gpu = llama.gpu;
    const model = await llama.loadModel({ modelPath: o.model, gpuLayers: o.gpuLayers });
    const context = await model.createContext({ contextSize: o.contextSize, batchSize: o.batchSize, threads: o.threads, sequences: 1 });
    const sequence = context.getSequence();
    const chatWrapper = resolveChatWrapper(model);
    return { llama, model, context, sequence, chatWrapper, LlamaGrammarEvaluationState };
  }

  run(job: EngineJob, control: RunControl): Promise<EngineOutput> {
    const result = this.queue.then(async () => {
      await this.start();
      return this.runNow(await this.loading!, job, control);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The prompt as tokens: the chat in the model's template, the assistant turn opened, then the prefill. */
  private promptTokens(l: Loaded, job: EngineJob): Token[] {
    const history: ChatHistoryItem[] = job.messages.map(toHistoryItem);
    history.push({ type: 'model', response: job.prefill ? [job.prefill] : [] });
    const { contextText } = l.chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(l.model.tokenizer);
  }

  private async runNow(l: Loaded, job: EngineJob, control: RunControl): Promise<EngineOutput> {
    const deadline = Date.now() + control.timeoutMs;
    const check = (): void => {
      control.signal?.throwIfAborted();
      if (Date.now() > deadline) {
        throw new TimeoutError(`${this.name} did not finish within the per-call timeout`, { provider: 'llama', retryable: true });
      }
    };
    check();
    const tokens = this.promptTokens(l, job);
    const seq = l.sequence;
    if (tokens.length >= seq.contextSize) {
      throw new ProviderError(`the prompt needs ${tokens.length} tokens but the context holds ${seq.contextSize}: raise \`contextSize\``, {
        provider: 'llama',
        retryable: false,
      });
    }
    // Keep the cached prefix, but always re-evaluate at least the last prompt token.
    const keep = Math.min(seq.compareContextTokens(tokens).firstDifferentIndex, tokens.length - 1);
    if (seq.nextTokenIndex > keep) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);

    if (job.candidates) return { kind: 'candidates', candidates: await this.candidates(l, job, tokens, keep) };

    const started = performance.now();
    const prefix = tokens.slice(keep, -1);
    if (prefix.length > 0) await seq.evaluateWithoutGeneratingNewTokens(prefix);
    const last = tokens[tokens.length - 1]!;
    const grammar = job.grammar ? await this.grammar(l.llama, job.grammar) : undefined;
    const samples: SampleOutput[] = [];
    for (let index = job.firstSample; index < job.samples; index++) {
      check();
      const t0 = performance.now();
      const start = seq.nextTokenIndex;
      const out: Token[] = [];
      let finishReason: SampleOutput['finishReason'] = 'stop';
      const limit = Math.min(job.maxTokens, seq.contextSize - tokens.length);
      try {
        const generator = seq.evaluate([last], {
          temperature: job.temperature,
          topK: 0,
          topP: 1,
          minP: 0,
          seed: (job.seed + index) >>> 0,
          ...(grammar ? { grammarEvaluationState: new l.LlamaGrammarEvaluationState({ model: l.model, grammar }) } : {}),
        });
        for await (const token of generator) {
          out.push(token);
          if (out.length >= limit) {
            finishReason = 'length';
            break;
          }
          check();
        }
      } finally {
        // Back to the end of the prompt, ready for the next sample or request.
        await seq.eraseContextTokenRanges([{ start, end: seq.nextTokenIndex }]);
      }
      samples.push({
        index,
        text: l.model.detokenize(out),
        finishReason,
        promptTokens: tokens.length,
        // The first sample also paid for the uncached prefix; every sample re-feeds one token.
        promptTokensEvaluated: (index === job.firstSample ? prefix.length : 0) + 1,
        generatedTokens: out.length,
        ms: performance.now() - t0 + (index === job.firstSample ? t0 - started : 0),
      });
    }
    return { kind: 'samples', samples };
  }

  private async candidates(l: Loaded, job: EngineJob, tokens: Token[], keep: number): Promise<CandidateOutput> {
    const started = performance.now();
    const input = tokens.slice(keep);
    const lastIndex = input.length - 1;
    // Temperature 1, no truncation: the map is the softmax over the whole vocabulary.
    const results = await l.sequence.controlledEvaluate(
      input.map((t, i) =>
        i === lastIndex ? [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] : t,
      ),
    );
    const dist = results[lastIndex]?.next?.probabilities;
    if (!dist) throw new ProviderError(`${this.name} returned no next-token distribution`, { provider: 'llama', retryable: false });
    let sum = 0;
    for (const p of dist.values()) sum += p;
    const probabilities: Record<string, number> = {};
    const firstTokens: Record<string, string> = {};
    for (const candidate of job.candidates ?? []) {
      const first = l.model.tokenize(candidate)[0];
      firstTokens[candidate] = first === undefined ? '' : l.model.detokenize([first], true);
      probabilities[candidate] = first === undefined ? 0 : (dist.get(first) ?? 0);
    }
    return {
      probabilities,
      firstTokens,
      distributionSize: dist.size,
      distributionSum: sum,
      promptTokens: tokens.length,
      promptTokensEvaluated: input.length,
      ms: performance.now() - started,
    };
  }

  private grammar(llama: Llama, gbnf: string): Promise<LlamaGrammar> {
    let g = this.grammars.get(gbnf);
    if (!g) {
      g = llama.createGrammar({ grammar: gbnf });
      this.grammars.set(gbnf, g);
      g.catch(() => this.grammars.delete(gbnf));
      if (this.grammars.size > 32) this.grammars.delete(this.grammars.keys().next().value!);
    }
    return g;
  }

  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (!loading) return;
    const l = await loading.catch(() => undefined);
    if (!l) return;
    await l.context.dispose();
    await l.model.dispose();
    await l.llama.dispose();
  }
}

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chatWrapper: ChatWrapper;
  LlamaGrammarEvaluationState: typeof import('node-llama-cpp').LlamaGrammarEvaluationState;
}

function toHistoryItem(m: WireMessage): ChatHistoryItem {
  const text = m.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
  if (m.role === 'system') return { type: 'system', text };
  if (m.role === 'user') return { type: 'user', text };
  return { type: 'model', response: [text] };
}
