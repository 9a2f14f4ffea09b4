import type { TableSpec } from './spec.js';

/**
 * AGIQA-3K (Li et al. 2023): `data.csv` with `name, prompt, adj1, adj2, style,
 * mos_quality, std_quality, mos_align, std_align`; the perception MOS (about 0-5) is
 * used. Images beside the file or in `images/`. No official split.
 */
export const agiqa3k: TableSpec = {
  kind: 'agiqa3k',
  title: 'AGIQA-3K (quality MOS 0-5)',
  files: ['data.csv', 'AGIQA-3K.csv'],
  images: ['images', 'AGIQA-3K', ''],
  name: ['name'],
  score: ['mos_quality'],
  std: ['std_quality'],
  known: ['prompt', 'adj1', 'adj2', 'style', 'mos_align', 'std_align'],
  scale: [0, 5],
};
