import type { Provider } from '../core/provider.js';
import type { EndpointSpec } from '../judges/pool/endpoints.js';
import type { PriceTable } from '../judges/prices.js';
import type { PromptTemplate } from '../prompts/template.js';
import type { RetryFailed, Store } from '../store/store.js';

/**
 * What every library call (`score`, `compare`, `rank`) takes: the judge, how to reach it,
 * where calls are stored and how the run is paced. Only `judge` is required.
 *
 * @example
 * { judge: 'openai:gpt-4o-mini' }                                        // key from OPENAI_API_KEY
 * { judge: 'openai:qwen2.5-vl', baseURL: 'http://127.0.0.1:8080/v1' }    // llama-server, vLLM, Ollama
 * { judge: 'anthropic:claude-sonnet-4-6', db: 'runs.db', maxCost: 2 }
 */
export interface JudgeOptions {
  /**
   * The judge: `provider:model` (`openai:gpt-4o-mini`, `anthropic:claude-sonnet-4-6`,
   * `llama:./model.gguf`), or a `Provider` you created (Quorum neither opens nor closes it,
   * and `baseURL`, `apiKey`, `timeout`, `maxImageSide` and `engine` do not apply to it).
   */
  judge: string | Provider;
  /** An OpenAI-compatible server (llama-server, vLLM, Ollama, `startDemoServer().url`). */
  baseURL?: string | undefined;
  /**
   * An endpoint pool instead of one `baseURL`: replicas of an OpenAI-compatible server
   * serving the same model. Each request goes to the endpoint with the fewest outstanding
   * requests relative to its `weight`; an endpoint that fails is taken out, probed and
   * brought back; the run stops only when every endpoint is down. The cache is shared
   * across the pool (the judge is its model, not a replica). `openai:` judges only.
   * @example [{ url: 'http://gpu-1:8000/v1', weight: 2 }, { url: 'http://gpu-2:8000/v1', concurrency: 8 }]
   */
  endpoints?: readonly EndpointSpec[] | undefined;
  /**
   * API key.
   * @default the provider's environment variable (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`), read when the call is made
   */
  apiKey?: string | undefined;
  /** Seconds before one request is abandoned and retried. @default 120 */
  timeout?: number | undefined;
  /** Longest image side sent to the judge, in pixels. @default 1536 OpenAI, 1568 Anthropic */
  maxImageSide?: number | undefined;
  /**
   * Options of `llama:` judges, as in the CLI: `mmproj` (projector file), `gpuLayers`
   * (number or `'auto'`), `contextSize`, `threads`, `batchSize`.
   * @example { mmproj: './mmproj-f16.gguf', gpuLayers: 'auto' }
   */
  engine?: Record<string, string | number> | undefined;
  /** Sampling seed sent to the judge (part of the cache key). */
  seed?: number | undefined;
  /** Prices (USD per million tokens) extending the built-in table, keyed `provider:model-prefix`. */
  prices?: PriceTable | undefined;
  /** Requests in flight at once, 1-1024. @default 4 */
  concurrency?: number | undefined;
  /** Requests started per minute. @default unlimited */
  rpm?: number | undefined;
  /** Stop issuing calls before the estimated cost would pass this many USD (needs a price). */
  maxCost?: number | undefined;
  /** Retries per request on 408/409/429/5xx, timeouts and dropped connections. @default 4 */
  retries?: number | undefined;
  /**
   * The SQLite database every call is stored in (reruns are served from it), or an open
   * `Store` (left open). `':memory:'` keeps nothing.
   * @default 'quorum.db' (in the working directory; the CLI's `QUORUM_DB` is not read)
   */
  db?: string | Store | undefined;
  /** Run name; the same name resumes that run (only with the same configuration). @default derived from the inputs and options, as the CLI does */
  runName?: string | undefined;
  /** Start `runName` afresh when it exists (the old run is kept as `NAME~ID`), as the CLI's `--new`. */
  fresh?: boolean | undefined;
  /**
   * Stored answers that did not parse, asked again instead of served from the database:
   * `mismatch` (those the server caused, e.g. no log-probabilities came back), `all`, or `none`.
   * @default 'mismatch'
   */
  retryFailed?: RetryFailed | undefined;
  /** Stops the run: calls in flight finish, no new ones start, the result says `interrupted`. */
  signal?: AbortSignal | undefined;
}

/** Options of the pairwise calls (`compare`, `rank`) on top of `JudgeOptions`. */
export interface PairOptions extends JudgeOptions {
  /**
   * Pair template: `compare-levels` (log-probabilities, one call per order),
   * `compare-sample` (K reasoned verdicts), a template file, or a template object.
   * @default compare-levels where the judge returns log-probabilities, else compare-sample
   */
  prompt?: string | PromptTemplate | undefined;
  /** Verdicts per order with compare-sample, 1-1000. @default 3 */
  samples?: number | undefined;
  /** Sampling temperature with compare-sample, 0-2. @default 1 */
  temperature?: number | undefined;
  /** Seed of random orders, pair choice and bootstrap intervals. @default 0 */
  bootstrapSeed?: number | undefined;
}
