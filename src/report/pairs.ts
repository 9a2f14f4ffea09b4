import type { ComparedPair, CompareSummary, Interval } from '../judges/compare-run.js';
import { FEW_PAIRS, LOW_LEVEL_COVERAGE, lowCoverage, pairCoverage } from '../judges/pair-checks.js';
import type { OutputFormat } from './format.js';
import { textTable } from './format.js';

const f2 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(2));
const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(0)}%`);
export const intervalText = (i: Interval | null) => (i ? `${f2(i.estimate)} [${f2(i.lower)}, ${f2(i.upper)}]` : '-');

/** The per-pair record printed in JSON output. */
export function pairJson(p: ComparedPair): Record<string, unknown> {
  return {
    key: p.key,
    a: p.a.path,
    b: p.b.path,
    status: pairStatus(p),
    errors: p.errors ?? p.orders.flatMap((o) => o.errors),
    verdict: p.verdict,
    preferenceB: p.preference,
    consistent: p.consistent,
    orderGap: p.orderGap,
    coverage: pairCoverage(p),
    lowCoverage: lowCoverage(p),
    orders: p.orders.map((o) => ({
      first: o.first === p.a.sha256 ? 'a' : 'b',
      preferenceSecond: o.preference,
      verdict: o.verdict,
      levels: o.levels,
      coverage: o.coverage,
      reasoning: o.reasoning,
      ok: o.ok,
      failed: o.failed,
      cached: o.cached,
      callIds: o.callIds,
      errors: o.errors,
    })),
    // A panel's pair: each neuron's verdict, who failed, whether the panel was called.
    ...('panel' in p && p.panel !== undefined ? { panel: p.panel } : {}),
  };
}

/** A pair's status; pairs stored before statuses were recorded have a verdict or failed. */
export function pairStatus(p: ComparedPair): NonNullable<ComparedPair['status']> {
  return p.status ?? (p.verdict === null ? 'failed' : 'ok');
}

/** One line saying how a compare summary's intervals were computed. */
function methodText(s: CompareSummary): string {
  const i = s.intervals;
  // Summaries stored before the method was recorded used the percentile bootstrap.
  if (!i) return 'intervals: 95% percentile bootstrap over pairs (stored by an older version)';
  return `intervals: ${Math.round(i.level * 100)}%; win rate: Wilson score interval; B-A: Bradley-Terry posterior, prior N(0, ${i.priorSigma}^2) per system`;
}

export function summaryText(s: CompareSummary): string {
  const bias = s.positionBias;
  const few = s.few ? `  FEW PAIRS: ${s.judged} judged (< ${FEW_PAIRS}); the intervals rest mostly on the prior` : null;
  const lines = [
    `${s.b} (B) vs ${s.a} (A): ${s.judged} of ${s.pairs} pairs judged`,
    `  B wins ${s.winsB}, ties ${s.ties}, A wins ${s.winsA}`,
    `  win rate of B      ${intervalText(s.winRateB)}  (ties count 1/2)`,
    s.positionArtefacts
      ? `  POSITION ARTEFACTS: the verdicts follow the slot, not the images (orders disagreed in ` +
        `${s.inconsistent.length}/${bias.pairsBothOrders} pairs, first slot won ${pct(bias.firstSlotPreference)} of decided orders); ` +
        'no Bradley-Terry difference is reported'
      : `  Bradley-Terry B-A  ${intervalText(s.bradleyTerry)}  log-odds (>0: B better)`,
    ...(few ? [few] : []),
    `  position bias      orders disagreed in ${s.inconsistent.length}/${bias.pairsBothOrders} pairs (${pct(bias.swapDisagreementRate)}), ` +
      `first slot won ${pct(bias.firstSlotPreference)} of ${bias.decidedOrders} decided orders`,
  ];
  const low = s.lowCoverage ?? [];
  if (low.length) {
    lines.push(
      `  LOW level coverage (< ${LOW_LEVEL_COVERAGE}) in ${low.length}/${s.judged} pairs: the judge ignored the answer format there (${low.slice(0, 5).join(', ')}${low.length > 5 ? ', …' : ''})`,
    );
  }
  if (s.leastConsistent.length) {
    lines.push(`  least consistent   ${s.leastConsistent.map((p) => `${p.key} (gap ${f2(p.orderGap)})`).join(', ')}`);
  }
  lines.push(`  ${methodText(s)}`);
  return lines.join('\n');
}

export function formatCompare(
  pairs: readonly ComparedPair[],
  summary: CompareSummary,
  unmatched: readonly { path: string; reason: string }[],
  format: OutputFormat,
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify({ summary, pairs: pairs.map(pairJson), unmatched }, null, 2)}\n`;
    case 'jsonl':
      return pairs.map((p) => `${JSON.stringify(pairJson(p))}\n`).join('');
    case 'csv': {
      const rows = pairs.map((p) =>
        [
          p.key,
          pairStatus(p),
          p.verdict ?? '',
          f2(p.preference),
          p.consistent === null ? '' : String(p.consistent),
          f2(p.orderGap),
          f2(pairCoverage(p)),
          String(lowCoverage(p)),
        ].join(','),
      );
      return `${['key,status,verdict,preference_b,consistent,order_gap,coverage,low_coverage', ...rows].join('\n')}\n`;
    }
    case 'table': {
      const rows = pairs.map((p) => {
        const coverage = pairCoverage(p);
        const status = pairStatus(p);
        const verdict =
          p.verdict === null
            ? status === 'failed'
              ? 'failed'
              : `${status}: ${(p.errors ?? []).join('; ').slice(0, 70)}`
            : p.verdict === 'tie' ? (p.consistent === false ? 'tie (orders disagree)' : 'tie') : `${p.verdict.toUpperCase()} better`;
        return [
          p.key,
          lowCoverage(p) ? `${verdict} (LOW level coverage ${f2(coverage)})` : verdict,
          f2(p.preference),
          p.orders.map((o) => f2(o.first === p.a.sha256 ? o.preference : o.preference === null ? null : 1 - o.preference)).join(' / '),
        ];
      });
      return `${textTable(['pair', 'verdict', 'P(B better)', 'per order (A first / B first)'], rows)}\n\n${summaryText(summary)}\n`;
    }
  }
}
