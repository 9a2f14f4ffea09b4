import { AuthError, ProviderError, QuorumError, RateLimitError, TimeoutError } from '../../core/errors.js';

/**
 * Quorum's one retry policy. Retried: HTTP 408, 409, 429 and 5xx, timeouts and dropped
 * connections. The wait before attempt k (k = 1, 2, ...) is the server's `retry-after-ms`
 * or `retry-after` when it sent one (capped at `maxRetryAfterMs`), otherwise
 * `min(maxDelayMs, baseDelayMs * 2^(k-1))` scaled by a random factor in [0.75, 1]
 * (jitter). The SDKs' own retries are switched off so this is the only policy.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 4 */
  maxRetries: number;
  /** @default 500 */
  baseDelayMs: number;
  /** @default 8000 */
  maxDelayMs: number;
  /** Longest server-requested wait honoured. @default 60000 */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
};

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Milliseconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/**
 * Answers that no retry and no other item can fix: a bad key (401/403), an unknown
 * model or a wrong base URL (404), a model that takes no images. The run stops at the
 * first one instead of paying for it once per item.
 */
function isFatalAnswer(status: number, message: string): boolean {
  if (status === 401 || status === 403 || status === 404) return true;
  if (status !== 400 && status !== 422 && status !== 500 && status !== 501) return false;
  const m = message.toLowerCase();
  const images = /\b(image|images|vision|multimodal|mmproj|image_url)\b/.test(m) && /(not support|unsupported|does not accept|cannot|can't|no support|not enabled|not a multimodal|disabled)/.test(m);
  const model = /\bmodel\b/.test(m) && /(not found|does not exist|unknown|no such|not available|invalid model)/.test(m);
  return images || model;
}

/** Where a provider was reached, for messages: `openai at 127.0.0.1:8080`. */
export function providerSource(provider: string, baseURL: string | undefined): string {
  if (!baseURL) return provider;
  try {
    return `${provider} at ${new URL(baseURL).host}`;
  } catch {
    return `${provider} at ${baseURL}`;
  }
}

/** The error for an HTTP failure, typed by status, with the policy's retryability. */
export function httpProviderError(
  provider: string,
  status: number,
  message: string,
  details: {
    source?: string | undefined;
    requestId?: string | undefined;
    headers?: { get(name: string): string | null } | undefined;
    cause?: unknown;
  },
): ProviderError {
  const fatal = isFatalAnswer(status, message);
  const fields = {
    provider,
    status,
    requestId: details.requestId,
    retryable: !fatal && isRetryableStatus(status),
    retryAfterMs: retryAfterMs(details.headers),
    fatal,
  };
  const hint = status === 404 && !/model/i.test(message) ? ' (unknown model, or a base URL without the API path such as /v1?)' : '';
  const text = `${details.source ?? provider} answered HTTP ${status}: ${message}${hint}`;
  const options = { cause: details.cause };
  if (status === 401 || status === 403) return new AuthError(text, fields, options);
  if (status === 429) return new RateLimitError(text, fields, options);
  return new ProviderError(text, fields, options);
}

/** The innermost system error in a cause chain (`ECONNREFUSED`, `ENOTFOUND`, ...), with its address. */
function systemError(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown; errors?: unknown };
    if (typeof x.code === 'string' && /^E[A-Z_]+$/.test(x.code)) {
      const where =
        typeof x.address === 'string' ? `${x.address}${x.port !== undefined ? `:${String(x.port)}` : ''}` : typeof x.hostname === 'string' ? x.hostname : '';
      return where ? `${x.code} ${where}` : x.code;
    }
    // Happy eyeballs: an AggregateError of one failure per address.
    if (Array.isArray(x.errors) && x.errors.length) return systemError(x.errors[0]);
  }
  return undefined;
}

/** The message of the deepest `cause` ("fetch failed" wraps what actually went wrong). */
function innermostMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 8 && (e as { cause?: unknown })?.cause instanceof Error; depth++) e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * A request that got no HTTP answer. A host that does not resolve is fatal; refused,
 * reset and unreachable connections retry and feed the circuit breaker.
 */
export function connectionError(provider: string, cause: unknown, timedOut: boolean, source = provider): ProviderError {
  const errno = systemError(cause);
  const innermost = innermostMessage(cause);
  if (!errno && innermost === 'bad port') {
    // fetch (undici) refuses the ports browsers block (9, 25, 6000, ...) before connecting.
    return new ProviderError(
      `${source}: fetch refuses to connect to this port (a port browsers block, such as 9 or 6000); serve the judge on another port`,
      { provider, retryable: false, fatal: true, connection: true },
      { cause },
    );
  }
  const reason = errno ?? innermost;
  if (timedOut) return new TimeoutError(`${source} did not answer in time: ${reason}`, { provider, retryable: true }, { cause });
  const fatal = errno?.startsWith('ENOTFOUND') ?? false;
  return new ProviderError(
    `${source} ${fatal ? 'cannot be found' : 'connection failed'}: ${reason}`,
    { provider, retryable: !fatal, fatal, connection: true, errno },
    { cause },
  );
}

/**
 * An answer broken in transit: the connection dropped mid-body (`terminated`), a 200
 * whose body is not JSON, a 200 without the answer's fields. Retried like a 5xx.
 */
export function transportError(provider: string, what: string, source = provider, cause?: unknown): ProviderError {
  return new ProviderError(`${source} sent a broken answer: ${what}`, { provider, retryable: true }, { cause });
}

export class AbortedError extends QuorumError {
  override readonly name: string = 'AbortedError';
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function retryDelay(error: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  if (error instanceof ProviderError && error.retryAfterMs !== undefined) {
    return Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  }
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return backoff * (0.75 + 0.25 * random());
}

/**
 * Runs `fn` under the retry policy. Returns the value and how many attempts it took;
 * a non-retryable error, or the last retryable one, is thrown with `attempts` attached.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: {
    signal?: AbortSignal | undefined;
    onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
    /** A caller's veto on retrying an error the policy would retry. */
    shouldRetry?: (error: unknown) => boolean;
  } = {},
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (error) {
      const retryable = error instanceof ProviderError && error.retryable && (options.shouldRetry?.(error) ?? true);
      if (!retryable || attempt > policy.maxRetries || options.signal?.aborted) {
        if (error instanceof Error) Object.assign(error, { attempts: attempt });
        throw error;
      }
      const delay = retryDelay(error, attempt, policy);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

/** Runs `fn`, rethrowing its failure as `map` turns it (an SDK error into Quorum's provider error). */
export async function rethrowing<T>(fn: () => Promise<T>, map: (error: unknown) => unknown): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw map(error);
  }
}
