import type { TableSpec } from './spec.js';

/**
 * UHD-IQA (Hosu et al. 2024): `uhd-iqa-metadata.csv` with `image_name, quality_mos`
 * (0-1) and a `set` column (training/validation/test), the official split; 6,073 4K
 * photos in `database/` (or `challenge/{training,validation,test}`, named with that folder).
 */
export const uhdIqa: TableSpec = {
  kind: 'uhd-iqa',
  title: 'UHD-IQA (MOS 0-1, official split)',
  files: ['uhd-iqa-metadata.csv', 'uhd-iqa-training-metadata.csv'],
  images: ['database', 'images', ''],
  name: ['image_name'],
  score: ['quality_mos'],
  std: ['quality_std'],
  split: ['set', 'split'],
  scale: [0, 1],
};
