import { AuthError, ProviderError, QuorumError, RateLimitError, TimeoutError } from '../core/errors.js';

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

/** The error for an HTTP failure, typed by status, with the policy's retryability. */
export function httpProviderError(
  provider: string,
  status: number,
  message: string,
  details: { requestId?: string | undefined; headers?: { get(name: string): string | null } | undefined; cause?: unknown },
): ProviderError {
  const fields = {
    provider,
    status,
    requestId: details.requestId,
    retryable: isRetryableStatus(status),
    retryAfterMs: retryAfterMs(details.headers),
  };
  const text = `${provider} answered HTTP ${status}: ${message}`;
  const options = { cause: details.cause };
  if (status === 401 || status === 403) return new AuthError(text, fields, options);
  if (status === 429) return new RateLimitError(text, fields, options);
  return new ProviderError(text, fields, options);
}

export function connectionError(provider: string, cause: unknown, timedOut: boolean): ProviderError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return timedOut
    ? new TimeoutError(`${provider} did not answer in time: ${reason}`, { provider, retryable: true }, { cause })
    : new ProviderError(`${provider} connection failed: ${reason}`, { provider, retryable: true }, { cause });
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
  options: { signal?: AbortSignal | undefined; onRetry?: (error: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (error) {
      const retryable = error instanceof ProviderError && error.retryable;
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
