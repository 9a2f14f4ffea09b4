/**
 * A table dataset described as data: where its label file and images are, which columns
 * hold what, and its scale. Most public IQA datasets are one label table plus a folder
 * of images; `loadDataset` (load.ts) reads any of them.
 */
export interface TableSpec {
  kind: string;
  /** One line for `--help` and errors. */
  title: string;
  /** Label file names tried in order, relative to the dataset folder. */
  files: readonly string[];
  /** Image folders tried in order, relative to the dataset folder (`''` is the folder itself). */
  images: readonly string[];
  /** Candidate column names (lower case), first present wins. */
  name: readonly string[];
  score: readonly string[];
  std?: readonly string[];
  /** A variance column, turned into a standard deviation. */
  variance?: readonly string[];
  split?: readonly string[];
  group?: readonly string[];
  distortion?: readonly string[];
  level?: readonly string[];
  /** Columns that are known and not used (anything else is reported as unknown). */
  known?: readonly string[];
  /** The raw scale; `observed` takes the smallest and largest score in the file (Elo). */
  scale: readonly [number, number] | 'observed';
}

/** Official split names mapped to Quorum's (`training` -> `train`). */
export const SPLIT_NAMES: Readonly<Record<string, string>> = {
  training: 'train',
  train: 'train',
  validation: 'val',
  val: 'val',
  valid: 'val',
  test: 'test',
  testing: 'test',
};
