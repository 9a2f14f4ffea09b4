/**
 * What an engine is asked to do for one request, independent of the engine: the chat,
 * the forced prefix, and either exact candidate probabilities or `samples` constrained
 * generations that share one prompt evaluation.
 */

export type WirePart = { type: 'text'; text: string } | { type: 'image'; data: Uint8Array; mediaType: string };

export interface WireMessage {
  role: 'system' | 'user' | 'assistant';
  content: WirePart[];
}

export interface EngineJob {
  messages: WireMessage[];
  /** Forced start of the answer; generation (or the candidate read-out) continues after it. */
  prefill: string;
  /** Candidate continuations to score instead of generating. */
  candidates: string[] | undefined;
  /** Generations wanted (ignored for candidates). */
  samples: number;
  /** First sample index to produce (a resumed job skips the ones already done). */
  firstSample: number;
  temperature: number;
  /** Hard token limit per generation. */
  maxTokens: number;
  /** Sample `i` uses seed `seed + i`, so a resumed or repeated job draws the same samples. */
  seed: number;
  /** GBNF the answer must match. */
  grammar: string | undefined;
  /** Vocabulary size, for reading the full next-token distribution. */
  vocabSize: number;
}

export interface SampleOutput {
  index: number;
  /** Generated text, after the prefill. */
  text: string;
  finishReason: 'stop' | 'length';
  /** Tokens in the prompt (with prefill and image tokens). */
  promptTokens: number;
  /** Prompt tokens the engine actually evaluated for this sample (the rest came from its cache). */
  promptTokensEvaluated: number;
  generatedTokens: number;
  ms: number;
}

export interface CandidateOutput {
  /** Probability of each candidate's first token right after the prompt and prefill. */
  probabilities: Record<string, number>;
  /** The first token of each candidate, as the engine spells it. */
  firstTokens: Record<string, string>;
  /** Entries in the full next-token distribution that was read. */
  distributionSize: number;
  /** Sum of that distribution (1 up to rounding: it covers the whole vocabulary). */
  distributionSum: number;
  promptTokens: number;
  promptTokensEvaluated: number;
  ms: number;
}

export type EngineOutput =
  | { kind: 'samples'; samples: SampleOutput[] }
  | { kind: 'candidates'; candidates: CandidateOutput };

export interface RunControl {
  /** Longest time the engine may work on the call, from the moment it takes it up (queueing and loading excluded), in ms. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** What both engines offer the provider. */
export interface Engine {
  /** `package@version`, stored with every call. */
  readonly name: string;
  /** Loads the model (and projector); model file problems reject with `ModelFileError`. */
  start(): Promise<void>;
  run(job: EngineJob, control: RunControl): Promise<EngineOutput>;
  close(): Promise<void>;
}
