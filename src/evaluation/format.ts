/** `quorum eval` as text: the agreement table, ladder ordering, and the leaderboard of `--compare`. */
import { textTable } from '../report/format.js';
import type { EvaluationReport } from './evaluate.js';
import type { Interval, PairedDifference } from './metrics.js';

const ci = (v: Interval | undefined, digits = 3): string =>
  v === undefined || Number.isNaN(v.estimate) ? '-' : `${v.estimate.toFixed(digits)} [${v.lower.toFixed(digits)}, ${v.upper.toFixed(digits)}]`;

export function formatReport(name: string, judge: string, method: string, r: EvaluationReport): string {
  const lines = [
    `evaluation ${name}: ${judge} (${method}) on ${r.dataset}${r.split ? ` split ${r.split}` : ''}`,
    `images: ${r.images.used} used, ${r.images.failed} failed or not scored, of ${r.images.planned}`,
    '',
  ];
  const a = r.agreement;
  if (a) {
    lines.push(
      textTable(
        ['metric', 'value [95% bootstrap interval]'],
        [
          ['SRCC', ci(a.srcc)],
          ['KRCC', ci(a.krcc)],
          ['PLCC', ci(a.plcc)],
          ['PLCC (logistic fit)', ci(a.plccFitted)],
          ['RMSE (fit, 1-5 scale)', ci(a.rmse)],
        ],
      ),
    );
  } else lines.push('agreement: fewer than 4 images scored, no correlation reported');
  if (r.ladder) {
    lines.push(
      '',
      textTable(
        ['distortion', 'adjacent pairs', 'correctly ordered [95% Wilson]', 'within-image SRCC'],
        r.ladder.map((l) => [l.distortion, String(l.pairs), ci(l.rate, 2), Number.isNaN(l.withinSrcc) ? '-' : l.withinSrcc.toFixed(3)]),
      ),
    );
  }
  if (r.levelEce !== undefined) lines.push('', `level calibration against soft labels (ECE): ${r.levelEce.toFixed(4)}`);
  return `${lines.join('\n')}\n`;
}

export interface LeaderboardRow {
  name: string;
  judge: string;
  prompt: string;
  method: string;
  dataset: string;
  n: number;
  srcc: Interval | undefined;
  plccFitted: Interval | undefined;
  /** Against the next row down, on the images both scored. */
  next?: PairedDifference | undefined;
}

export function formatLeaderboard(rows: readonly LeaderboardRow[]): string {
  const body = rows.map((r, i) => [
    String(i + 1),
    r.name,
    r.judge,
    r.prompt,
    r.method,
    String(r.n),
    ci(r.srcc),
    ci(r.plccFitted),
    r.next ? `${r.next.estimate >= 0 ? '+' : ''}${r.next.estimate.toFixed(3)} [${r.next.lower.toFixed(3)}, ${r.next.upper.toFixed(3)}]${r.next.significant ? '' : ' n.s.'}` : '',
  ]);
  return `${textTable(['#', 'evaluation', 'judge', 'prompt', 'method', 'n', 'SRCC [95%]', 'PLCC fit [95%]', 'SRCC - next (paired) '], body)}\nn.s.: the 95% interval of the difference holds 0; the two are not told apart on these images.\n`;
}
