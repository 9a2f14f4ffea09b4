import { describeError, ProviderError, TimeoutError, UnreachableError } from '../../core/errors.js';
import type { Completion, CompleteOptions, CompletionRequest, Provider } from '../../core/provider.js';
import { judgeFetch } from '../providers/_fetch.js';
import { AbortedError } from '../session/retry.js';
import type { EndpointSpec } from './endpoints.js';
import { hostOf } from './report.js';

/**
 * An endpoint pool: one judge served by several replicas of an OpenAI-compatible server.
 * It is a `Provider`, so the session above it (cache, claims, retries, budget) is the
 * same as for one server; only where a request goes changes.
 *
 * - Routing: each request goes to the healthy endpoint with the fewest outstanding
 *   requests relative to its weight ((outstanding + 1) / weight, lowest first), within
 *   the endpoint's own concurrency. A slow replica holds its requests longer, so it is
 *   handed fewer: load follows speed without being measured.
 * - Failures: a refused or dropped connection, a timeout or a broken answer takes the
 *   endpoint out at once, and the request moves to another endpoint (it was never
 *   answered, so nothing is paid twice); `threshold` consecutive 5xx answers take it out
 *   too (the 5xx itself goes back to the session's retry policy: the server is alive and
 *   may be refusing this one request). An endpoint taken out is probed (`GET /models`)
 *   after a back-off that doubles while it stays down, and returns when it answers.
 * - Only when every endpoint is down and has failed `probes` probes in a row does the
 *   pool give up, with one `UnreachableError` naming each endpoint and why: the session
 *   treats it as the single-server circuit breaker's (the run stops with one line, the
 *   requests waiting for an endpoint are not recorded against their items).
 */
export interface PoolOptions {
  /** Consecutive 5xx answers that take an endpoint out (a connection failure takes it out at once). @default 2 */
  threshold: number;
  /** Back-off before the first probe of an endpoint taken out, ms; doubled per failed probe. @default 500 */
  backoffMs: number;
  /** Longest back-off between probes, ms. @default 10000 */
  maxBackoffMs: number;
  /** One probe's timeout, ms. @default 3000 */
  probeTimeoutMs: number;
  /** Failed probes in a row, on every endpoint at once, before the pool gives up. @default 3 */
  probes: number;
}

const defaultPoolOptions: PoolOptions = { threshold: 2, backoffMs: 500, maxBackoffMs: 10_000, probeTimeoutMs: 3000, probes: 3 };

/** What the pool knows about one endpoint, for progress and summaries. */
export interface EndpointStats {
  url: string;
  weight: number;
  state: 'up' | 'down' | 'probing';
  outstanding: number;
  /** Requests answered (HTTP 2xx with an answer). */
  ok: number;
  /** Requests that failed here (connection, timeout, broken answer, HTTP error). */
  errors: number;
  /** Times this endpoint was taken out, and came back. */
  takenOut: number;
  returned: number;
  /** Summed latency of answered requests, ms. */
  latencyMs: number;
  lastError: string | undefined;
}

class Endpoint {
  readonly stats: EndpointStats;
  readonly limit: number;
  /** Consecutive 5xx answers. */
  consecutive = 0;
  /** Failed probes since it was taken out. */
  failedProbes = 0;
  timer: NodeJS.Timeout | undefined;
  constructor(
    readonly spec: EndpointSpec,
    readonly provider: Provider,
  ) {
    this.limit = spec.concurrency ?? Number.POSITIVE_INFINITY;
    this.stats = { url: spec.url, weight: spec.weight ?? 1, state: 'up', outstanding: 0, ok: 0, errors: 0, takenOut: 0, returned: 0, latencyMs: 0, lastError: undefined };
  }
  get host(): string {
    return hostOf(this.spec.url);
  }
}

/**
 * Errors that say the endpoint, not the request, is at fault, and that left the request
 * unanswered: it can go to another endpoint at once.
 */
function movesElsewhere(error: ProviderError): boolean {
  if (error.fatal) return false;
  if (error.connection || error instanceof TimeoutError) return true;
  // A broken answer (connection cut mid-body, not JSON): retryable, no HTTP status.
  return error.status === undefined && error.retryable;
}

