import { FEW_PAIRS, LOW_LEVEL_COVERAGE } from '../judges/pair-checks.js';
import type { RankRunResult } from '../judges/rank-run.js';
import type { OutputFormat } from './format.js';
import { csvCell, textTable } from './format.js';
import { pairJson } from './pairs.js';

const f2 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(2));
const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(0)}%`);

/** What a ranking report shows: a finished run, or one read back from the store. */
export type RankingView = Pick<
  RankRunResult,
  'mode' | 'strategy' | 'judgedOrders' | 'budget' | 'settled' | 'positionBias' | 'ranking' | 'perContent' | 'names' | 'pairs' | 'unmatched'
> &
  Partial<Pick<RankRunResult, 'positionArtefacts' | 'lowCoveragePairs' | 'intervals'>>;

/** One line saying how the intervals were computed. */
function methodText(r: RankingView): string {
  const i = r.intervals;
  // Rankings stored before the method was recorded used the percentile bootstrap alone.
  if (!i) return 'scores are Bradley-Terry log-odds, intervals 95% percentile bootstrap over pairs (stored by an older version)';
  return (
    `scores are Bradley-Terry log-odds (prior N(0, ${i.priorSigma}^2)); intervals ${Math.round(i.level * 100)}%: ` +
    `the wider of the percentile bootstrap over judged pairs (${i.rounds} rounds, seed ${i.seed}) and score +- ${(1.96).toFixed(2)} posterior SE`
  );
}

export function formatRanking(r: RankingView, format: OutputFormat): string {
  const summary = {
    mode: r.mode,
    strategy: r.strategy,
    judgedOrders: r.judgedOrders,
    budget: r.budget,
    settled: r.settled,
    positionBias: r.positionBias,
    positionArtefacts: r.positionArtefacts ?? false,
    lowCoveragePairs: r.lowCoveragePairs ?? 0,
    ranked: r.ranking.filter((x) => x.status !== 'not-ranked').length,
    notRanked: r.ranking.filter((x) => x.status === 'not-ranked').length,
    intervals: r.intervals ?? null,
  };
  switch (format) {
    case 'json':
      return `${JSON.stringify(
        {
          summary,
          ranking: r.ranking,
          perContent: r.perContent.map((c) => ({ key: c.key, winRates: Object.fromEntries(r.names.map((n, i) => [n, c.winRates[i]])) })),
          pairs: r.pairs.map((p) => ({ ...pairJson({ key: `${p.content ?? ''}:${r.names[p.itemA]}:${r.names[p.itemB]}`, ...p }), itemA: r.names[p.itemA], itemB: r.names[p.itemB] })),
          unmatched: r.unmatched,
        },
        null,
        2,
      )}\n`;
    case 'jsonl':
      return r.ranking.map((x) => `${JSON.stringify(x)}\n`).join('');
    case 'csv': {
      const header = 'rank,name,status,score,lower,upper,comparisons,wins,few,low_coverage_pairs';
      const rows = r.ranking.map((x) =>
        [x.rank, x.name, x.status ?? 'ranked', x.score, x.lower, x.upper, x.comparisons, x.wins.toFixed(3), x.few ?? false, x.lowCoveragePairs ?? 0]
          .map(csvCell)
          .join(','),
      );
      return `${[header, ...rows].join('\n')}\n`;
    }
    case 'table': {
      const table = textTable(
        ['rank', r.mode === 'systems' ? 'system' : 'image', 'score', '95% interval', 'pairs', 'win rate', 'note'],
        r.ranking.map((x) => {
          const notes: string[] = [];
          if (x.status === 'not-ranked') notes.push(`not ranked: ${x.reason ?? 'no judged pair'}`);
          else if (x.few) notes.push(`few pairs (< ${FEW_PAIRS}): interval rests on the prior`);
          if (x.lowCoveragePairs) notes.push(`LOW level coverage in ${x.lowCoveragePairs} pairs`);
          return [
            x.rank === null ? '-' : String(x.rank),
            x.name,
            f2(x.score),
            x.status === 'not-ranked' ? '-' : `[${f2(x.lower)}, ${f2(x.upper)}]`,
            String(x.comparisons),
            x.comparisons ? `${((x.wins / x.comparisons) * 100).toFixed(0)}%` : '-',
            notes.join('; '),
          ];
        }),
      );
      const lines = [table, ''];
      if (r.mode === 'systems' && r.perContent.length) {
        const shown = r.perContent.slice(0, 30);
        lines.push(
          'Per content (soft win rate of each system):',
          textTable(['content', ...r.names], shown.map((c) => [c.key, ...c.winRates.map((w) => (w === null ? '-' : `${(w * 100).toFixed(0)}%`))])),
          ...(r.perContent.length > shown.length ? [`… ${r.perContent.length - shown.length} more (use --format json)`] : []),
          '',
        );
      }
      const b = r.positionBias;
      lines.push(
        `${r.strategy}: ${r.judgedOrders} judged orders of a budget of ${r.budget}${r.settled ? ' (stopped early: order settled)' : ''}` +
          (summary.notRanked ? `; ${summary.notRanked} not ranked (no judged pair)` : ''),
        methodText(r),
        `position bias: orders disagreed in ${pct(b.swapDisagreementRate)} of pairs, first slot won ${pct(b.firstSlotPreference)} of decided orders`,
      );
      if (summary.positionArtefacts) {
        lines.push(
          'POSITION ARTEFACTS: the verdicts follow the slot, not the images; this ranking says more about the judge than about the items',
        );
      }
      if (summary.lowCoveragePairs) {
        lines.push(`LOW level coverage (< ${LOW_LEVEL_COVERAGE}) in ${summary.lowCoveragePairs} judged pairs: the judge ignored the answer format there`);
      }
      return `${lines.join('\n')}\n`;
    }
  }
}
