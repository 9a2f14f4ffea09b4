import PQueue from 'p-queue';
import { BudgetError, describeError, ProviderError } from '../core/errors.js';
import { hashObject } from '../core/hash.js';
import type { Choice, Completion, CompletionRequest, Message, Provider } from '../core/provider.js';
import type { Result } from '../core/result.js';
import type { CallRecord, NewCall, Store } from '../store/store.js';
import { costOf, type Price } from './prices.js';
import { AbortedError, defaultRetryPolicy, withRetry, type RetryPolicy } from './retry.js';

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
  onEvent?: (event: SessionEvent) => void;
}

export type SessionEvent =
  | { type: 'calls'; ok: number; failed: number; costUsd: number }
  | { type: 'retry'; error: string; attempt: number; delayMs: number }
  | { type: 'budget'; spentUsd: number; maxCost: number };

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
  const { count, ...question } = input;
  return Array.from({ length: count }, (_, sampleIndex) => ({ sampleIndex, cacheKey: cacheKey({ ...question, sampleIndex }) }));
}

/** Rough input-token estimate for budgeting before any call has been measured. */
function estimateInputTokens(messages: readonly Message[]): number {
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

export class JudgeSession {
  readonly queue: PQueue;
  readonly #o: SessionOptions;
  readonly #controller = new AbortController();
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
  #budgetHit = false;
  #spent = 0;
  #reserved = 0;
  /** Requests holding a reservation, and callers waiting for one of them to finish. */
  #inFlight = 0;
  readonly #released: (() => void)[] = [];
  #measured = { requests: 0, input: 0, output: 0 };
  readonly counts = { ok: 0, failed: 0, parseErrors: 0, cached: 0, requests: 0, costUsd: 0 };

  constructor(options: SessionOptions) {
    this.#o = options;
    this.queue = new PQueue({
      concurrency: options.concurrency ?? 4,
      ...(options.rpm ? { intervalCap: options.rpm, interval: 60_000 } : {}),
    });
  }

  get budgetExceeded(): boolean {
    return this.#budgetHit;
  }
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Stop issuing new requests; those in flight finish and are recorded. */
  stop(): void {
    this.#stopping = true;
    this.queue.clear();
    for (const release of this.#waiting) release();
    this.#waiting.clear();
    for (const wake of this.#released.splice(0)) wake();
  }

  /** Abandon requests in flight too (a second Ctrl-C). Nothing partial is recorded. */
  abort(): void {
    this.stop();
    this.#controller.abort();
    for (const request of this.#requests) request.abort();
  }

  /**
   * Splits slots into the samples the store already has (linked to this run) and the
   * ones still to ask for.
   */
  lookup(slots: readonly SampleSlot[]): { cached: CallRecord[]; missing: SampleSlot[] } {
    const cached: CallRecord[] = [];
    const missing: SampleSlot[] = [];
    for (const slot of slots) {
      const hit = this.#o.store.cachedCall(slot.cacheKey);
      if (hit) cached.push(hit);
      else missing.push(slot);
    }
    this.counts.cached += cached.length;
    if (cached.length) this.#o.store.linkCached(this.#o.runId, cached.map((c) => c.id));
    return { cached, missing };
  }

  /**
   * Runs the missing samples of one group and records them. Resolves to the recorded
   * calls; samples skipped because the session stopped or the budget ran out are absent.
   */
  async execute(group: CallGroup): Promise<CallRecord[]> {
    if (group.slots.length === 0) return [];
    const batch = this.#o.provider.capabilities.multipleChoices ? (this.#o.maxChoicesPerRequest ?? 16) : 1;
    const chunks: SampleSlot[][] = [];
    for (let i = 0; i < group.slots.length; i += batch) chunks.push(group.slots.slice(i, i + batch));
    const done = await Promise.all(chunks.map((slots) => this.#schedule(group, slots)));
    return done.flat();
  }

  #schedule(group: CallGroup, slots: SampleSlot[]): Promise<CallRecord[]> {
    if (this.#stopping) return Promise.resolve([]);
    return new Promise<CallRecord[]>((resolve, reject) => {
      // Resolves with no calls if the session stops before this request starts.
      const release = () => resolve([]);
      this.#waiting.add(release);
      const run = () => {
        this.#waiting.delete(release);
        return this.#run(group, slots);
      };
      // No abort signal here: a stop releases queued requests through `#waiting`, and one
      // listener per queued request on a shared signal costs more than the request's own work.
      this.queue.add(run).then(
        (result) => resolve(result ?? []),
        (error: unknown) => (this.#stopping ? resolve([]) : reject(error)),
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

  async #call(request: CompletionRequest): Promise<{ completion: Completion; attempts: number; latencyMs: number }> {
    const n = request.n ?? 1;
    const reservation = await this.#reserve(request, n);
    if (reservation === undefined) throw new BudgetError('budget reached');
    const started = performance.now();
    const controller = new AbortController();
    this.#requests.add(controller);
    try {
      const { value, attempts } = await withRetry(
        () => this.#o.provider.complete(request, { signal: controller.signal }),
        this.#o.retry ?? defaultRetryPolicy,
        {
          signal: controller.signal,
          onRetry: (error, attempt, delayMs) =>
            this.#o.onEvent?.({ type: 'retry', error: describeError(error), attempt, delayMs }),
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
    }
  }

  async #run(group: CallGroup, slots: SampleSlot[]): Promise<CallRecord[]> {
    if (this.#stopping) return [];
    const startedAt = new Date().toISOString();
    const base: Omit<NewCall, 'cacheKey' | 'sampleIndex' | 'choiceIndex' | 'status' | 'finishedAt'> = {
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
      inputTokens: null,
      outputTokens: null,
      costUsd: null,
      latencyMs: null,
      attempts: 1,
      meta: null,
      startedAt,
    };
    const request: CompletionRequest = { ...group.request, ...(slots.length > 1 ? { n: slots.length } : {}) };
    let response;
    try {
      response = await this.#call(request);
    } catch (error) {
      if (error instanceof BudgetError || error instanceof AbortedError || this.#controller.signal.aborted) return [];
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

    const { completion, attempts, latencyMs } = response;
    const n = slots.length;
    const rows: NewCall[] = [];
    for (let i = 0; i < n; i++) {
      const slot = slots[i] as SampleSlot;
      const choice = completion.choices[i];
      // Input tokens are paid once per request: charged to its first sample.
      const inputTokens = i === 0 ? completion.usage.inputTokens : 0;
      const outputTokens =
        Math.floor(completion.usage.outputTokens / n) + (i === n - 1 ? completion.usage.outputTokens % n : 0);
      const row: NewCall = {
        ...base,
        cacheKey: slot.cacheKey,
        sampleIndex: slot.sampleIndex,
        choiceIndex: i,
        requestId: completion.requestId ?? null,
        raw: choice?.text ?? null,
        logprobs: choice?.logprobs ?? choice?.candidateProbabilities ?? null,
        status: 'ok',
        inputTokens,
        outputTokens,
        costUsd: costOf(this.#o.price, inputTokens, outputTokens),
        latencyMs,
        attempts,
        meta: { ...(completion.meta ?? {}), ...(n > 1 ? { choicesPerRequest: n } : {}), model: completion.model },
        finishedAt: new Date().toISOString(),
      };
      if (!choice) {
        row.status = 'parse_error';
        row.error = `the provider returned ${completion.choices.length} choices for ${n} samples`;
      } else {
        const parsed = group.parse(choice);
        if (parsed.ok) row.parsed = parsed.value;
        else await this.#reask(group, choice, parsed.error, row);
      }
      rows.push(row);
    }
    const ids = this.#o.store.recordCalls(rows);
    const ok = rows.filter((r) => r.status === 'ok').length;
    this.counts.ok += ok;
    this.counts.parseErrors += rows.length - ok;
    this.#o.onEvent?.({ type: 'calls', ok, failed: rows.length - ok, costUsd: rows.reduce((s, r) => s + (r.costUsd ?? 0), 0) });
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
}