export class EndpointPool {
  readonly #endpoints: Endpoint[];
  readonly #options: PoolOptions;
  readonly #label: string;
  /** Requests waiting for a free endpoint; woken whenever one may have become free. */
  #waiters: (() => void)[] = [];
  /** Set when every endpoint stayed down: the error every waiting and later request gets. */
  #failure: UnreachableError | undefined;
  #closed = false;
  /** Round-robin start for ties, so equal endpoints share a burst instead of the first taking it. */
  #cursor = 0;

  constructor(endpoints: readonly { spec: EndpointSpec; provider: Provider }[], label: string, options: Partial<PoolOptions> = {}) {
    this.#endpoints = endpoints.map((e) => new Endpoint(e.spec, e.provider));
    this.#options = { ...defaultPoolOptions, ...options };
    this.#label = label;
  }

  /** Per-endpoint counters, in the order the endpoints were given. */
  stats(): EndpointStats[] {
    return this.#endpoints.map((e) => ({ ...e.stats }));
  }

  /** Sum of the endpoints' own concurrency limits; undefined when any has none. */
  get concurrency(): number | undefined {
    const sum = this.#endpoints.reduce((s, e) => s + e.limit, 0);
    return Number.isFinite(sum) ? sum : undefined;
  }

  /**
   * Sends one request: to the best endpoint, then elsewhere while endpoints fail under it.
   * The answer says which endpoint gave it (`endpoint`); errors the session should see
   * (HTTP answers, fatal errors, a request that failed on too many endpoints) are thrown.
   */
  async complete(request: CompletionRequest, options?: CompleteOptions): Promise<Completion> {
    const signal = options?.signal;
    const moved: string[] = [];
    const maxMoves = Math.max(3, 2 * this.#endpoints.length);
    for (;;) {
      const endpoint = await this.#acquire(signal);
      const started = performance.now();
      try {
        const completion = await endpoint.provider.complete(request, options);
        endpoint.stats.ok++;
        endpoint.stats.latencyMs += performance.now() - started;
        endpoint.consecutive = 0;
        return {
          ...completion,
          endpoint: endpoint.spec.url,
          ...(moved.length ? { meta: { ...(completion.meta ?? {}), movedFrom: moved } } : {}),
        };
      } catch (error) {
        if (signal?.aborted || !(error instanceof ProviderError)) throw error;
        endpoint.stats.errors++;
        endpoint.stats.lastError = describeError(error);
        if (movesElsewhere(error)) {
          this.#takeOut(endpoint);
          moved.push(`${endpoint.host}: ${error.errno ?? error.message}`);
          if (moved.length < maxMoves) continue;
        } else if (error.status !== undefined && error.status >= 500 && !error.fatal) {
          if (++endpoint.consecutive >= this.#options.threshold) this.#takeOut(endpoint);
        } else endpoint.consecutive = 0;
        throw error;
      } finally {
        endpoint.stats.outstanding--;
        this.#wake();
      }
    }
  }

  /** Stops probing; requests waiting for an endpoint fail. */
  close(): void {
    this.#closed = true;
    for (const e of this.#endpoints) clearTimeout(e.timer);
    this.#wake();
  }

  /** The up endpoint with the lowest (outstanding + 1) / weight and a free slot, if any. */
  #pick(): Endpoint | undefined {
    let best: Endpoint | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    const n = this.#endpoints.length;
    for (let k = 0; k < n; k++) {
      const e = this.#endpoints[(this.#cursor + k) % n] as Endpoint;
      if (e.stats.state !== 'up' || e.stats.outstanding >= e.limit) continue;
      const load = (e.stats.outstanding + 1) / e.stats.weight;
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    this.#cursor = (this.#cursor + 1) % n;
    return best;
  }

  async #acquire(signal: AbortSignal | undefined): Promise<Endpoint> {
    for (;;) {
      if (signal?.aborted || this.#closed) throw new AbortedError('aborted');
      if (this.#failure) throw this.#failure;
      const e = this.#pick();
      if (e) {
        e.stats.outstanding++;
        return e;
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #takeOut(e: Endpoint): void {
    if (e.stats.state !== 'up' || this.#closed) return;
    e.stats.state = 'down';
    e.stats.takenOut++;
    e.failedProbes = 0;
    this.#scheduleProbe(e);
  }

  #scheduleProbe(e: Endpoint): void {
    const o = this.#options;
    const delay = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** e.failedProbes);
    // Not unref'd: requests waiting for an endpoint to return hold no other handle, and the
    // process must not exit under them. `close()` clears it when the run ends.
    e.timer = setTimeout(() => void this.#probe(e), delay);
  }

  async #probe(e: Endpoint): Promise<void> {
    if (this.#closed) return;
    e.stats.state = 'probing';
    const alive = await probeEndpoint(e.spec.url, this.#options.probeTimeoutMs);
    if (this.#closed) return;
    if (alive === true) {
      e.stats.state = 'up';
      e.stats.returned++;
      e.consecutive = 0;
      e.failedProbes = 0;
      this.#wake();
      return;
    }
    e.stats.state = 'down';
    e.stats.lastError = alive;
    e.failedProbes++;
    if (this.#endpoints.every((x) => x.stats.state !== 'up' && x.failedProbes >= this.#options.probes)) {
      this.#giveUp();
      return;
    }
    this.#scheduleProbe(e);
  }

  #giveUp(): void {
    const why = this.#endpoints.map((x) => `${x.host} ${x.stats.lastError ?? 'down'}`).join('; ');
    this.#failure = new UnreachableError(
      `all ${this.#endpoints.length} endpoints of ${this.#label} are down (${why}) after ${this.#options.probes} probes each (are the servers running?)`,
      { provider: this.#endpoints[0]?.provider.id ?? 'openai', retryable: false, fatal: true, connection: true },
    );
    for (const x of this.#endpoints) clearTimeout(x.timer);
    this.#wake();
  }
}

/**
 * Whether a server answers at all: `GET <base>/models`. Any HTTP answer below 500 (a 401
 * without a key, a 404 from a server without that route) shows it is up; otherwise the
 * reason, for the message a user sees if every endpoint stays down.
 */
async function probeEndpoint(baseURL: string, timeoutMs: number): Promise<true | string> {
  try {
    // The client the endpoint's requests use, so a probe reaches what they reach.
    const response = await judgeFetch(`${baseURL.replace(/\/+$/, '')}/models`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    return response.status < 500 ? true : `HTTP ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? (error as Error).name ?? 'no answer';
  }
}

/** A pool as a `Provider`: the session sees one judge. */
export interface PoolProvider extends Provider {
  readonly pool: EndpointPool;
}

/**
 * Builds the pool's provider from one provider per endpoint (`make` creates them, e.g.
 * the OpenAI provider with that base URL). The judge's identity is its model on a pool
 * (`{ pool: true }`), never a replica's URL: the cache is shared across replicas, which
 * must therefore serve the same model.
 */
export function createPoolProvider(
  specs: readonly EndpointSpec[],
  make: (spec: EndpointSpec, index: number) => Provider,
  options: Partial<PoolOptions> = {},
): PoolProvider {
  const members = specs.map((spec, i) => ({ spec, provider: make(spec, i) }));
  const first = members[0]?.provider;
  if (!first) throw new Error('an endpoint pool needs at least one endpoint');
  const pool = new EndpointPool(members, `${first.id}:${first.model}`, options);
  return {
    id: first.id,
    model: first.model,
    capabilities: first.capabilities,
    maxImageSide: first.maxImageSide,
    pool,
    identity: () => ({ pool: true }),
    complete: (request, o) => pool.complete(request, o),
    async close() {
      pool.close();
      await Promise.all(members.map((m) => m.provider.close?.()));
    },
  };
}

/** The pool behind a provider, when it is one. */
export function poolOf(provider: Provider): EndpointPool | undefined {
  const pool = (provider as Partial<PoolProvider>).pool;
  return pool instanceof EndpointPool ? pool : undefined;
}
