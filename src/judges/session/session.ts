import PQueue from 'p-queue';
import { BudgetError, describeError, ProviderError, UnreachableError } from '../../core/errors.js';
import { hashObject, sha256, stableStringify } from '../../core/hash.js';
import type { Choice, Completion, CompletionRequest, Message, Provider } from '../../core/provider.js';
import type { Result } from '../../core/result.js';
import type { CallRecord, NewCall, RetryFailed, Store, StoredAnswer } from '../../store/store.js';
import { CircuitBreaker, type BreakerOptions } from './circuit-breaker.js';
import { costOf, type Price } from '../prices.js';
import { AbortedError, defaultRetryPolicy, providerSource, withRetry, type RetryPolicy } from './retry.js';

/**
 * A judge session: one provider, one run, one queue. Everything that turns requests
 * into stored calls lives here once (cache, concurrency, rate limit, retries, re-ask,
 * budget, accounting); judging strategies only describe what to ask and how to read it.
 */

export interface SessionOptions {
  store: Store;
  runId: number;
  provider: Provider;
  /** sha256 identity of the judge (provider, model, identity()); stored in `judges`. */
  judgeId: string;
  price: Price | undefined;
  /** Requests in flight at once. @default 4 */
  concurrency?: number;
  /** Requests started per minute; unlimited when absent. */
  rpm?: number | undefined;
  /** Stop issuing calls before the estimated total cost would pass this many USD. */
  maxCost?: number | undefined;
  retry?: RetryPolicy;
  /** Largest `n` sent in one request. @default 16 */
  maxChoicesPerRequest?: number;
  /**
   * Stored parse failures asked again instead of served from the cache: `mismatch` (the
   * default) re-asks those caused by a request the server could not serve (no
   * log-probabilities came back), `all` re-asks genuine answers that did not parse too,
   * `none` serves every stored answer.
   */
  retryFailed?: RetryFailed;
  /** Consecutive connection failures before the run pauses and probes the server. */
  breaker?: Partial<BreakerOptions>;
  /** How often claimed calls and the run's lease are renewed, ms. @default 10000 */
  heartbeatMs?: number;
  /** How often a call claimed by another process is looked for, ms. @default 250 */
  claimPollMs?: number;
  onEvent?: (event: SessionEvent) => void;
  /**
   * Batch mode (`--batch`): requests are handed here, built exactly as they would be
   * sent, instead of being sent; nothing is recorded for them. Their answers come back
   * through `recordAnswer` / `recordError` of the session named here once the provider's
   * batch has ended.
   */
  defer?: ((item: DeferredRequest, session: JudgeSession) => void) | undefined;
}

/** A request that batch mode collected instead of sending (see `SessionOptions.defer`). */
export interface DeferredRequest {
  group: CallGroup;
  /** The samples the request answers, in choice order (`request.n` = their count when > 1). */
  slots: SampleSlot[];
  request: CompletionRequest;
}

export type SessionEvent =
  | { type: 'calls'; ok: number; failed: number; costUsd: number }
  | { type: 'retry'; error: string; attempt: number; delayMs: number }
  | { type: 'budget'; spentUsd: number; maxCost: number }
  /** The run stopped on an error no retry can fix; reported once. */
  | { type: 'fatal'; error: string }
  /** Something learnt about the judge (it ignores `n`, it returns no log-probabilities). */
  | { type: 'learned'; fact: string; detail: string }
  /** Samples another process is asking right now; this run waits for its answers. */
  | { type: 'waiting'; calls: number };

/** One sample wanted: its cache key and index. */
export interface SampleSlot {
  cacheKey: string;
  sampleIndex: number;
}

/** Everything a strategy hands the session for one item (one image, one pair). */
export interface CallGroup {
  request: CompletionRequest;
  slots: SampleSlot[];
  promptHash: string;
  imageHashes: string[];
  /** Sampling parameters stored with each call (also part of the cache key). */
  params: Record<string, unknown>;
  /** Strict + lenient parsing of one choice. */
  parse: (choice: Choice) => Result<unknown, string>;
  /** Whether an unparseable answer gets one re-ask quoting the error. @default true */
  reask?: boolean;
}

/** The cache key of one sample: provider, model, judge identity, prompt, images, parameters, index. */
export function cacheKey(input: {
  judgeId: string;
  promptHash: string;
  imageHashes: readonly string[];
  params: Record<string, unknown>;
  sampleIndex: number;
}): string {
  return hashObject(input);
}

