/** What every dataset loader produces: labelled images on the dataset's scale and on 1-5. */

export interface DatasetItem {
  /** The image's name as the label file writes it. */
  name: string;
  /** Absolute path of the image file. */
  path: string;
  /** Human score as the label file gives it (MOS, DMOS, Elo...). */
  raw: number;
  /** `raw` normalised to 1-5 (higher is better): `1 + 4 (raw - min) / (max - min)`. */
  score: number;
  /** Standard deviation of the human ratings on the raw scale, where the dataset gives one. */
  std?: number | undefined;
  /** Official split (`train`, `val`, `test`), or the seeded one. */
  split?: string | undefined;
  /** Ladders: the pristine image a graded version comes from. */
  group?: string | undefined;
  /** Ladders: the distortion (`pristine` for level 0). */
  distortion?: string | undefined;
  /** Ladders: 0 pristine, 1..5 increasingly distorted. */
  level?: number | undefined;
}

/** A problem found while loading, counted; the rows it names are left out, the rest proceed. */
export interface DatasetProblem {
  kind: 'missing-file' | 'duplicate' | 'out-of-scale' | 'unknown-column' | 'bad-row';
  count: number;
  /** One line, with the count, the file and a few examples. */
  message: string;
}

export interface Dataset {
  /** Loader kind, e.g. `koniq`. */
  kind: string;
  /** The folder or file given. */
  root: string;
  /** The label file read. */
  labels: string;
  /** The raw scale `[min, max]` that `score` is normalised from. */
  scale: readonly [number, number];
  /** Whether `split` comes from the dataset (true) or was drawn with a seed (false). */
  officialSplits: boolean;
  items: DatasetItem[];
  problems: DatasetProblem[];
}
