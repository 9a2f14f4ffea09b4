import type { TableSpec } from './spec.js';

/**
 * SPAQ (Fang et al. 2020): `MOS and Image attribute scores.xlsx` with `Image name`, `MOS`
 * (0-100) and five attribute scores. Quorum reads its CSV export (save the sheet as
 * `mos.csv`). Images in `TestImage/`. No official split.
 */
export const spaq: TableSpec = {
  kind: 'spaq',
  title: 'SPAQ (MOS 0-100; CSV export of the xlsx sheet)',
  files: ['mos.csv', 'MOS and Image attribute scores.csv', 'Annotations/MOS and Image attribute scores.csv'],
  images: ['TestImage', 'images', ''],
  name: ['image name', 'image_name', 'name'],
  score: ['mos'],
  known: ['brightness', 'colorfulness', 'contrast', 'noisiness', 'sharpness'],
  scale: [0, 100],
};