/** The sample slots (cache key and index) of `count` samples of one question. */
export function sampleSlots(input: {
  judgeId: string;
  promptHash: string;
  imageHashes: readonly string[];
  params: Record<string, unknown>;
  count: number;
}): SampleSlot[] {
  const { count, judgeId, promptHash, imageHashes, params } = input;
  // The stable JSON of `cacheKey`'s object, byte for byte, written in its sorted key
  // order (imageHashes, judgeId, params, promptHash, sampleIndex): the question is
  // serialised once, not once per sample, and the run's parameters once per run.
  const head =
    `{"imageHashes":${JSON.stringify(imageHashes)},"judgeId":${JSON.stringify(judgeId)},` +
    `"params":${stableParams(params)},"promptHash":${JSON.stringify(promptHash)},"sampleIndex":`;
  const slots: SampleSlot[] = new Array(count);
  for (let sampleIndex = 0; sampleIndex < count; sampleIndex++) slots[sampleIndex] = { sampleIndex, cacheKey: sha256(`${head}${sampleIndex}}`) };
  return slots;
}

/** A question's samples split into those the store has and those still to ask. */
export interface Lookup {
  cached: StoredAnswer[];
  missing: SampleSlot[];
}

/** `slots` against their lookups, which start at `hits[from]`. */
function splitHits(slots: readonly SampleSlot[], hits: readonly (StoredAnswer | undefined)[], from: number): Lookup {
  const cached: StoredAnswer[] = [];
  const missing: SampleSlot[] = [];
  slots.forEach((slot, i) => {
    const hit = hits[from + i];
    if (hit) cached.push(hit);
    else missing.push(slot);
  });
  return { cached, missing };
}

/** Stable JSON of frozen parameter objects (`scoreParams` hands a run one), made once each. */
const frozenParams = new WeakMap<object, string>();
function stableParams(params: Record<string, unknown>): string {
  // Only a frozen object can be remembered by identity: another could change after use.
  if (!Object.isFrozen(params)) return stableStringify(params);
  let stable = frozenParams.get(params);
  if (stable === undefined) frozenParams.set(params, (stable = stableStringify(params)));
  return stable;
}

/**
 * Rough input-token estimate for budgeting before any call has been measured (and for
 * `--dry-run`): four characters of text per token; an image costs its pixels / 750,
 * at most 1600, plus 85 (the shape of OpenAI's and Anthropic's published image costs).
 */
export function estimateInputTokens(messages: readonly Message[]): number {
  let tokens = 0;
  for (const m of messages) {
    if (typeof m.content === 'string') tokens += m.content.length / 4;
    else
      for (const p of m.content) {
        tokens += p.type === 'text' ? p.text.length / 4 : Math.min(1600, Math.ceil((p.width * p.height) / 750)) + 85;
      }
  }
  return Math.ceil(tokens);
}

/**
 * The most samples one request asks for (OpenAI `n`): the provider's limit, lowered to
 * what this judge was found to honour (remembered in the store), and whether that is proven.
 */
export function choicesPerRequest(store: Store, provider: Provider, judgeId: string, limit = 16): { max: number; proven: boolean } {
  const known = store.judgeFact<{ max: number }>(judgeId, CHOICES_FACT);
  const cap = provider.capabilities.multipleChoices ? limit : 1;
  return { max: Math.min(cap, known?.max ?? cap), proven: known !== undefined };
}

/** The judge as users name it in messages: `openai:gpt-4o-mini at 127.0.0.1:8080`. */
function judgeLabel(provider: Provider): string {
  return providerSource(`${provider.id}:${provider.model}`, provider.endpoint);
}

/** What one request produced: its recorded calls, and samples still to ask (fewer choices came back than asked). */
interface RequestOutcome {
  made: CallRecord[];
  leftover: SampleSlot[];
}
const NOTHING: RequestOutcome = { made: [], leftover: [] };

/** The fields every call row of one request shares. */
type CallBase = Omit<NewCall, 'cacheKey' | 'sampleIndex' | 'choiceIndex' | 'status' | 'finishedAt'>;

/** Thrown inside the session when a call is abandoned because the run stopped on a fatal error. */
class StoppedError extends Error {}
/** Thrown before sending a request that asks more choices than the judge was meanwhile found to take. */
class TooManyChoicesError extends Error {}

/** An HTTP error message that refuses several choices per request. */
const REFUSED_N = /choice|\bn\b/i;

/** The fact under which a judge's largest working `n` is remembered. */
const CHOICES_FACT = 'choices';

