import type { TableSpec } from './spec.js';

/**
 * AIGIQA-20K (Li et al., NTIRE 2024): the info sheet with `name, prompt, mos` per image
 * (mos 0-5), as CSV (`info.csv`; `info_train.csv` / `info_test.csv` for the challenge
 * split, merged with a `split` column by the user if both are wanted). Images in
 * `images/` or beside the file.
 */
export const aigiqa20k: TableSpec = {
  kind: 'aigiqa20k',
  title: 'AIGIQA-20K (MOS 0-5)',
  files: ['info.csv', 'data.csv', 'info_test.csv', 'info_train.csv'],
  images: ['images', 'AIGIQA-20K', ''],
  name: ['name', 'image'],
  score: ['mos', 'mos_quality'],
  std: ['std'],
  split: ['split'],
  known: ['prompt', 'model', 'generator'],
  scale: [0, 5],
};
