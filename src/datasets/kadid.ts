import type { TableSpec } from './spec.js';

/**
 * KADID-10k (Lin et al. 2019): `dmos.csv` with `dist_img, ref_img, dmos, var`; DMOS on
 * 1-5, higher is better (despite the name). Images (distorted and references) in
 * `images/`. `ref_img` groups the 125 versions of each reference.
 */
export const kadid: TableSpec = {
  kind: 'kadid',
  title: 'KADID-10k (DMOS 1-5, higher is better)',
  files: ['dmos.csv'],
  images: ['images', ''],
  name: ['dist_img'],
  score: ['dmos'],
  variance: ['var'],
  group: ['ref_img'],
  scale: [1, 5],
};
