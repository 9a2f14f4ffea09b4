import { UsageError } from '../core/errors.js';
import type { Provider } from '../core/provider.js';
import type { JudgeRunOptions } from '../judges/run.js';
import { defaultPrices, priceFor, type Price } from '../judges/prices.js';
import { checkEndpoints } from '../judges/pool/endpoints.js';
import { createPoolProvider, poolOf } from '../judges/pool/pool.js';
import { createProvider, parseJudgeSpec, providerRegistry } from '../judges/providers/registry.js';
import { defaultRetryPolicy, type RetryPolicy } from '../judges/session/retry.js';
import { Store } from '../store/store.js';
import { MAX_CONCURRENCY, integerOption, numberOption } from './_validate.js';
import type { JudgeOptions } from './options.js';

/** A judge ready to run: the provider and what a run needs from the options. */
export interface OpenedJudge {
  provider: Provider;
  /** `provider:model`. */
  spec: string;
  price: Price | undefined;
  retry: RetryPolicy;
  concurrency: number;
  rpm: number | undefined;
  maxCost: number | undefined;
  /** What is stored with the run: everything that shaped the judge, never keys. */
  stored: Record<string, unknown>;
  /** Closes the provider if `openJudge` created it (a `Provider` you gave is left alone). */
  close(): Promise<void>;
}

/**
 * Creates and opens the judge of `options` (or takes the `Provider` given), checks that it
 * can see images and prices it. Keys come from `options.apiKey`, else from `env` under
 * the provider's variable (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`). Problems with model
 * files, engines or settings surface here, before any work starts.
 * @example
 * const judge = await openJudge({ judge: 'openai:gpt-4o-mini' }, process.env);
 * judge.price; // => { input: 0.15, output: 0.6 }
 * await judge.close();
 */
