/**
 * The one retry policy: which failures are retried, how long to wait (the server's
 * retry-after when it gives one, capped; otherwise capped exponential backoff with
 * jitter), and how many attempts a call took.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, ProviderError, RateLimitError } from '../../src/core/errors.js';
import {
  connectionError,
  defaultRetryPolicy,
  httpProviderError,
  isRetryableStatus,
  retryAfterMs,
  retryDelay,
  withRetry,
  type RetryPolicy,
} from '../../src/judges/session/retry.js';

const headers = (h: Record<string, string>) => new Headers(h);
const policy: RetryPolicy = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };

describe('which failures are retried', () => {
  it('408, 409, 429 and 5xx; not other 4xx', () => {
    expect([408, 409, 429, 500, 502, 503, 504, 529].map(isRetryableStatus)).toEqual(Array(8).fill(true));
    expect([400, 401, 403, 404, 413, 422].map(isRetryableStatus)).toEqual(Array(6).fill(false));
  });

  it('errors are typed by status: 401/403 are auth errors, never retried; 429 a rate limit with its wait', () => {
    const auth = httpProviderError('openai', 401, 'bad key', {});
    expect(auth).toBeInstanceOf(AuthError);
    expect(auth).toMatchObject({ status: 401, retryable: false, provider: 'openai' });
    expect(auth.message).toBe('openai answered HTTP 401: bad key');
    const limited = httpProviderError('anthropic', 429, 'slow down', { headers: headers({ 'retry-after': '2' }), requestId: 'req_1' });
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited).toMatchObject({ retryable: true, retryAfterMs: 2000, requestId: 'req_1' });
    expect(connectionError('openai', new Error('socket hang up'), false)).toMatchObject({ retryable: true });
    expect(connectionError('openai', new Error('timeout'), true).message).toMatch(/did not answer in time/);
  });
});

describe('retry-after', () => {
  it('retry-after-ms wins, then retry-after in seconds, then an HTTP date', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': '1.5' }))).toBe(1500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(headers({}))).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('the delay is the server-requested wait, capped at maxRetryAfterMs, with no jitter', () => {
    const wait = (ms: number) => new RateLimitError('429', { provider: 'openai', status: 429, retryable: true, retryAfterMs: ms });
    expect(retryDelay(wait(1000), 1, policy, () => 0)).toBe(1000);
    expect(retryDelay(wait(1000), 3, policy, () => 1)).toBe(1000);
    expect(retryDelay(wait(0), 1, policy)).toBe(0);
    expect(retryDelay(wait(10 * 60_000), 1, policy)).toBe(60_000);
    expect(retryDelay(wait(5000), 1, { ...policy, maxRetryAfterMs: 2000 })).toBe(2000);
  });
});

describe('backoff without retry-after', () => {
  const error = new ProviderError('500', { provider: 'openai', status: 500, retryable: true });

  it('doubles from baseDelayMs, capped at maxDelayMs, scaled by a jitter factor in [0.75, 1]', () => {
    const top = (attempt: number) => retryDelay(error, attempt, policy, () => 1);
    const bottom = (attempt: number) => retryDelay(error, attempt, policy, () => 0);
    expect([1, 2, 3, 4, 5, 6, 10, 30].map(top)).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    expect([1, 2, 5, 30].map(bottom)).toEqual([375, 750, 6000, 6000]);
    for (let attempt = 1; attempt <= 8; attempt++) {
      const d = retryDelay(error, attempt, policy);
      expect(d).toBeGreaterThanOrEqual(bottom(attempt));
      expect(d).toBeLessThanOrEqual(top(attempt));
    }
  });

  it('the defaults are documented ones', () => {
    expect(defaultRetryPolicy).toEqual({ maxRetries: 4, baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 });
  });
});

describe('withRetry', () => {
  const fast: RetryPolicy = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 };
  const failing = (errors: Error[]) => {
    let calls = 0;
    const fn = async (attempt: number) => {
      calls++;
      const e = errors[attempt - 1];
      if (e) throw e;
      return `ok after ${attempt}`;
    };
    return { fn, calls: () => calls };
  };
  const server = (status: number) => httpProviderError('openai', status, 'x', {});

  it('retries retryable failures and reports the attempts', async () => {
    const f = failing([server(500), server(429)]);
    const delays: number[] = [];
    await expect(withRetry(f.fn, fast, { onRetry: (_e, _a, ms) => delays.push(ms) })).resolves.toEqual({ value: 'ok after 3', attempts: 3 });
    expect(delays).toHaveLength(2);
  });

  it('gives up after maxRetries retries with the last error, its attempts attached', async () => {
    const f = failing([server(503), server(503), server(502), server(500)]);
    const error = await withRetry(f.fn, fast).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 502, attempts: 3 });
    expect(f.calls()).toBe(3);
  });

  it('never retries an auth error or a non-provider error', async () => {
    const auth = failing([server(401)]);
    await expect(withRetry(auth.fn, fast)).rejects.toMatchObject({ status: 401, attempts: 1 });
    expect(auth.calls()).toBe(1);
    const bug = failing([new TypeError('bug')]);
    await expect(withRetry(bug.fn, fast)).rejects.toBeInstanceOf(TypeError);
    expect(bug.calls()).toBe(1);
  });

  it('stops waiting when aborted', async () => {
    const slow: RetryPolicy = { ...fast, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const controller = new AbortController();
    const f = failing([server(500), server(500)]);
    const pending = withRetry(f.fn, slow, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toMatchObject({ name: 'AbortedError' });
    expect(f.calls()).toBe(1);
  });
});
