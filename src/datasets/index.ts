/** Dataset loaders: human-labelled IQA datasets and distortion ladders (datasets/README.md). */
export { datasetKinds, loadDataset, parseDatasetArg, type LoadDatasetOptions } from './load.js';
export { subset, type SubsetOptions } from './subset.js';
export type { Dataset, DatasetItem, DatasetProblem } from './types.js';
export type { TableSpec } from './spec.js';
