/**
 * Loads a dataset named `<kind>:<path>`: finds its label file and image folder, reads the
 * rows, validates them (missing image files, duplicate names, scores outside the scale,
 * unknown columns, unreadable rows: one counted message each, the rows named are left
 * out, the rest proceed), normalises scores to 1-5 keeping the raw score, and assigns
 * splits (official where the dataset has them, else seeded).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { hashObject } from '../core/hash.js';
import { InputError, UsageError } from '../core/errors.js';
import { agiqa3k } from './agiqa-3k.js';
import { aigiqa20k } from './aigiqa-20k.js';
import { generic, ladder } from './generic.js';
import { kadid } from './kadid.js';
import { koniq } from './koniq.js';
import { liveChallenge } from './live-challenge.js';
import { pipal, readPipalLabels } from './pipal.js';
import { spaq } from './spaq.js';
import { SPLIT_NAMES, type TableSpec } from './spec.js';
import { readTable, type Table } from './table.js';
import type { Dataset, DatasetItem, DatasetProblem } from './types.js';
import { uhdIqa } from './uhd-iqa.js';

/** Every dataset kind, by the name used in `--dataset <kind>:<path>`. */
export const datasetKinds: Readonly<Record<string, TableSpec>> = Object.fromEntries(
  [koniq, spaq, liveChallenge, kadid, pipal, agiqa3k, aigiqa20k, uhdIqa, generic, ladder].map((s) => [s.kind, s]),
);

export interface LoadDatasetOptions {
  /** Overrides the dataset's raw scale (e.g. a generic CSV on 0-100). */
  scale?: readonly [number, number] | undefined;
  /** Seed of the split drawn for datasets without an official one. @default 0 */
  splitSeed?: number | undefined;
  /** Fraction of items the seeded split puts in `train` (the rest are `test`). @default 0.5 */
  trainFraction?: number | undefined;
}

/** `koniq:/data/koniq` -> `{ kind, path }`; a kind Quorum does not know is a usage error naming the known ones. */
export function parseDatasetArg(value: string): { spec: TableSpec; path: string } {
  const colon = value.indexOf(':');
  const kind = colon > 0 ? value.slice(0, colon) : '';
  const path = colon > 0 ? value.slice(colon + 1) : '';
  const spec = datasetKinds[kind];
  if (!spec || path === '') {
    throw new UsageError(`Expected \`dataset\` to be <kind>:<path> with kind one of ${Object.keys(datasetKinds).join(', ')}, got \`${value}\``);
  }
  return { spec, path };
}

const pick = (row: Record<string, string>, names: readonly string[] | undefined, columns: Set<string>) => {
  const name = names?.find((n) => columns.has(n));
  return name === undefined ? undefined : row[name];
};

/** Finds the label file (or PIPAL's label folder) and the image folder for `path`. */
async function locate(spec: TableSpec, path: string): Promise<{ table: Table; imageDir: string }> {
  const given = resolve(path);
  if (!existsSync(given)) throw new InputError(path, 'does not exist');
  const isDir = statSync(given).isDirectory();
  let labels: string | undefined;
  if (!isDir) labels = given;
  else {
    labels = spec.files.map((f) => join(given, f)).find((f) => existsSync(f));
    if (!labels) {
      const wanted = spec.files.length ? spec.files.join(' or ') : 'a label file (give the CSV/JSONL file itself)';
      throw new InputError(path, `holds no ${spec.kind} labels (looked for ${wanted})`);
    }
  }
  const root = isDir ? given : dirname(given);
  const table = spec.kind === 'pipal' ? await readPipalLabels(labels) : await readTable(labels);
  const base = spec.kind === 'pipal' && !isDir ? dirname(root) : root;
  const imageDir = spec.images.map((d) => join(base, d)).find((d) => d !== base && existsSync(d)) ?? base;
  return { table, imageDir };
}

/** A problem line: `kind: 3 rows ... (e.g. a, b, c)`. */
function problem(kind: DatasetProblem['kind'], file: string, examples: readonly string[], what: string): DatasetProblem {
  const shown = examples.slice(0, 3).join(', ');
  const more = examples.length > 3 ? `, ... ${examples.length - 3} more` : '';
  return { kind, count: examples.length, message: `${file}: ${examples.length} ${what} (${shown}${more})` };
}

/** The seeded split of an item: stable under reordering and subsetting (a hash of seed and name). */
function drawnSplit(name: string, seed: number, trainFraction: number): string {
  const h = Number.parseInt(hashObject({ seed, name }).slice(0, 8), 16) / 0x1_0000_0000;
  return h < trainFraction ? 'train' : 'test';
}

