import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { collectInputs } from '../../images/index.js';
import { ladderCsv, writeLadder, type LadderRow } from '../../ladder/ladder.js';
import { intArg, pathArg, type Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'ladder <pristine-image-or-folder>... --out <dir>';

export const command = defineCommand({
  meta: {
    name: 'ladder',
    description:
      'Write graded versions of pristine images (Gaussian blur, noise, JPEG quality, downscale-upscale, colour cast; 5 levels each) and ladder.csv with their known order, for `quorum eval --dataset ladder:<dir>`.',
  },
  args: {
    out: { type: 'string', valueHint: 'dir', description: 'Folder to write the ladders and ladder.csv into', required: true },
    seed: { type: 'string', valueHint: 'N', description: 'Seed of the added noise', default: '0' },
  },
});

export const examples = `Examples:
  quorum ladder pristine/ --out ladders/
  quorum eval --dataset ladder:ladders/ --judge openai:gpt-4o-mini`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const inputs = (args['_'] as string[] | undefined) ?? [];
  if (inputs.length === 0) throw new UsageError('Give at least one pristine image or folder');
  const out = pathArg(args, 'out', io.env);
  if (!out) throw new UsageError('Missing required option --out <dir>');
  const seed = intArg(args, 'seed', 0) ?? 0;
  const collected = await collectInputs(inputs);
  const rows: LadderRow[] = [];
  let failed = collected.errors.length;
  for (const e of collected.errors) io.note(`error: ${e.message}`);
  for (const file of collected.files) {
    try {
      rows.push(...(await writeLadder(file.path, out, seed)));
    } catch (error) {
      failed++;
      io.note(`error: ${file.path}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (rows.length === 0) throw new UsageError(`No image could be read from ${inputs.join(', ')}`);
  await writeFile(join(out, 'ladder.csv'), ladderCsv(rows));
  io.stdout.write(`${rows.length / 26} ladder(s), ${rows.length} images and ladder.csv written to ${out}\n`);
  return failed > 0 ? 1 : 0;
}
