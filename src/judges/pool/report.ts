import type { EndpointStats } from './pool.js';

/** Per-endpoint figures of one run, from the pool's counters or from stored calls. */
export interface EndpointSummary {
  url: string;
  /** Requests answered. */
  ok: number;
  errors: number;
  /** Mean latency of answered requests, ms. */
  meanLatencyMs: number | null;
  /** Answered requests per second over `seconds`. */
  perSecond: number | null;
  /** Extra, live state: `up`, `down`, taken out / returned counts. */
  state?: string | undefined;
}

/** `127.0.0.1:8001  412 ok · 14.2/s · 71 ms mean · 3 errors · taken out 1x, back 1x` lines. */
export function formatEndpoints(rows: readonly EndpointSummary[]): string[] {
  const width = Math.max(...rows.map((r) => hostOf(r.url).length));
  return rows.map((r) =>
    [
      `endpoint ${hostOf(r.url).padEnd(width)}  ${r.ok} ok`,
      r.perSecond !== null ? `${r.perSecond.toFixed(1)}/s` : undefined,
      r.meanLatencyMs !== null ? `${Math.round(r.meanLatencyMs)} ms mean` : undefined,
      `${r.errors} error${r.errors === 1 ? '' : 's'}`,
      r.state,
    ]
      .filter((x) => x !== undefined)
      .join(' · '),
  );
}

/** Lines for a live pool at the end of a run that took `seconds`. */
export function endpointLines(stats: readonly EndpointStats[], seconds: number): string[] {
  return formatEndpoints(
    stats.map((e) => ({
      url: e.url,
      ok: e.ok,
      errors: e.errors,
      meanLatencyMs: e.ok ? e.latencyMs / e.ok : null,
      perSecond: seconds > 0 ? e.ok / seconds : null,
      state: `${e.state}${e.takenOut ? `, taken out ${e.takenOut}x, back ${e.returned}x` : ''}`,
    })),
  );
}

/** `host:port` of a URL, or the text as given when it is not one. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Per-endpoint figures from a run's stored calls, gathered one call at a time: answered
 * samples, their mean latency, throughput over the span from the first start to the last
 * finish, and the failures the pool moved away from each endpoint (`meta.movedFrom`).
 * Calls made here (not served from the cache) only; nothing for a run on one server.
 */
export class EndpointTally {
  readonly #rows = new Map<string, { ok: number; latency: number; first: number; last: number; errors: number }>();
  readonly #errorsByHost = new Map<string, number>();

  add(call: { endpoint?: string | null; cached?: boolean; latencyMs: number | null; startedAt: string; finishedAt: string; meta: Record<string, unknown> | null }): void {
    if (call.cached || !call.endpoint) return;
    let row = this.#rows.get(call.endpoint);
    if (!row) this.#rows.set(call.endpoint, (row = { ok: 0, latency: 0, first: Number.POSITIVE_INFINITY, last: 0, errors: 0 }));
    row.ok++;
    row.latency += call.latencyMs ?? 0;
    row.first = Math.min(row.first, Date.parse(call.startedAt));
    row.last = Math.max(row.last, Date.parse(call.finishedAt));
    const moved = call.meta?.['movedFrom'];
    if (Array.isArray(moved)) {
      for (const m of moved) {
        const host = String(m).split(': ')[0] as string;
        this.#errorsByHost.set(host, (this.#errorsByHost.get(host) ?? 0) + 1);
      }
    }
  }

  lines(): string[] {
    if (this.#rows.size === 0) return [];
    return formatEndpoints(
      [...this.#rows].map(([url, r]) => ({
        url,
        ok: r.ok,
        errors: this.#errorsByHost.get(hostOf(url)) ?? 0,
        meanLatencyMs: r.ok ? r.latency / r.ok : null,
        perSecond: r.last > r.first ? r.ok / ((r.last - r.first) / 1000) : null,
      })),
    );
  }
}
