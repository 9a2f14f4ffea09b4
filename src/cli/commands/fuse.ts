import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { fuseRuns } from '../../judges/panels/fuse-runs.js';
import { PANEL_FUSIONS, type PanelFusion } from '../../judges/panels/index.js';
import { agreementLine, panelChunks } from '../../report/panels.js';
import { Store } from '../../store/store.js';
import { dbArg, dbPath, enumArg, intArg, numArg, str, type Args } from '../args.js';
import type { CommandIO } from '../main.js';
import { checkOutputs, writeOutput } from '../outputs.js';
import { panelNotes } from '../panels/show.js';

export const usage = 'fuse <run> <run>... --out-run NAME [options]';

export const command = defineCommand({
  meta: {
    name: 'fuse',
    description:
      'Fuse stored score runs of one image set into one verdict per image (Thurstone fusion by default, as in a judge panel), without calling any judge; docs/panels.md',
  },
  args: {
    'out-run': { type: 'string', valueHint: 'name', description: 'Name of the fused run (stored; `quorum show NAME` prints it again)' },
    fusion: { type: 'string', valueHint: 'thurstone|mean|median|trimmed-mean', description: 'How the runs\' scores become one', default: 'thurstone' },
    trim: { type: 'string', valueHint: 'share', description: 'Share cut from each end by trimmed-mean (0-0.49)', default: '0.2' },
    'min-runs': { type: 'string', valueHint: 'N', description: 'Fewest runs that must have scored an image; fewer marks it failed', default: '1' },
    rounds: { type: 'string', valueHint: 'N', description: 'Bootstrap rounds of the 95% intervals (thurstone; 0: none)', default: '200' },
    'bootstrap-seed': { type: 'string', valueHint: 'N', description: 'Seed of the bootstrap', default: '0' },
    ...dbArg,
    format: { type: 'string', valueHint: 'table|json|jsonl|csv', description: 'Output format: table, json, jsonl or csv', default: 'table' },
    out: { type: 'string', valueHint: 'file', description: 'Write the output to this file instead of stdout' },
    new: { type: 'boolean', description: 'Replace an earlier fused run of the same name (the old one is kept as NAME~ID)' },
  },
});

export const examples = `Examples:
  quorum fuse score-1a2b3c4d5e score-6f7a8b9c0d --out-run both
  quorum fuse gpt4o-march qwen-april claude-may --out-run three --fusion median --format csv

Images are matched by content, so the runs may have read them from different folders.
An image one run failed on is fused from the others; the table says which runs it lacks.`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const runs = (args['_'] as string[] | undefined) ?? [];
  if (runs.length < 2) throw new UsageError('Give at least two stored score runs to fuse (`quorum runs` lists them)');
  const outRun = str(args, 'out-run');
  if (!outRun) throw new UsageError('Missing required option --out-run NAME: the fused run is stored under it');
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const fusion = enumArg(args, 'fusion', PANEL_FUSIONS.filter((f): f is Exclude<PanelFusion, 'meta'> => f !== 'meta'), 'thurstone');
  const settings = {
    fusion,
    trim: numArg(args, 'trim', 0, 0.49) ?? 0.2,
    minNeurons: intArg(args, 'min-runs', 1) ?? 1,
    rounds: intArg(args, 'rounds', 0) ?? 200,
    seed: intArg(args, 'bootstrap-seed', 0) ?? 0,
  };
  await checkOutputs(args, io.env);
  const store = Store.open(dbPath(args, io.env));
  try {
    const result = fuseRuns({ store, runs, outRun, settings, argv: io.argv, fresh: args['new'] === true });
    await writeOutput(args, io.env, io.stdout, panelChunks(result.results, format), result.run);
    for (const line of panelNotes(result.results)) io.note(line);
    io.note(agreementLine({ alpha: Number.isFinite(result.alpha) ? result.alpha : null, meanSpread: Number.isFinite(result.meanSpread) ? result.meanSpread : null, neurons: runs.length }));
    const fused = result.results.filter((r) => r.score !== null).length;
    io.note(
      `run ${result.run.name}: ${fused}/${result.results.length} images fused (${fusion}) from ${result.neurons.map((n) => `${n.name} (${n.judge}, ${n.images} images)`).join(', ')}; no calls; db ${store.file}`,
    );
    return fused === result.results.length ? 0 : 1;
  } finally {
    store.close();
  }
}
