import type { HallucinationItem } from '../hallucination/run.js';
import type { SystemSummary } from '../hallucination/summary.js';
import type { ComparedPair, CompareSummary } from '../judges/compare-run.js';
import { byKey, canonicalPairs } from '../judges/pair-order.js';
import type { RankedItem, RankedPair, StoredRankSummary } from '../judges/rank-run.js';
import type { ImageScore } from '../judges/score.js';
import type { CallRecord, RunRecord, Store } from '../store/store.js';
import type { RankingView } from './ranking.js';

/**
 * A run read back from the store, as `show` prints it and `report` draws it: no judge is
 * called, nothing is recomputed that the run did not store.
 */
export type StoredRun =
  | { command: 'score'; run: RunRecord; images: ImageScore[] }
  | { command: 'compare'; run: RunRecord; pairs: ComparedPair[]; summary: CompareSummary | undefined }
  | { command: 'rank'; run: RunRecord; view: RankingView | undefined }
  | { command: 'hallucination'; run: RunRecord; items: HallucinationItem[]; systems: SystemSummary[] | undefined };

export function readStoredRun(store: Store, run: RunRecord): StoredRun {
  if (run.command === 'compare') {
    const pairs = byKey(store.results(run.id, 'pair').map((r) => ({ key: r.itemKey, ...(r.value as Omit<ComparedPair, 'key'>) })));
    const summary = store.results(run.id, 'summary')[0]?.value as CompareSummary | undefined;
    return { command: 'compare', run, pairs, summary };
  }
  if (run.command === 'rank') {
    const ranking = store.results(run.id, 'rank').map((r) => r.value as RankedItem);
    const summary = store.results(run.id, 'summary')[0]?.value as StoredRankSummary | undefined;
    // Stored in the order they were judged; shown in the canonical order the run reports.
    const pairs = canonicalPairs(store.results(run.id, 'pair').map((r) => r.value as RankedPair));
    const view = summary ? { ...summary, mode: summary.perContent.length ? ('systems' as const) : ('items' as const), ranking, pairs, unmatched: [] } : undefined;
    return { command: 'rank', run, view };
  }
  if (run.command === 'hallucination') {
    const items = store.results(run.id, 'hallucination').map((r) => r.value as HallucinationItem);
    const summary = store.results(run.id, 'summary').find((r) => r.itemKey === 'hallucination')?.value as { systems: SystemSummary[] } | undefined;
    return { command: 'hallucination', run, items, systems: summary?.systems };
  }
  return { command: 'score', run, images: store.results(run.id, 'image').map((r) => r.value as ImageScore) };
}

/** What a run cost and how it went, from its stored calls. */
export interface RunFacts {
  calls: number;
  cached: number;
  parseFailures: number;
  /** Requests that failed after their retries (kept for inspection, never served). */
  errors: number;
  /** Attempts beyond the first, over all calls. */
  retries: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Latency of the calls made (not cached), ms. */
  latencyMs: { p50: number; p90: number; p99: number } | null;
}

/** Percentile by nearest rank of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export function runFacts(calls: readonly (CallRecord & { cached: boolean })[], errorCalls: readonly CallRecord[]): RunFacts {
  const made = calls.filter((c) => !c.cached);
  const latencies = made.map((c) => c.latencyMs).filter((v): v is number => v !== null).sort((a, b) => a - b);
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd = 0;
  let retries = 0;
  for (const c of [...made, ...errorCalls]) {
    inputTokens += c.inputTokens ?? 0;
    outputTokens += c.outputTokens ?? 0;
    costUsd += c.costUsd ?? 0;
    retries += Math.max(0, c.attempts - 1);
  }
  return {
    calls: calls.length,
    cached: calls.length - made.length,
    parseFailures: calls.filter((c) => c.status === 'parse_error').length,
    errors: errorCalls.length,
    retries,
    inputTokens,
    outputTokens,
    costUsd,
    latencyMs: latencies.length ? { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99) } : null,
  };
}
