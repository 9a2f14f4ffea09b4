import type { TableSpec } from './spec.js';

/**
 * KonIQ-10k (Hosu et al. 2020): `koniq10k_scores_and_distributions.csv` with
 * `image_name, c1..c5, c_total, MOS, SD, MOS_zscore`; MOS and SD on 1-5. The
 * `koniq10k_distributions_sets.csv` variant adds `set` (training/validation/test), the
 * official split, and is preferred when present. Images in `1024x768/` (or `512x384/`).
 */
export const koniq: TableSpec = {
  kind: 'koniq',
  title: 'KonIQ-10k (MOS 1-5, official split with the *_sets.csv file)',
  files: ['koniq10k_distributions_sets.csv', 'koniq10k_scores_and_distributions.csv', 'koniq10k_scores.csv'],
  images: ['1024x768', '512x384', 'images', ''],
  name: ['image_name'],
  score: ['mos'],
  std: ['sd'],
  split: ['set'],
  known: ['c1', 'c2', 'c3', 'c4', 'c5', 'c_total', 'mos_zscore'],
  scale: [1, 5],
};