/**
 * Loads a dataset. Throws an `InputError` only when nothing can be read (no label file,
 * no usable column); row-level problems are returned in `problems`.
 * @example
 * const ds = await loadDataset('koniq:/data/koniq10k');
 * ds.items[0]; // => { name: '826373.jpg', raw: 3.91, score: 3.91, std: 0.61, split: 'train', ... }
 * for (const p of ds.problems) console.error(p.message);
 */
export async function loadDataset(value: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  const { spec, path } = parseDatasetArg(value);
  const { table, imageDir } = await locate(spec, path);
  const file = table.file;
  const columns = new Set(Object.keys(table.rows[0] ?? {}));
  for (const [what, names] of [['name', spec.name], ['score', spec.score]] as const) {
    if (!names.some((n) => columns.has(n))) {
      throw new InputError(file, `has no ${what} column (expected ${names.join(' or ')}; found ${table.columns.join(', ') || 'none'})`);
    }
  }
  const used = new Set(
    [spec.name, spec.score, spec.std, spec.variance, spec.split, spec.group, spec.distortion, spec.level, spec.known].flatMap((n) => n ?? []),
  );
  const problems: DatasetProblem[] = [];
  const unknown = table.columns.filter((c) => !used.has(c.toLowerCase()));
  if (unknown.length) problems.push(problem('unknown-column', file, unknown, `unknown column(s), ignored`));

  const bad: string[] = [];
  const parsed: Omit<DatasetItem, 'score'>[] = [];
  table.rows.forEach((row, i) => {
    const name = pick(row, spec.name, columns) ?? '';
    const scoreText = pick(row, spec.score, columns);
    const raw = Number(scoreText);
    const where = `line ${table.lines[i]}`;
    if (name === '' || scoreText === '' || !Number.isFinite(raw)) {
      bad.push(`${where}: ${name || 'no name'}`);
      return;
    }
    const stdText = pick(row, spec.std, columns);
    const varText = pick(row, spec.variance, columns);
    const std = stdText ? Number(stdText) : varText ? Math.sqrt(Number(varText)) : undefined;
    const splitText = pick(row, spec.split, columns)?.toLowerCase();
    const levelText = pick(row, spec.level, columns);
    const group = pick(row, spec.group, columns);
    const distortion = pick(row, spec.distortion, columns);
    parsed.push({
      name,
      path: isAbsolute(name) ? name : join(imageDir, name),
      raw,
      ...(std !== undefined && Number.isFinite(std) && std >= 0 ? { std } : {}),
      ...(splitText ? { split: SPLIT_NAMES[splitText] ?? splitText } : {}),
      ...(group ? { group } : {}),
      ...(distortion ? { distortion } : {}),
      ...(levelText ? { level: Number(levelText) } : {}),
    });
  });
  if (bad.length) problems.push(problem('bad-row', file, bad, 'row(s) without a name or a numeric score, left out'));

  const seen = new Set<string>();
  const duplicates: string[] = [];
  const unique = parsed.filter((item) => {
    if (!seen.has(item.name)) return seen.add(item.name);
    duplicates.push(item.name);
    return false;
  });
  if (duplicates.length) problems.push(problem('duplicate', file, duplicates, 'duplicate name(s); the first row of each is used'));

  let scale: readonly [number, number];
  if (options.scale) scale = options.scale;
  else if (spec.scale === 'observed') {
    let lo = Infinity;
    let hi = -Infinity;
    for (const item of unique) {
      lo = Math.min(lo, item.raw);
      hi = Math.max(hi, item.raw);
    }
    scale = unique.length ? [lo, hi] : [0, 1];
  } else scale = spec.scale;
  const [min, max] = scale;
  const outside: string[] = [];
  const inScale = unique.filter((item) => {
    if (item.raw >= min && item.raw <= max) return true;
    outside.push(`${item.name}: ${item.raw}`);
    return false;
  });
  if (outside.length) problems.push(problem('out-of-scale', file, outside, `score(s) outside the scale ${min}-${max}, left out`));

  const missing: string[] = [];
  const present = inScale.filter((item) => {
    if (existsSync(item.path)) return true;
    missing.push(item.name);
    return false;
  });
  if (missing.length) problems.push(problem('missing-file', file, missing, `image file(s) missing from ${imageDir}, left out`));

  const officialSplits = present.some((item) => item.split !== undefined);
  const seed = options.splitSeed ?? 0;
  const trainFraction = options.trainFraction ?? 0.5;
  const span = max - min || 1;
  const items = present.map(
    (item): DatasetItem => ({
      ...item,
      score: 1 + (4 * (item.raw - min)) / span,
      ...(officialSplits ? {} : { split: drawnSplit(item.name, seed, trainFraction) }),
    }),
  );
  return { kind: spec.kind, root: path, labels: file, scale, officialSplits, items, problems };
}
