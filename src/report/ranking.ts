import type { RankRunResult } from '../judges/rank-run.js';
import type { OutputFormat } from './format.js';
import { textTable } from './format.js';
import { pairJson } from './pairs.js';

const f2 = (v: number | null) => (v === null || Number.isNaN(v) ? '-' : v.toFixed(2));

/** What a ranking report shows: a finished run, or one read back from the store. */
export type RankingView = Pick<
  RankRunResult,
  'mode' | 'strategy' | 'judgedOrders' | 'budget' | 'settled' | 'positionBias' | 'ranking' | 'perContent' | 'names' | 'pairs' | 'unmatched'
>;

export function formatRanking(r: RankingView, format: OutputFormat): string {
  const summary = {
    mode: r.mode,
    strategy: r.strategy,
    judgedOrders: r.judgedOrders,
    budget: r.budget,
    settled: r.settled,
    positionBias: r.positionBias,
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
    case 'csv':
      return `${['rank,name,score,lower,upper,comparisons,wins', ...r.ranking.map((x) => [x.rank, JSON.stringify(x.name), x.score, x.lower, x.upper, x.comparisons, x.wins.toFixed(3)].join(','))].join('\n')}\n`;
    case 'table': {
      const table = textTable(
        ['rank', r.mode === 'systems' ? 'system' : 'image', 'score', '95% interval', 'pairs', 'win rate'],
        r.ranking.map((x) => [
          String(x.rank),
          x.name,
          f2(x.score),
          `[${f2(x.lower)}, ${f2(x.upper)}]`,
          String(x.comparisons),
          x.comparisons ? `${((x.wins / x.comparisons) * 100).toFixed(0)}%` : '-',
        ]),
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
        `${r.strategy}: ${r.judgedOrders} judged orders of a budget of ${r.budget}${r.settled ? ' (stopped early: order settled)' : ''}; ` +
          `scores are Bradley-Terry log-odds, intervals 95% bootstrap over pairs`,
        `position bias: orders disagreed in ${b.swapDisagreementRate === null ? '-' : `${(b.swapDisagreementRate * 100).toFixed(0)}%`} of pairs, ` +
          `first slot won ${b.firstSlotPreference === null ? '-' : `${(b.firstSlotPreference * 100).toFixed(0)}%`} of decided orders`,
      );
      return `${lines.join('\n')}\n`;
    }
  }
}
