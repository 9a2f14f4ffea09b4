import { ProviderError, UnreachableError } from '../../core/errors.js';

/**
 * A circuit breaker for a server that cannot be reached. Each request's retries alone
 * would cost every item its full backoff (about 8 s per item against a dead `--base-url`);
 * instead, after `threshold` consecutive connection failures the breaker opens: new
 * attempts wait while it probes the server with plain TCP connections, and either closes
 * again (the server is back) or gives up with one error naming the host and the errno.
 */
export interface BreakerOptions {
  /** Consecutive connection failures that open the breaker. @default 3 */
  threshold: number;
  /** TCP probes before giving up. @default 3 */
  probes: number;
  /** Wait before the first probe; doubled for each next one, ms. @default 500 */
  probeDelayMs: number;
  /** One probe's connect timeout, ms. @default 3000 */
  probeTimeoutMs: number;
}

const defaultBreakerOptions: BreakerOptions = { threshold: 3, probes: 3, probeDelayMs: 500, probeTimeoutMs: 3000 };

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #endpoint: { host: string; port: number } | undefined;
  readonly #source: string;
  #consecutive = 0;
  #lastError: ProviderError | undefined;
  #probing: Promise<void> | undefined;
  #failed: UnreachableError | undefined;

  /** `endpoint`: the server's base URL; without one (in-process engines) the breaker never opens. */
  constructor(endpoint: string | undefined, source: string, options: Partial<BreakerOptions> = {}) {
    this.#options = { ...defaultBreakerOptions, ...options };
    this.#source = source;
    if (endpoint) {
      try {
        const url = new URL(endpoint);
        const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
        this.#endpoint = { host: url.hostname.replace(/^\[|\]$/g, ''), port };
      } catch {
        this.#endpoint = undefined;
      }
    }
  }

  /** The error the breaker gave up with, once it has. */
  get failure(): UnreachableError | undefined {
    return this.#failed;
  }

  /** Resolves when a request may be sent; rejects once the breaker has given up. */
  async ready(): Promise<void> {
    if (this.#failed) throw this.#failed;
    if (this.#probing) await this.#probing;
    if (this.#failed) throw this.#failed;
  }

  succeeded(): void {
    this.#consecutive = 0;
  }

  /** Reports a failed attempt; connection failures count towards opening the breaker. */
  failed(error: unknown): void {
    if (!(error instanceof ProviderError) || !error.connection) {
      this.#consecutive = 0;
      return;
    }
    this.#lastError = error;
    this.#consecutive++;
    if (this.#consecutive >= this.#options.threshold && !this.#probing && !this.#failed && this.#endpoint) {
      this.#probing = this.#probe(this.#endpoint).finally(() => (this.#probing = undefined));
    }
  }

  async #probe(endpoint: { host: string; port: number }): Promise<void> {
    let delay = this.#options.probeDelayMs;
    let reason = this.#lastError?.errno ?? 'no connection';
    for (let i = 0; i < this.#options.probes; i++) {
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
      const outcome = await tcpProbe(endpoint.host, endpoint.port, this.#options.probeTimeoutMs);
      if (outcome === true) {
        this.#consecutive = 0;
        return;
      }
      reason = outcome;
    }
    const last = this.#lastError;
    this.#failed = new UnreachableError(
      `cannot reach ${this.#source}: ${reason} after ${this.#consecutive} failed attempts and ${this.#options.probes} probes (is the server running?)`,
      { provider: last?.provider ?? 'unknown', retryable: false, fatal: true, connection: true, errno: reason },
      { cause: last },
    );
  }
}

/** Opens and closes one TCP connection: true, or the errno with the address. */
async function tcpProbe(host: string, port: number, timeoutMs: number): Promise<true | string> {
  // node:net loads here: a run whose server never fails does not pay for it at start-up.
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: true | string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done(`ETIMEDOUT ${host}:${port}`));
    socket.once('connect', () => done(true));
    socket.once('error', (e: NodeJS.ErrnoException) => done(`${e.code ?? e.message} ${host}:${port}`));
  });
}