export async function openJudge(
  options: JudgeOptions,
  env: Readonly<Record<string, string | undefined>>,
  /** How the caller's user names the projector option, for the one message that needs it. */
  names: { mmproj: string } = { mmproj: 'give engine.mmproj' },
): Promise<OpenedJudge> {
  let concurrency = integerOption('concurrency', options.concurrency, 1, MAX_CONCURRENCY);
  const rpm = integerOption('rpm', options.rpm, 1);
  const retries = integerOption('retries', options.retries, 0, 100);
  const maxCost = numberOption('maxCost', options.maxCost, 0);
  const seed = integerOption('seed', options.seed, 0);
  const timeout = numberOption('timeout', options.timeout, 0.001);
  const maxImageSide = integerOption('maxImageSide', options.maxImageSide, 16);

  let provider: Provider;
  let owned: boolean;
  let baseURL: string | undefined;
  let engine: Record<string, unknown> = {};
  if (typeof options.judge === 'string') {
    const { provider: providerId, model } = parseJudgeSpec(options.judge);
    baseURL = options.baseURL;
    engine = { ...options.engine, ...(seed !== undefined ? { seed } : {}) };
    const keyEnv = providerRegistry[providerId]?.keyEnv;
    const apiKey = options.apiKey ?? (keyEnv ? env[keyEnv] : undefined);
    const config = (url: string | undefined) => ({
      model,
      ...(url ? { baseURL: url } : {}),
      ...(apiKey ? { apiKey } : {}),
      timeoutMs: (timeout ?? 120) * 1000,
      ...(maxImageSide ? { maxImageSide } : {}),
      options: engine,
    });
    if (options.endpoints !== undefined) {
      if (baseURL !== undefined) throw new UsageError('Give either `baseURL` or `endpoints`, not both');
      if (providerId !== 'openai') throw new UsageError(`\`endpoints\` pools OpenAI-compatible servers: use an openai: judge, got \`${options.judge}\``);
      const endpoints = checkEndpoints(options.endpoints);
      // The first endpoint stands for the pool where one URL is asked for (is the judge local?).
      baseURL = endpoints[0]?.url;
      const members = await Promise.all(endpoints.map((e) => createProvider(providerId, config(e.url))));
      provider = createPoolProvider(endpoints, (_, i) => members[i] as Provider);
    } else provider = await createProvider(providerId, config(baseURL));
    owned = true;
  } else {
    for (const key of ['baseURL', 'apiKey', 'timeout', 'maxImageSide', 'engine'] as const) {
      if (options[key] !== undefined) throw new UsageError(`\`${key}\` configures a judge given as provider:model; a Provider object carries its own`);
    }
    provider = options.judge;
    const identity = provider.identity();
    baseURL = typeof identity['baseURL'] === 'string' ? identity['baseURL'] : undefined;
    owned = false;
  }
  const spec = `${provider.id}:${provider.model}`;
  const pool = poolOf(provider);
  // A pool whose endpoints all set their concurrency runs as many requests as they sum to.
  concurrency ??= Math.min(MAX_CONCURRENCY, pool?.concurrency ?? 4);
  let price: Price | undefined;
  try {
    if (owned) await provider.open?.();
    if (!provider.capabilities.images) {
      throw new UsageError(
        provider.id === 'llama'
          ? `${spec} cannot see images without its vision projector: ${names.mmproj} (\`quorum models <dir>\` lists them)`
          : `${spec} does not accept images`,
      );
    }
    const local = providerRegistry[provider.id]?.local?.({ model: provider.model, ...(baseURL ? { baseURL } : {}) }) ?? false;
    price = priceFor(defaultPrices, provider.id, provider.model, local, options.prices ?? {});
    if (maxCost !== undefined && !price) {
      throw new UsageError(`maxCost needs a price for ${spec}; add it with prices: { '${spec}': { input: USD per 1M tokens, output: ... } }`);
    }
  } catch (error) {
    if (owned) await provider.close?.();
    throw error;
  }
  return {
    provider,
    spec,
    price,
    retry: { ...defaultRetryPolicy, ...(retries !== undefined ? { maxRetries: retries } : {}) },
    concurrency,
    rpm,
    maxCost,
    stored: {
      judge: spec,
      // A pool is stored as one: replicas may come and go between resumes of the run.
      ...(pool ? { pool: true } : baseURL ? { baseURL } : {}),
      ...(Object.keys(engine).length ? { engine } : {}),
      maxImageSide: provider.maxImageSide,
    },
    close: async () => {
      if (owned) await provider.close?.();
    },
  };
}

/**
 * Opens the judge and the store, runs `body` with the options every judging run takes,
 * and closes what it opened, whatever happens.
 */
export async function withJudgeRun<T>(
  options: JudgeOptions,
  body: (
    judge: OpenedJudge,
    store: Store,
    run: Pick<JudgeRunOptions, 'price' | 'concurrency' | 'rpm' | 'maxCost' | 'retry' | 'onSession' | 'fresh' | 'retryFailed'>,
  ) => Promise<T>,
): Promise<T> {
  const judge = await openJudge(options, process.env);
  let store: Store;
  try {
    store = typeof options.db === 'object' ? options.db : Store.open(options.db ?? 'quorum.db');
  } catch (error) {
    await judge.close();
    throw error;
  }
  const { signal } = options;
  let stop: (() => void) | undefined;
  try {
    return await body(judge, store, {
      price: judge.price,
      concurrency: judge.concurrency,
      rpm: judge.rpm,
      maxCost: judge.maxCost,
      retry: judge.retry,
      fresh: options.fresh,
      retryFailed: options.retryFailed,
      onSession: (session) => {
        stop = () => session.stop();
        if (signal?.aborted) stop();
        else signal?.addEventListener('abort', stop, { once: true });
      },
    });
  } finally {
    if (stop) signal?.removeEventListener('abort', stop);
    if (typeof options.db !== 'object') store.close();
    await judge.close();
  }
}
