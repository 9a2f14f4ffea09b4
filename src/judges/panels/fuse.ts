/**
 * Fusing neurons' reviews of a set of items into one verdict per item, the same way for a
 * panel run and for `quorum fuse` of stored runs: Thurstone fusion (or a location fusion)
 * over the items enough neurons answered, and the panel's agreement.
 */
import { fuseValues, panelAgreement, thurstoneFusion } from '../../aggregate/fusion.js';
import type { PanelDefinition } from './schema.js';

/** Per item (same order as the input's columns); null where the item was not fused. */
export interface FusedItems {
  score: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  /** Standard deviation of the neurons' scores of the item. */
  spread: (number | null)[];
  /** Neurons that answered the item. */
  answered: number[];
  /** Krippendorff's alpha (interval) across neurons; NaN when undefined. */
  alpha: number;
  meanSpread: number;
}

export type FusionSettings = Pick<PanelDefinition, 'fusion' | 'trim' | 'rounds' | 'seed' | 'minNeurons'>;

/**
 * `samples[r][i]`: neuron r's sampled scores of item i, null (or empty) when it failed.
 * Items fewer than `minNeurons` neurons answered get no score. Thurstone needs two
 * fusable items; with fewer, the mean of the neurons' means stands in.
 */
export function fuseNeurons(samples: readonly (readonly (readonly number[] | null)[])[], settings: FusionSettings): FusedItems {
  const items = samples[0]?.length ?? 0;
  const has = (s: readonly number[] | null | undefined): s is readonly number[] => s !== null && s !== undefined && s.length > 0;
  const meanOf = (s: readonly number[]) => s.reduce((a, b) => a + b, 0) / s.length;
  const means = samples.map((row) => row.map((s) => (has(s) ? meanOf(s) : null)));
  const answered = Array.from({ length: items }, (_, i) => samples.filter((row) => has(row[i])).length);
  const fusable = answered.flatMap((n, i) => (n >= settings.minNeurons && n > 0 ? [i] : []));
  const none = () => new Array<number | null>(items).fill(null);
  const score = none();
  const lower = none();
  const upper = none();
  // `meta` fusion: the meta judge's verdict replaces this where it answered; Thurstone stands in where not.
  const thurstone = settings.fusion === 'thurstone' || settings.fusion === 'meta';
  if (thurstone && fusable.length >= 2) {
    const f = thurstoneFusion(
      samples.map((row) => fusable.map((i) => (has(row[i]) ? (row[i] as readonly number[]) : null))),
      { rounds: settings.rounds, seed: settings.seed },
    );
    fusable.forEach((item, k) => {
      score[item] = finite(f.scores[k]);
      lower[item] = finite(f.lower[k]);
      upper[item] = finite(f.upper[k]);
    });
  } else {
    const method = settings.fusion === 'thurstone' || settings.fusion === 'meta' ? 'mean' : settings.fusion;
    for (const i of fusable) score[i] = finite(fuseValues(means.flatMap((row) => (row[i] === null ? [] : [row[i] as number])), method, settings.trim));
  }
  const agreement = items > 0 ? panelAgreement(means) : { alpha: NaN, spread: [], meanSpread: NaN };
  return { score, lower, upper, spread: Array.from({ length: items }, (_, i) => finite(agreement.spread[i])), answered, alpha: agreement.alpha, meanSpread: agreement.meanSpread };
}

export function finite(v: number | undefined | null): number | null {
  return v !== undefined && v !== null && Number.isFinite(v) ? v : null;
}
