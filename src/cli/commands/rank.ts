import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { rankRunOptions } from '../../judges/plans.js';
import { checkShardStrategy, runRank } from '../../judges/rank-run.js';
import { formatRanking } from '../../report/ranking.js';
import { enumArg, intArg, str, type Args } from '../args.js';
import { judgeArgs, pairArgs } from '../judge-options.js';
import type { CommandIO } from '../main.js';
import { openPairCommand, printDryRun, runArgs } from '../judge-run.js';
import { dryRunRank } from '../../dry-run/index.js';
import { pairAsked } from '../../judges/panels/pairs.js';
import { batchArgs, batchExit, judgedRun } from '../batch-run.js';

export const usage = 'rank <system-dir>... | --items <dir>  [--judge provider:model|name|panel:NAME] [--dry-run] [options]';

export const command = defineCommand({
  meta: {
    name: 'rank',
    description:
      'Rank systems (folders of outputs matched by relative path) or, with --items, the images of one folder, from pairwise judgments in both orders, with 95% intervals (bootstrap widened to the posterior where pairs are few); items never compared are listed as not ranked.',
  },
  args: {
    items: { type: 'string', valueHint: 'dir', description: 'Rank the images in this folder themselves' },
    strategy: {
      type: 'string', valueHint: 'active|round-robin|random',
      description: 'active: judge the most informative pairs first, stop at the budget or when the order is settled; round-robin: every pair; random: random pairs up to the budget',
      default: 'active',
    },
    budget: { type: 'string', valueHint: 'N', description: 'Most judged orders (a pair costs 2). Default: 2 N log2 N for active, every pair otherwise' },
    ...pairArgs,
    ...judgeArgs,
    ...runArgs,
    ...batchArgs,
  },
});

export const examples = `Examples:
  quorum rank out/model-a out/model-b out/model-c --judge openai:gpt-4o-mini
  quorum rank --items candidates/ --judge openai:qwen2.5-vl --base-url http://127.0.0.1:8080/v1 --budget 300
  quorum rank out/* --judge anthropic:claude-sonnet-4-6 --strategy round-robin --format json
  quorum rank out/* --judge panel:duo --strategy round-robin --batch   # every pair through the batch APIs`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const systems = (args['_'] as string[] | undefined) ?? [];
  const items = str(args, 'items');
  if (items && systems.length) throw new UsageError('Give either system folders or --items <folder>, not both');
  if (!items && systems.length < 2) throw new UsageError('Give at least two system folders, or --items <folder>');
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const strategy = enumArg(args, 'strategy', ['active', 'round-robin', 'random'] as const, 'active');
  const budget = intArg(args, 'budget', 2);
  const seed = intArg(args, 'bootstrap-seed', 0) ?? 0;
  if (args['batch'] === true && strategy === 'active') {
    throw new UsageError('--batch needs a strategy that does not depend on earlier answers: --strategy round-robin or random (active chooses each pair from the last answers)');
  }
  checkShardStrategy(strategy, str(args, 'shard') !== undefined);
  const cmd = await openPairCommand('rank', args, io);
  try {
    if (cmd.dryRun) {
      cmd.terminal.release();
      const plan = await cmd.planDry((base) =>
        dryRunRank({
          ...base,
          target: items ? { items } : { systems },
          strategy,
          budget,
        }),
      );
      return await printDryRun(plan, args, io, cmd.levels);
    }
    const planned = rankRunOptions(cmd.stored, items ? { items } : { systems }, strategy, budget, seed);
    const { runOptions } = planned;
    const runName = str(args, 'run') ?? planned.runName;
    const { result, batch } = await judgedRun({
      args,
      io,
      terminal: cmd.terminal,
      ...cmd.judged,
      store: cmd.store,
      pass: (overrides) =>
        runRank({
          store: cmd.store,
          provider: cmd.judge.provider,
          ...(items ? { items } : { systems }),
          settings: cmd.settings,
          strategy,
          budget,
          seed,
          ...cmd.runFields(runName, runOptions),
          ...overrides,
        }),
    });
    await cmd.print(args, batch, result.pairs, formatRanking(result, format), result.run);
    // A pair whose answers a batch still holds was not asked: not run, not failed.
    const failedPairs = result.pairs.filter((p) => p.verdict === null && (batch?.reason === undefined || pairAsked(p))).length;
    return batchExit(cmd.finish({ ...result, failedPairs, pairsHere: result.pairs.length }), batch);
  } finally {
    await cmd.close();
  }
}
