import type { TableSpec } from './spec.js';

/**
 * Any labelled folder: a CSV or JSONL file with `path` and `score` columns, optional
 * `std` and `split`; paths relative to the file's folder. Scores are taken as 1-5
 * unless `--scale MIN:MAX` says otherwise.
 */
export const generic: TableSpec = {
  kind: 'csv',
  title: 'generic CSV/JSONL: path, score (1-5 unless --scale), optional std, split',
  files: [],
  images: [''],
  name: ['path', 'image', 'name'],
  score: ['score', 'mos'],
  std: ['std'],
  split: ['split'],
  scale: [1, 5],
};

/** Ladders written by `quorum ladder`: `ladder.csv` with the known order. */
export const ladder: TableSpec = {
  kind: 'ladder',
  title: 'distortion ladder written by `quorum ladder` (ladder.csv)',
  files: ['ladder.csv'],
  images: [''],
  name: ['path'],
  score: ['score'],
  group: ['group'],
  distortion: ['distortion'],
  level: ['level'],
  scale: [1, 5],
};
