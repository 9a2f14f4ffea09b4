import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { calibrate, fitCalibration } from '../../evaluation/calibration-model.js';
import { intArg, str, type Args } from '../args.js';
import type { CommandIO } from '../main.js';
import { datasetArgs, scoreDataset } from './eval.js';

export const usage = 'calibrate --dataset <kind>:<path> --judge provider:model --name NAME [options]';

// Calibrate prints two summary lines and stores the model: no --format or --out.
const { format: _format, out: _out, ...calibrateArgs } = datasetArgs;

export const command = defineCommand({
  meta: {
    name: 'calibrate',
    description:
      "Fit, on a calibration split, the monotone map from a judge's score to the human scale (4-parameter logistic) and a split conformal interval for its residuals; `quorum score --calibration NAME` then prints predicted human scores with intervals.",
  },
  args: {
    ...calibrateArgs,
    split: { type: 'string', valueHint: 'train|val|test', description: "Calibration split: the dataset's official one, else the seeded half", default: 'train' },
    name: { type: 'string', valueHint: 'name', description: 'Store the calibration under this name', required: true },
    scaled: { type: 'boolean', description: "Scale the interval by the judge's own spread per image (wider where the judge is unsure)" },
  },
});

export const examples = `Examples:
  quorum calibrate --dataset koniq:~/data/koniq10k --split train --judge openai:gpt-4o-mini --sample 400 --name koniq-mini
  quorum score photos/ --judge openai:gpt-4o-mini --calibration koniq-mini --coverage 0.9

The interval covers a new image's human score with probability >= the coverage asked, if
the image is exchangeable with the calibration images (same kind of photos, same judge,
prompt and method): docs/evaluation.md.`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const name = str(args, 'name');
  if (!name) throw new UsageError('Missing required option --name (the name `quorum score --calibration` will use)');
  const split = str(args, 'split') ?? 'train';
  const s = await scoreDataset(args, io, 'calibrate', split);
  if (typeof s === 'number') return s;
  try {
    const scaled = args['scaled'] === true;
    const points = s.items.flatMap((item, i) => {
      const r = s.results[i];
      return r && r.path === item.path && r.score !== null && (!scaled || r.std !== null) ? [{ x: r.score, y: item.raw, spread: r.std ?? undefined }] : [];
    });
    if (points.length < 20) throw new UsageError(`Expected at least 20 scored calibration images, got ${points.length} (${s.failed} failed)`);
    const model = fitCalibration(points, { scaled, seed: intArg(args, 'split-seed', 0) ?? 0 });
    const judge = String(s.judge.stored['judge']);
    s.store.putCalibration({ name, judge, prompt: s.prompt, method: s.method, dataset: s.label, model: { ...model, scale: s.dataset.scale } });
    const mid = calibrate(model, points[0]?.x ?? 3, 1, 0.9);
    io.stdout.write(
      `calibration ${name}: ${judge} (${s.method}, ${s.prompt}) onto ${s.label}, scale ${s.dataset.scale.join('-')}\n` +
        `logistic fitted on ${model.fitted} images, conformal scores from ${model.conformal}; ` +
        `90% interval ${scaled ? 'at judge spread 1: ' : ''}+-${((mid.upper - mid.lower) / 2).toFixed(3)}\n`,
    );
    io.note(`calibration ${name} stored in ${s.store.file}`);
    return 0;
  } finally {
    s.store.close();
    await s.judge.provider.close?.();
  }
}
