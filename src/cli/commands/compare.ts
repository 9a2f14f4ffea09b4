import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { compareRunOptions } from '../../judges/plans.js';
import { runCompare } from '../../judges/compare-run.js';
import { formatCompare } from '../../report/pairs.js';
import { enumArg, intArg, str, type Args } from '../args.js';
import { judgeArgs, pairArgs } from '../judge-options.js';
import type { CommandIO } from '../main.js';
import { openPairCommand, printDryRun, runArgs } from '../judge-run.js';
import { dryRunCompare } from '../../dry-run/index.js';
import { batchArgs, batchExit, judgedRun } from '../batch-run.js';

export const usage = 'compare <dirA> <dirB> [--judge provider:model|name|panel:NAME] [--ref <dir>] [--dry-run] [options]';

export const command = defineCommand({
  meta: {
    name: 'compare',
    description:
      'Compare two systems output by output: files in <dirA> and <dirB> are matched by relative path (extension ignored) and each pair is judged in both orders.',
  },
  args: {
    ref: { type: 'string', valueHint: 'dir', description: 'Folder of reference images (full-reference comparison), matched the same way' },
    order: { type: 'string', valueHint: 'both|random|fixed', description: 'both: judge (A,B) and (B,A) and map back (default); random: one seeded order; fixed: A first', default: 'both' },
    ...pairArgs,
    ...judgeArgs,
    ...runArgs,
    ...batchArgs,
  },
});

export const examples = `Examples:
  quorum compare out/model-a out/model-b --judge openai:gpt-4o-mini
  quorum compare out/a out/b --ref data/hr --judge openai:qwen2.5-vl --base-url http://127.0.0.1:8080/v1
  quorum compare out/a out/b --judge anthropic:claude-sonnet-4-6 --samples 3 --format json
  quorum compare out/a out/b --judge panel:duo --batch --no-wait   # a panel's pairs through the batch APIs

Each pair is judged twice, once with each output shown first; when the two orders
disagree the pair counts as a tie and is listed. The summary gives wins/ties/losses, the
win rate of B with a 95% Wilson interval, the Bradley-Terry difference with its 95%
posterior interval, and the judge's position bias (swap disagreement, first-slot
preference). It flags fewer than 5 judged pairs, pairs with level coverage below 0.5, and
verdicts that follow the slot rather than the images (position artefacts: then no
Bradley-Terry difference is given).`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const dirs = (args['_'] as string[] | undefined) ?? [];
  if (dirs.length !== 2) throw new UsageError(`Give exactly two folders to compare, got ${dirs.length}`);
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const order = enumArg(args, 'order', ['both', 'random', 'fixed'] as const, 'both');
  const seed = intArg(args, 'bootstrap-seed', 0) ?? 0;
  const cmd = await openPairCommand('compare', args, io);
  try {
    const ref = str(args, 'ref');
    if (cmd.dryRun) {
      cmd.terminal.release();
      const plan = await cmd.planDry((base) =>
        dryRunCompare({
          ...base,
          dirs: [dirs[0] as string, dirs[1] as string],
          reference: ref,
          order,
          seed,
        }),
      );
      return await printDryRun(plan, args, io, cmd.levels);
    }
    const planned = compareRunOptions(cmd.stored, dirs, order, ref);
    const { runOptions } = planned;
    const runName = str(args, 'run') ?? planned.runName;
    const { result, batch } = await judgedRun({
      args,
      io,
      terminal: cmd.terminal,
      ...cmd.judged,
      store: cmd.store,
      pass: (overrides) =>
        runCompare({
          store: cmd.store,
          provider: cmd.judge.provider,
          dirA: dirs[0] as string,
          dirB: dirs[1] as string,
          reference: ref,
          settings: cmd.settings,
          order,
          seed,
          ...cmd.runFields(runName, runOptions),
          ...overrides,
        }),
    });
    await cmd.print(args, batch, result.pairs, formatCompare(result.pairs, result.summary, result.unmatched, format), result.run);
    const failed = result.pairs.filter((p) => p.status === 'failed');
    for (const p of failed) io.note(`failed: ${p.key}: ${p.orders.flatMap((o) => o.errors).slice(0, 3).join('; ')}`);
    return batchExit(cmd.finish({ ...result, failedPairs: failed.length, pairsHere: result.pairs.length }), batch);
  } finally {
    await cmd.close();
  }
}
