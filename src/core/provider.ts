/**
 * The provider seam: the one small interface every judge backend implements. Sampling,
 * parsing, caching, retries and cost accounting are written once above it.
 */

/** An image ready to send: encoded once per image per run. */
export interface ImagePart {
  type: 'image';
  /** Encoded bytes (PNG, JPEG or WebP) after orientation and downscaling. */
  data: Uint8Array;
  mediaType: 'image/png' | 'image/jpeg' | 'image/webp';
  /** sha256 of the ORIGINAL file bytes: the image's identity in the store. */
  sha256: string;
  width: number;
  height: number;
}

export interface TextPart {
  type: 'text';
  text: string;
}

export type ContentPart = TextPart | ImagePart;

export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string | ContentPart[];
}

/** A JSON schema handed to the provider's structured-output mode (OpenAI json_schema, Anthropic tool use). */
export interface ResponseSchema {
  name: string;
  description?: string;
  schema: Record<string, unknown>;
}

export interface CompletionRequest {
  messages: Message[];
  /**
   * Forced start of the assistant's answer (Q-Align's "The quality of the image is").
   * Providers that cannot prefill (`capabilities.prefill === false`) ignore it; the prompt
   * then asks the judge to write the prefix itself.
   */
  prefill?: string;
  /** @default 1 */
  temperature: number;
  maxTokens: number;
  /** Number of choices wanted from one request (only when `capabilities.multipleChoices`). @default 1 */
  n?: number;
  seed?: number;
  /** Ask for the top-k log-probabilities of every generated token. */
  logprobs?: { top: number };
  /**
   * Candidate continuations whose exact probabilities are wanted right after the
   * prompt (and prefill), without generating. Only engines with
   * `capabilities.candidateProbabilities` honour it (local models).
   */
  candidates?: readonly string[];
  /** Constrain the answer to this JSON schema where the provider can. */
  responseSchema?: ResponseSchema;
  /**
   * A grammar-level description of the answer shape, for engines that constrain decoding
   * (local models): JSON schema answers use `responseSchema`; tagged answers use this.
   */
  answerShape?: {
    kind: 'think-answer';
    maxThinkChars: number;
    /** Words allowed in `<answer>` (a comparison's `A`/`B`/`same`); otherwise a number in `range`. */
    choices?: readonly string[] | undefined;
    /** Range of a numeric answer, inclusive. @default [1, 5] */
    range?: readonly [number, number] | undefined;
  };
}

export interface TopLogprob {
  token: string;
  logprob: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top: TopLogprob[];
}

export interface Choice {
  text: string;
  finishReason?: string | undefined;
  /** Log-probabilities of the generated tokens, when asked for and available. */
  logprobs?: TokenLogprob[] | undefined;
  /** Exact probabilities of `request.candidates`, when asked for (sum over the whole vocabulary = 1). */
  candidateProbabilities?: Record<string, number> | undefined;
  /** Structured answer from tool use / json mode, when the provider returned one as an object. */
  structured?: unknown;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface Completion {
  choices: Choice[];
  usage: Usage;
  /** The model name the provider reports. */
  model?: string | undefined;
  requestId?: string | undefined;
  /** Engine facts worth storing with the call (prompt evaluations, file fingerprints). */
  meta?: Record<string, unknown> | undefined;
  /** The replica that answered, when the judge is an endpoint pool (its base URL); stored with the call. */
  endpoint?: string | undefined;
}

export interface ProviderCapabilities {
  /** Returns per-token top log-probabilities (needed by the `levels` method). */
  logprobs: boolean;
  /** Can return several choices from one request (`n`), paying for the prompt once. */
  multipleChoices: boolean;
  /** Has a native structured-output mode. */
  structuredOutput: boolean;
  /** Honours `prefill`. */
  prefill: boolean;
  /** Honours `candidates` (exact next-token probabilities). */
  candidateProbabilities: boolean;
  /** Accepts images. */
  images: boolean;
}

export interface CompleteOptions {
  signal?: AbortSignal | undefined;
}

export interface Provider {
  /** Provider id, e.g. `openai`, `anthropic`, `llama`. */
  readonly id: string;
  readonly model: string;
  readonly capabilities: ProviderCapabilities;
  /** Longest image side this provider should receive, in pixels. */
  readonly maxImageSide: number;
  /** The server requests go to (base URL), for probes and messages; absent for in-process engines. */
  readonly endpoint?: string | undefined;
  /**
   * What identifies this judge beyond provider and model, for the cache key and the
   * store: base URL, model file hashes, engine version. Never secrets.
   */
  identity(): Record<string, unknown>;
  complete(request: CompletionRequest, options?: CompleteOptions): Promise<Completion>;
  /** The provider's batch API, where it has one (`--batch`): same bodies, batch prices. */
  readonly batch?: BatchClient | undefined;
  /**
   * Checks and prepares everything a run needs (local model files, engines) so that a
   * problem is reported before any work starts. Optional; `complete` opens lazily.
   */
  open?(): Promise<void>;
  close?(): Promise<void>;
}

/** What a provider factory receives. Keys are resolved by the caller from the environment. */
export interface ProviderConfig {
  /** Model name, or a model file for local providers. */
  model: string;
  baseURL?: string | undefined;
  apiKey?: string | undefined;
  /** Per-request timeout in milliseconds. @default 120000 */
  timeoutMs?: number | undefined;
  maxImageSide?: number | undefined;
  /** Provider-specific options (e.g. `mmproj`, `gpuLayers` for local models). */
  options?: Record<string, unknown> | undefined;
}

/** One request of a provider batch: the id that maps its answer back, and the request. */
export interface BatchRequest {
  /** `^[a-zA-Z0-9_-]{1,64}$` (Anthropic's rule, the stricter one); unique within a batch. */
  customId: string;
  request: CompletionRequest;
}

/** Where a submitted batch stands. */
export interface BatchState {
  /** `ended`: results can be downloaded; `failed`: the provider rejected the whole batch. */
  status: 'in_progress' | 'ended' | 'failed';
  /** Requests the provider reports done, failed and in all (while it runs); absent where not reported. */
  counts: { total?: number | undefined; done?: number | undefined; failed?: number | undefined };
  /** Why the whole batch failed, when it did. */
  error?: string | undefined;
}

/** The outcome of one batch request. */
export type BatchOutcome =
  | { customId: string; type: 'succeeded'; completion: Completion }
  /** The request was run and failed (an HTTP error inside the batch): recorded like a failed live call. */
  | { customId: string; type: 'errored'; error: string; status?: number | undefined }
  /** The request was never run (the batch expired or was canceled): asked again in a later batch. */
  | { customId: string; type: 'expired' | 'canceled' };

/**
 * A provider's batch API (OpenAI Batch API, Anthropic Message Batches): the same request
 * bodies as `complete`, answered within a day at a lower price.
 */
export interface BatchClient {
  /** Serialises one request as the provider's batch line (one JSON object, no newline). */
  line(item: BatchRequest): string;
  /** Submits lines made by `line`; resolves to the provider's batch id. */
  submit(lines: readonly string[]): Promise<string>;
  state(remoteId: string): Promise<BatchState>;
  /** Every request's outcome, once the batch has ended. */
  results(remoteId: string): Promise<BatchOutcome[]>;
}
