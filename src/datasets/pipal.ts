/**
 * PIPAL (Gu et al. 2020): one label file per reference, `Train_Label/A0001.txt`, lines
 * `A0001_00_00.bmp,1520.5` (no header): the distorted image and its Elo score. Elo has
 * no fixed range, so scores are normalised over the smallest and largest in the files.
 * Distorted images in `Train_Dis/` (or `Distortion/`). The reference name groups them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { TableSpec } from './spec.js';
import type { Table } from './table.js';

export const pipal: TableSpec = {
  kind: 'pipal',
  title: 'PIPAL (Elo, normalised over the observed range)',
  files: ['Train_Label'],
  images: ['Train_Dis', 'Distortion', 'images', ''],
  name: ['dist_img'],
  score: ['elo'],
  group: ['ref_img'],
  scale: 'observed',
};

/** The label folder's files as one table with `dist_img, elo, ref_img`. */
export async function readPipalLabels(folder: string): Promise<Table> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => n.endsWith('.txt')).sort();
  } catch (error) {
    throw new InputError(folder, 'label folder not found (expected Train_Label/ with one .txt file per reference)', { cause: error });
  }
  if (names.length === 0) throw new InputError(folder, 'holds no .txt label files');
  const table: Table = { file: folder, columns: ['dist_img', 'elo', 'ref_img'], rows: [], lines: [] };
  for (const name of names) {
    const text = await readFile(join(folder, name), 'utf8');
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      const [image = '', elo = ''] = line.split(',').map((c) => c.trim());
      table.rows.push({ dist_img: image, elo, ref_img: name.replace(/\.txt$/, '') });
      table.lines.push(i + 1);
    });
  }
  return table;
}