export class JudgeSession {
  readonly queue: PQueue;
  readonly #o: SessionOptions;
  /** Set by `abort()`: requests in flight were abandoned and record nothing. */
  #aborted = false;
  /**
   * One controller per request in flight, aborted by `abort()`. Not the session's signal:
   * the SDKs add an abort listener to the signal of every request and never remove it, and
   * Node's EventTarget walks its listeners on each add, so one shared signal made every
   * request cost more than the last (16,000 requests: 1.3 s of listener bookkeeping).
   */
  readonly #requests = new Set<AbortController>();
  /**
   * Releases the requests still waiting in the queue. p-queue's `clear()` drops queued
   * tasks without settling the promises `add()` returned, so without this an image
   * waiting for a slot would never finish after `stop()`, and neither would the run.
   */
  readonly #waiting = new Set<() => void>();
  #stopping = false;
  /** Why the session was held (`hold`): samples not in the store are not asked, and say this. */
  #held: string | undefined;
  #budgetHit = false;
  #fatal: string | undefined;
  #spent = 0;
  #reserved = 0;
  /** Requests holding a reservation, and callers waiting for one of them to finish. */
  #inFlight = 0;
  readonly #released: (() => void)[] = [];
  #measured = { requests: 0, input: 0, output: 0 };
  readonly #breaker: CircuitBreaker;
  /**
   * Until the judge has shown how many choices it gives per request, requests for several
   * go one at a time: a server that ignores or refuses `n` is learnt from one request, not
   * paid for once per image in flight (and a wrong key or unknown model costs one too).
   */
  #gate: Promise<void> | undefined;
  /** Largest `n` this judge is known to honour; learnt from its answers and stored. */
  #maxChoices: number;
  /** Whether a request with n > 1 has been answered in full (then its HTTP errors are retried as usual). */
  #choicesProven: boolean;
  /** Why requests went down to n = 1; stored as a fact once such a request is answered. */
  #singleBecause: string | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  readonly counts = { ok: 0, failed: 0, parseErrors: 0, cached: 0, requests: 0, rejected: 0, costUsd: 0 };

