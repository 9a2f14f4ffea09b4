/**
 * From a dataset subset and the scoring run's results to an evaluation report: every item
 * accounted for (scored, or failed with the reason), agreement on the images scored,
 * ladder ordering when the dataset is a ladder, and the levels method's calibration where
 * the dataset gives a std.
 */
import { LEVELS } from '../aggregate/level-moments.js';
import type { Dataset, DatasetItem } from '../datasets/types.js';
import type { ImageScore } from '../judges/score.js';
import { agreement, ladderOrdering, levelCalibration, type Agreement, type BootstrapSettings, type LadderOrdering } from './metrics.js';

export interface EvaluatedItem {
  name: string;
  path: string;
  /** Human score normalised to 1-5, and as the dataset gives it. */
  human: number;
  raw: number;
  score: number | null;
  /** `ok`, `partial` (scored from some samples), `failed`, `error`, `not-run`. */
  status: string;
  errors: string[];
}

export interface EvaluationReport {
  dataset: string;
  kind: string;
  split: string | null;
  scale: readonly [number, number];
  images: { planned: number; used: number; failed: number };
  /** Agreement with the 1-5 human scores (RMSE on that scale); absent below 4 scored images. */
  agreement?: Agreement | undefined;
  ladder?: LadderOrdering[] | undefined;
  /** Levels method, datasets with a std: expected calibration error of the level distributions. */
  levelEce?: number | undefined;
  /** The loader's messages about left-out rows. */
  problems: string[];
}

export function evaluate(
  dataset: Dataset,
  items: readonly DatasetItem[],
  results: readonly ImageScore[],
  context: { dataset: string; split: string | undefined; bootstrap?: BootstrapSettings | undefined },
): { report: EvaluationReport; items: EvaluatedItem[] } {
  const byPath = new Map(results.map((r) => [r.path, r]));
  const evaluated = items.map((item): EvaluatedItem => {
    const r = byPath.get(item.path);
    const scored = r && r.score !== null && (r.status === 'ok' || r.status === 'partial');
    return {
      name: item.name,
      path: item.path,
      human: item.score,
      raw: item.raw,
      score: scored ? (r.score as number) : null,
      status: r ? r.status : 'not-run',
      errors: r ? r.errors : ['not run'],
    };
  });
  const used = evaluated.filter((e) => e.score !== null);
  const report: EvaluationReport = {
    dataset: context.dataset,
    kind: dataset.kind,
    split: context.split ?? null,
    scale: dataset.scale,
    images: { planned: items.length, used: used.length, failed: items.length - used.length },
    problems: dataset.problems.map((p) => p.message),
  };
  if (used.length >= 4) {
    report.agreement = agreement(used.map((e) => e.score as number), used.map((e) => e.human), context.bootstrap);
  }
  if (dataset.kind === 'ladder') {
    const points = items.flatMap((item, i) => {
      const score = evaluated[i]?.score;
      return score === null || score === undefined || item.group === undefined || item.level === undefined
        ? []
        : [{ group: item.group, distortion: item.distortion ?? 'unknown', level: item.level, score }];
    });
    report.ladder = ladderOrdering(points);
  }
  const withLevels = items.flatMap((item, i) => {
    const levels = byPath.get(item.path)?.levels;
    return evaluated[i]?.score !== null && levels && item.std !== undefined && item.std > 0
      ? [{ p: LEVELS.map((l) => levels[l] ?? 0), mos: item.raw, std: item.std }]
      : [];
  });
  if (withLevels.length > 0) {
    report.levelEce = levelCalibration(withLevels.map((w) => w.p), withLevels.map((w) => w.mos), withLevels.map((w) => w.std), dataset.scale);
  }
  return { report, items: evaluated };
}
