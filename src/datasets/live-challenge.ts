import type { TableSpec } from './spec.js';

/**
 * LIVE In the Wild Image Quality Challenge (Ghadiyaram and Bovik 2016): the labels ship
 * as MATLAB files (`Data/AllImages_release.mat`, `Data/AllMOS_release.mat`,
 * `Data/AllStdDev_release.mat`); Quorum reads a CSV export of them, `livec.csv` with
 * `image, mos, std` (datasets/README.md shows the one-line export). MOS 0-100 (observed
 * about 3-92). Images in `Images/`; the first 7 entries are the training images in
 * `Images/trainingImages/` (their names carry that folder).
 */
export const liveChallenge: TableSpec = {
  kind: 'livec',
  title: 'LIVE-Challenge (MOS 0-100; CSV export of the .mat labels)',
  files: ['livec.csv', 'Data/livec.csv'],
  images: ['Images', ''],
  name: ['image', 'image_name', 'name'],
  score: ['mos'],
  std: ['std', 'sd'],
  scale: [0, 100],
};