  constructor(options: SessionOptions) {
    this.#o = options;
    this.queue = new PQueue({
      concurrency: options.concurrency ?? 4,
      ...(options.rpm ? { intervalCap: options.rpm, interval: 60_000 } : {}),
    });
    this.#breaker = new CircuitBreaker(options.provider.endpoint, judgeLabel(options.provider), options.breaker);
    const choices = choicesPerRequest(options.store, options.provider, options.judgeId, options.maxChoicesPerRequest);
    this.#maxChoices = choices.max;
    this.#choicesProven = choices.proven;
    this.#heartbeat = setInterval(() => {
      try {
        options.store.heartbeat();
      } catch {
        // A busy database delays one renewal; the lease outlasts several.
      }
    }, options.heartbeatMs ?? 10_000);
    this.#heartbeat.unref();
  }

  /** Which stored parse failures this run asks again (see `SessionOptions.retryFailed`). */
  get #retryFailed(): RetryFailed {
    return this.#o.retryFailed ?? 'mismatch';
  }

  /** sha256 identity of the judge this session asks (see `SessionOptions.judgeId`). */
  get judgeId(): string {
    return this.#o.judgeId;
  }

  get budgetExceeded(): boolean {
    return this.#budgetHit;
  }
  get stopping(): boolean {
    return this.#stopping;
  }
  /** The error that stopped the run, when one did (bad key, unknown model, unreachable server). */
  get fatal(): string | undefined {
    return this.#fatal;
  }

  /** Why an item the session never asked for was not asked, in words for its `errors`. */
  notRunReason(): string {
    if (this.#held !== undefined) return this.#held;
    if (this.#fatal !== undefined) return `the run stopped: ${this.#fatal}`;
    if (this.#budgetHit) return '--max-cost reached';
    return this.#stopping ? 'interrupted' : 'not reached';
  }

  /** Stop issuing new requests; those in flight finish and are recorded. */
  stop(): void {
    this.#stopping = true;
    this.queue.clear();
    for (const release of this.#waiting) release();
    this.#waiting.clear();
    for (const wake of this.#released.splice(0)) wake();
  }

  /**
   * Serves only what the store holds: samples not there are not asked (`execute` returns
   * nothing for them), and items missing them report `reason` (batch mode, while a batch
   * is out). Not an interruption: strategies go through every item.
   */
  hold(reason: string): void {
    this.#held = reason;
  }

  /** Why the session was held, when it was (see `hold`). */
  get held(): string | undefined {
    return this.#held;
  }

  /** Abandon requests in flight too (a second Ctrl-C). Nothing partial is recorded. */
  abort(): void {
    this.stop();
    this.#aborted = true;
    for (const request of this.#requests) request.abort();
  }

  /** Stops the run once, on an error that no retry and no other item can fix. */
  #stopFatal(error: unknown): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = describeError(error);
    this.#o.onEvent?.({ type: 'fatal', error: this.#fatal });
    this.stop();
  }

  /**
   * Splits slots into the samples the store already has (linked to this run) and the
   * ones still to ask for.
   */
  lookup(slots: readonly SampleSlot[]): Lookup {
    const found = splitHits(slots, this.#o.store.cachedAnswers(slots.map((s) => s.cacheKey), this.#retryFailed), 0);
    this.#served(found.cached);
    return found;
  }

  /**
   * `lookup`, gathered: the lookups asked for while other work runs are made together,
   * in one read transaction, on the next turn of the event loop. A cached rerun of a
   * folder asks one question per image; made one by one, each lookup pays for a read
   * transaction of its own and finds SQLite's pages and code gone from the CPU's caches
   * (a microbench on a 10,000-image database: 6-7 us a lookup one by one, 3.3 us gathered).
   */
  lookupSoon(slots: readonly SampleSlot[]): Promise<Lookup> {
    return new Promise((resolve, reject) => {
      this.#lookups.push({ slots, resolve, reject });
      if (this.#lookups.length === 1) setImmediate(() => this.#lookUpGathered());
    });
  }

  readonly #lookups: { slots: readonly SampleSlot[]; resolve: (r: Lookup) => void; reject: (e: unknown) => void }[] = [];

  #lookUpGathered(): void {
    const asked = this.#lookups.splice(0);
    let hits: (StoredAnswer | undefined)[];
    try {
      hits = this.#o.store.cachedAnswers(asked.flatMap((a) => a.slots.map((s) => s.cacheKey)), this.#retryFailed);
    } catch (error) {
      for (const a of asked) a.reject(error);
      return;
    }
    let at = 0;
    const served: StoredAnswer[] = [];
    for (const a of asked) {
      const found = splitHits(a.slots, hits, at);
      at += a.slots.length;
      for (const c of found.cached) served.push(c);
      a.resolve(found);
    }
    this.#served(served);
  }

  /**
   * Counts samples served without a lookup: a rerun that keeps an item's stored result
   * (computed in this run from answers already linked to it) serves its samples so.
   */
  countServed(samples: number): void {
    this.counts.cached += samples;
  }

  #served(cached: readonly StoredAnswer[]): void {
    this.counts.cached += cached.length;
    if (cached.length) this.#o.store.linkCached(this.#o.runId, cached.map((c) => c.id));
  }

  /**
   * Runs the missing samples of one group and records them. Each sample's cache key is
   * claimed in the store first: a sample another process is asking right now is waited
   * for and served from its answer, never asked twice. Resolves to the calls (made here
   * or by the other process); samples skipped because the session stopped or the budget
   * ran out are absent.
   */
  async execute(group: CallGroup): Promise<StoredAnswer[]> {
    if (this.#held !== undefined) return [];
    const out: StoredAnswer[] = [];
    let pending = [...group.slots];
    let announced = false;
    while (pending.length > 0 && !this.#stopping) {
      const keys = pending.map((s) => s.cacheKey);
      // A request that will wait for a free slot anyway claims with the next recorded answer's
      // commit (which is what frees a slot) instead of paying for a commit of its own.
      const claim = this.#queueFull() ? await this.#o.store.claimSoon(keys, this.#retryFailed) : this.#o.store.claim(keys, this.#retryFailed);
      const done = [...claim.done.values()];
      this.#served(done);
      out.push(...done);
      const mine = pending.filter((s) => claim.mine.has(s.cacheKey));
      if (mine.length > 0) out.push(...(await this.#executeClaimed(group, mine)));
      pending = pending.filter((s) => claim.theirs.has(s.cacheKey));
      if (pending.length === 0) break;
      if (!announced) {
        announced = true;
        this.#o.onEvent?.({ type: 'waiting', calls: pending.length });
      }
      await new Promise((r) => setTimeout(r, this.#o.claimPollMs ?? 250));
    }
    return out;
  }

  /** Whether a request added now would wait for a slot: every slot busy, or others waiting already. */
  #queueFull(): boolean {
    return this.queue.size > 0 || this.queue.pending >= this.queue.concurrency;
  }

  /**
   * Sends claimed slots in requests of at most the judge's `n`. Samples a request left
   * unanswered (a server that gave fewer choices, or refused `n`) go out again in
   * requests sized by what was learnt. Releases the claims of samples never sent.
   */
  async #executeClaimed(group: CallGroup, slots: SampleSlot[]): Promise<CallRecord[]> {
    const done: CallRecord[] = [];
    let todo = slots;
    while (todo.length > 0 && !this.#stopping) {
      const chunks: SampleSlot[][] = [];
      for (let i = 0; i < todo.length; i += this.#maxChoices) chunks.push(todo.slice(i, i + this.#maxChoices));
      const outcomes = await Promise.all(chunks.map((chunk) => this.#schedule(group, chunk)));
      done.push(...outcomes.flatMap((o) => o.made));
      todo = outcomes.flatMap((o) => o.leftover);
    }
    const recorded = new Set(done.map((c) => c.cacheKey));
    const unsent = slots.filter((s) => !recorded.has(s.cacheKey)).map((s) => s.cacheKey);
    if (unsent.length) this.#o.store.releaseClaims(unsent);
    return done;
  }

  #schedule(group: CallGroup, slots: SampleSlot[]): Promise<RequestOutcome> {
    if (this.#stopping) return Promise.resolve(NOTHING);
    return new Promise<RequestOutcome>((resolve, reject) => {
      // Resolves with no calls if the session stops before this request starts.
      const release = () => resolve(NOTHING);
      this.#waiting.add(release);
      const run = () => {
        this.#waiting.delete(release);
        return this.#run(group, slots);
      };
      // No abort signal here: a stop releases queued requests through `#waiting`, and one
      // listener per queued request on a shared signal costs more than the request's own work.
      this.queue.add(run).then(
        (result) => resolve(result ?? NOTHING),
        (error: unknown) => (this.#stopping ? resolve(NOTHING) : reject(error)),
      );
    });
  }

  #estimate(request: CompletionRequest, n: number): number {
    const m = this.#measured;
    const input = m.requests ? m.input / m.requests : estimateInputTokens(request.messages);
    const output = m.requests ? (m.output / m.requests) * n : request.maxTokens * n;
    return costOf(this.#o.price, input, output) ?? 0;
  }

  /**
   * Reserves the estimated cost of a request. When it would pass `maxCost` while other
   * requests are in flight, waits for them to finish first: their reservations are
   * estimates (before any answer is measured they assume `maxTokens` of output, often
   * ten times the real cost), settled into real costs as they finish. Refuses, and stops
   * the session, only when the estimate does not fit with nothing else in flight.
   */
  async #reserve(request: CompletionRequest, n: number): Promise<number | undefined> {
    const max = this.#o.maxCost;
    for (;;) {
      if (this.#stopping) return undefined;
      const estimate = this.#estimate(request, n);
      if (max === undefined || this.#spent + this.#reserved + estimate <= max) {
        this.#reserved += estimate;
        this.#inFlight++;
        return estimate;
      }
      if (this.#inFlight === 0) {
        if (!this.#budgetHit) {
          this.#budgetHit = true;
          this.#o.onEvent?.({ type: 'budget', spentUsd: this.#spent, maxCost: max });
        }
        this.stop();
        return undefined;
      }
      await new Promise<void>((resolve) => this.#released.push(resolve));
    }
  }

  #release(reservation: number): void {
    this.#reserved -= reservation;
    this.#inFlight--;
    for (const wake of this.#released.splice(0)) wake();
  }

  /** Waits while the first request for several choices is out (see `#gate`). */
  async #passGate(): Promise<(() => void) | undefined> {
    while (!this.#choicesProven && this.#gate) await this.#gate;
    if (this.#choicesProven) return undefined;
    let open!: () => void;
    this.#gate = new Promise<void>((resolve) => (open = resolve));
    return () => {
      this.#gate = undefined;
      open();
    };
  }

  async #call(
    request: CompletionRequest,
    options: { retryHttp?: boolean } = {},
  ): Promise<{ completion: Completion; attempts: number; latencyMs: number }> {
    const n = request.n ?? 1;
    const openGate = n > 1 ? await this.#passGate() : undefined;
    // Learnt while this request waited (the first answer showed the server ignores or
    // refuses `n`): the caller re-chunks its samples instead of paying for a request
    // that comes back short or rejected.
    if (n > this.#maxChoices) {
      openGate?.();
      throw new TooManyChoicesError();
    }
    const reservation = await this.#reserve(request, n);
    if (reservation === undefined) {
      openGate?.();
      throw new BudgetError('budget reached');
    }
    const started = performance.now();
    const policy = this.#o.retry ?? defaultRetryPolicy;
    const controller = new AbortController();
    this.#requests.add(controller);
    try {
      const { value, attempts } = await withRetry(
        async () => {
          await this.#breaker.ready().catch((error: unknown) => {
            this.#stopFatal(error);
            throw new StoppedError();
          });
          if (this.#fatal !== undefined) throw new StoppedError();
          try {
            const completion = await this.#o.provider.complete(request, { signal: controller.signal });
            this.#breaker.succeeded();
            return completion;
          } catch (error) {
            // The server (or every endpoint of a pool) is gone: as when the breaker gives up,
            // the run stops with one line and this unanswered request is not a failure of its item.
            if (error instanceof UnreachableError) {
              this.#stopFatal(error);
              throw new StoppedError();
            }
            if (error instanceof ProviderError) {
              this.counts.rejected++;
              this.#breaker.failed(error);
              if (error.fatal) {
                // The first one is recorded with its item; any other in flight is not run.
                if (this.#fatal !== undefined) throw new StoppedError();
                this.#stopFatal(error);
                throw error;
              }
              // Before a server has shown it honours `n`, an HTTP error on a request with
              // n > 1 that speaks of choices (llama-server: "Only one completion choice is
              // allowed") is not retried: the caller asks one sample per request instead.
              if (options.retryHttp === false && error.status !== undefined && error.status !== 429 && REFUSED_N.test(error.message)) {
                throw Object.assign(error, { noRetry: true });
              }
            }
            throw error;
          }
        },
        policy,
        {
          signal: controller.signal,
          onRetry: (error, attempt, delayMs) =>
            this.#o.onEvent?.({ type: 'retry', error: describeError(error), attempt, delayMs }),
          shouldRetry: (error) => !(error as { noRetry?: boolean }).noRetry,
        },
      );
      this.counts.requests++;
      const m = this.#measured;
      m.requests++;
      m.input += value.usage.inputTokens;
      m.output += value.usage.outputTokens / Math.max(1, value.choices.length);
      const cost = costOf(this.#o.price, value.usage.inputTokens, value.usage.outputTokens) ?? 0;
      this.#spent += cost;
      this.counts.costUsd += cost;
      return { completion: value, attempts, latencyMs: performance.now() - started };
    } finally {
      this.#requests.delete(controller);
      this.#release(reservation);
      openGate?.();
    }
  }

  /**
   * Lowers, and remembers for this run and the next ones, how many choices per request the
   * judge honours, and says so once (`lowered`: the limit was already lowered on a refused
   * `n` and is confirmed now).
   */
  #learnChoices(max: number, detail: string, lowered = false): void {
    if (!lowered && max >= this.#maxChoices) return;
    this.#maxChoices = Math.max(1, Math.min(this.#maxChoices, max));
    this.#choicesProven = true;
    this.#o.store.putJudgeFact(this.#o.judgeId, CHOICES_FACT, { max: this.#maxChoices }, { detail });
    this.#o.onEvent?.({ type: 'learned', fact: CHOICES_FACT, detail });
  }

  /**
   * A request for `n` choices came back whole: the judge honours `n`, so later requests
   * for several samples need not wait for a first answer, and their HTTP errors are
   * retried as usual. The limit is kept as it is (asking 5 proves nothing about 16).
   */
  #proveChoices(n: number): void {
    if (this.#choicesProven) return;
    this.#choicesProven = true;
    this.#o.store.putJudgeFact(this.#o.judgeId, CHOICES_FACT, { max: this.#maxChoices }, { detail: `n = ${n} answered in full` });
  }

  /** What every call row of one group shares before its answer is known. */
  #base(group: CallGroup, startedAt: string): CallBase {
    return {
      runId: this.#o.runId,
      judgeId: this.#o.judgeId,
      promptHash: group.promptHash,
      imageHashes: group.imageHashes,
      params: group.params,
      requestId: null,
      raw: null,
      parsed: null,
      logprobs: null,
      error: null,
      failure: null,
      inputTokens: null,
      outputTokens: null,
      costUsd: null,
      latencyMs: null,
      attempts: 1,
      meta: null,
      startedAt,
    };
  }

  async #run(group: CallGroup, slots: SampleSlot[]): Promise<RequestOutcome> {
    if (this.#stopping) return NOTHING;
    const base = this.#base(group, new Date().toISOString());
    const multi = slots.length > 1;
    const request: CompletionRequest = { ...group.request, ...(multi ? { n: slots.length } : {}) };
    if (this.#o.defer) {
      this.#o.defer({ group, slots, request }, this);
      return NOTHING;
    }
    let response;
    try {
      response = await this.#call(request, { retryHttp: !multi || this.#choicesProven });
    } catch (error) {
      if (error instanceof BudgetError || error instanceof AbortedError || error instanceof StoppedError || this.#aborted) {
        return NOTHING;
      }
      if (error instanceof TooManyChoicesError) return { made: [], leftover: slots };
      if (multi && error instanceof ProviderError && (error as { noRetry?: boolean }).noRetry) {
        // Several OpenAI-compatible servers refuse n > 1 (llama-server answers HTTP 500):
        // ask the samples one per request; once one is answered, that is remembered.
        this.#maxChoices = 1;
        this.#singleBecause = `n = ${slots.length} was refused (${describeError(error)}); n = 1 works`;
        return { made: [], leftover: slots };
      }
      return { made: this.#recordFailure(base, slots, error), leftover: [] };
    }

    const { completion, attempts, latencyMs } = response;
    const n = slots.length;
    if (!multi && this.#singleBecause && completion.choices.length > 0) {
      // The limit already went down to 1 when n > 1 was refused: said now, once n = 1 worked.
      this.#learnChoices(1, this.#singleBecause, true);
      this.#singleBecause = undefined;
    }
    // A server that ignores `n` answers with fewer choices: keep what came, learn its
    // limit, and ask the rest as further requests.
    const answered = Math.min(n, completion.choices.length);
    if (multi && answered === n) this.#proveChoices(n);
    if (answered === 0) {
      // Nothing came back at all: a broken answer, not a limit on `n`.
      return { made: this.#recordFailure(base, slots, new Error('the server answered with no choices')), leftover: [] };
    }
    // Learnt before the answer is recorded (which may wait for a re-ask): requests waiting
    // at the gate must see the lowered limit when they wake.
    if (answered < n) this.#learnChoices(answered, `asked n = ${n}, the server answered ${completion.choices.length} choice(s)`);
    const made = await this.#record(group, request, base, slots, completion, { attempts, latencyMs, price: this.#o.price });
    return { made, leftover: slots.slice(answered) };
  }

  /**
   * Records the answered choices of one request as calls: one row per sample, parsed,
   * re-asked once where the answer does not parse (unless the group says no), tokens and
   * cost split over the samples. The one place a completion becomes stored calls.
   */
  async #record(
    group: CallGroup,
    request: CompletionRequest,
    base: CallBase,
    slots: readonly SampleSlot[],
    completion: Completion,
    how: { attempts: number; latencyMs: number | null; price: Price | undefined; meta?: Record<string, unknown> },
  ): Promise<CallRecord[]> {
    const { attempts, latencyMs, price } = how;
    const answered = Math.min(slots.length, completion.choices.length);
    const rows: NewCall[] = [];
    for (let i = 0; i < answered; i++) {
      const slot = slots[i] as SampleSlot;
      const choice = completion.choices[i] as Choice;
      // Input tokens are paid once per request: charged to its first sample.
      const inputTokens = i === 0 ? completion.usage.inputTokens : 0;
      const outputTokens =
        Math.floor(completion.usage.outputTokens / answered) + (i === answered - 1 ? completion.usage.outputTokens % answered : 0);
      const row: NewCall = {
        ...base,
        cacheKey: slot.cacheKey,
        sampleIndex: slot.sampleIndex,
        choiceIndex: i,
        requestId: completion.requestId ?? null,
        raw: choice.text,
        logprobs: choice.logprobs ?? choice.candidateProbabilities ?? null,
        status: 'ok',
        inputTokens,
        outputTokens,
        costUsd: costOf(price, inputTokens, outputTokens),
        latencyMs,
        attempts,
        meta: { ...(completion.meta ?? {}), ...(how.meta ?? {}), ...(answered > 1 ? { choicesPerRequest: answered } : {}), model: completion.model },
        finishedAt: new Date().toISOString(),
        ...(completion.endpoint !== undefined ? { endpoint: completion.endpoint } : {}),
      };
      const parsed = group.parse(choice);
      if (parsed.ok) row.parsed = parsed.value;
      else if (isMismatch(request, choice)) {
        // The server cannot give what the method needs; a re-ask would fail the same way.
        row.status = 'parse_error';
        row.error = parsed.error;
        row.failure = 'mismatch';
      } else await this.#reask(group, choice, parsed.error, row);
      rows.push(row);
    }
    const ids = rows.length ? this.#o.store.recordCalls(rows) : [];
    const ok = rows.filter((r) => r.status === 'ok').length;
    this.counts.ok += ok;
    this.counts.parseErrors += rows.length - ok;
    if (rows.length) {
      this.#o.onEvent?.({ type: 'calls', ok, failed: rows.length - ok, costUsd: rows.reduce((s, r) => s + (r.costUsd ?? 0), 0) });
    }
    return rows.map((r, i) => ({ ...r, id: ids[i] as number }));
  }

  /**
   * Records the answer to a request this session deferred (batch mode) exactly as a live
   * answer is recorded: same cache keys, parsing, failure kinds, tokens; the cost at
   * `price` (the batch price). An answer that does not parse is not re-asked (a re-ask
   * would be another batch round): it is stored as a parse failure, which
   * `--retry-failed` asks again. Samples the answer has no choice for are recorded as
   * errors, never dropped silently.
   */
  async recordAnswer(
    deferred: Omit<DeferredRequest, 'request'>,
    completion: Completion,
    options: { price: Price | undefined; startedAt: string; meta?: Record<string, unknown> },
  ): Promise<CallRecord[]> {
    const group = { ...deferred.group, reask: false };
    const base = this.#base(group, options.startedAt);
    const made = await this.#record(group, group.request, base, deferred.slots, completion, {
      attempts: 1,
      latencyMs: null,
      price: options.price,
      ...(options.meta ? { meta: options.meta } : {}),
    });
    const short = deferred.slots.slice(made.length);
    if (short.length === 0) return made;
    const error = new Error(`asked ${deferred.slots.length} choice(s), the batch answered ${completion.choices.length}`);
    return [...made, ...this.#recordFailure(base, short, error)];
  }

  /** Records a deferred request that failed inside the batch as `error` calls, as a failed live request is. */
  recordError(deferred: Omit<DeferredRequest, 'request'>, error: unknown, startedAt: string): CallRecord[] {
    return this.#recordFailure(this.#base(deferred.group, startedAt), deferred.slots, error);
  }

  /** Records a failed request's samples as `error` calls (kept for inspection, never served from cache). */
  #recordFailure(
    base: CallBase,
    slots: readonly SampleSlot[],
    error: unknown,
  ): CallRecord[] {
    if (slots.length === 0) return [];
    const attempts = (error as { attempts?: number }).attempts ?? 1;
    const finishedAt = new Date().toISOString();
    const message = describeError(error);
    const rows: NewCall[] = slots.map((s, i) => ({
      ...base,
      cacheKey: s.cacheKey,
      sampleIndex: s.sampleIndex,
      choiceIndex: i,
      status: 'error',
      error: message,
      attempts,
      requestId: error instanceof ProviderError ? (error.requestId ?? null) : null,
      meta: error instanceof ProviderError && error.status !== undefined ? { status: error.status } : null,
      finishedAt,
    }));
    const ids = this.#o.store.recordCalls(rows);
    this.counts.failed += rows.length;
    this.#o.onEvent?.({ type: 'calls', ok: 0, failed: rows.length, costUsd: 0 });
    return rows.map((r, i) => ({ ...r, id: ids[i] as number }));
  }

  /**
   * The repair ladder's last rung: one re-ask that quotes the validation error. The
   * stored row keeps both answers; a second failure is recorded as `parse_error` with
   * the raw text, never turned into a score.
   */
  async #reask(group: CallGroup, choice: Choice, error: string, row: NewCall): Promise<void> {
    row.status = 'parse_error';
    row.error = error;
    if (group.reask === false || this.#stopping) return;
    const request: CompletionRequest = {
      ...group.request,
      messages: [
        ...group.request.messages,
        { role: 'assistant', content: (group.request.prefill ?? '') + choice.text || '(empty answer)' },
        {
          role: 'user',
          content: `Your answer could not be read: ${error}. Answer again, following the requested format exactly.`,
        },
      ],
    };
    delete request.prefill;
    try {
      const { completion, attempts } = await this.#call(request);
      const second = completion.choices[0];
      row.attempts += attempts;
      row.inputTokens = (row.inputTokens ?? 0) + completion.usage.inputTokens;
      row.outputTokens = (row.outputTokens ?? 0) + completion.usage.outputTokens;
      row.costUsd = costOf(this.#o.price, row.inputTokens, row.outputTokens);
      row.meta = { ...(row.meta ?? {}), reask: { firstRaw: choice.text, firstError: error } };
      if (!second) return;
      row.raw = second.text;
      const parsed = group.parse(second);
      if (parsed.ok) {
        row.status = 'ok';
        row.error = null;
        row.parsed = parsed.value;
      } else {
        row.error = `${error}; after a re-ask: ${parsed.error}`;
      }
    } catch (e) {
      row.meta = { ...(row.meta ?? {}), reask: { firstError: error, failed: describeError(e) } };
    }
  }

  /** Waits for every scheduled request to finish. */
  async idle(): Promise<void> {
    await this.queue.onIdle();
  }

  /** Ends the heartbeat and gives back every claim this process still holds. */
  close(): void {
    clearInterval(this.#heartbeat);
    this.#o.store.releaseClaims();
  }
}

/**
 * Whether an unparseable answer is the server's doing rather than the model's: the
 * method needs log-probabilities or candidate probabilities and none came back.
 */
function isMismatch(request: CompletionRequest, choice: Choice): boolean {
  if (request.candidates) return !choice.candidateProbabilities;
  if (request.logprobs) return !choice.logprobs?.length;
  return false;
}
