import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { hashObject } from '../../core/hash.js';
import type { PairSettings } from '../../judges/compare.js';
import { runRank } from '../../judges/rank-run.js';
import { formatRanking } from '../../report/ranking.js';
import { Store } from '../../store/store.js';
import { dbPath, enumArg, intArg, judgeArgs, pairSettingsFrom, setupJudge, str, type Args } from '../judge-options.js';
import type { CommandIO } from '../main.js';
import { RunTerminal } from '../judge-run.js';

export const usage = 'rank <system-dir>... | --items <dir>  --judge provider:model [options]';

export const command = defineCommand({
  meta: {
    name: 'rank',
    description:
      'Rank systems (folders of outputs matched by relative path) or, with --items, the images of one folder, from pairwise judgments in both orders, with 95% bootstrap intervals.',
  },
  args: {
    items: { type: 'string', valueHint: 'dir', description: 'Rank the images in this folder themselves' },
    strategy: {
      type: 'string', valueHint: 'active|round-robin|random',
      description: 'active: judge the most informative pairs first, stop at the budget or when the order is settled; round-robin: every pair; random: random pairs up to the budget',
      default: 'active',
    },
    budget: { type: 'string', valueHint: 'N', description: 'Most judged orders (a pair costs 2). Default: 2 N log2 N for active, every pair otherwise' },
    prompt: { type: 'string', valueHint: 'id|file', description: 'Pair template: compare-levels or compare-sample (default by judge)' },
    samples: { type: 'string', valueHint: 'K', description: 'Verdicts per order with compare-sample', default: '3' },
    temperature: { type: 'string', valueHint: 'T', description: 'Sampling temperature with compare-sample', default: '1' },
    'bootstrap-seed': { type: 'string', valueHint: 'N', description: 'Seed of pair choice and bootstrap intervals', default: '0' },
    ...judgeArgs,
  },
});

export const examples = `Examples:
  quorum rank out/model-a out/model-b out/model-c --judge openai:gpt-4o-mini
  quorum rank --items candidates/ --judge openai:qwen2.5-vl --base-url http://127.0.0.1:8080/v1 --budget 300
  quorum rank out/* --judge anthropic:claude-sonnet-4-5 --strategy round-robin --format json`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const systems = (args['_'] as string[] | undefined) ?? [];
  const items = str(args, 'items');
  if (items && systems.length) throw new UsageError('Give either system folders or --items <folder>, not both');
  if (!items && systems.length < 2) throw new UsageError('Give at least two system folders, or --items <folder>');
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const strategy = enumArg(args, 'strategy', ['active', 'round-robin', 'random'] as const, 'active');
  const budget = intArg(args, 'budget', 2);
  const seed = intArg(args, 'bootstrap-seed', 0) ?? 0;
  const judge = await setupJudge(args, io.env);
  let settings: PairSettings;
  try {
    settings = await pairSettingsFrom(args, judge.provider);
  } catch (error) {
    await judge.provider.close?.();
    throw error;
  }
  const { template, samples, temperature } = settings;
  const store = Store.open(dbPath(args, io.env));
  const terminal = new RunTerminal('rank', io, args);
  try {
    const runOptions = {
      ...judge.stored,
      prompt: { id: template.id, version: template.version, hash: template.hash },
      samples: template.kind === 'levels' ? 1 : samples,
      temperature,
      strategy,
      ...(budget !== undefined ? { budget } : {}),
      seed,
    };
    const runName = str(args, 'run') ?? `rank-${hashObject({ systems, items, ...runOptions }).slice(0, 10)}`;
    const result = await runRank({
      store,
      provider: judge.provider,
      ...(items ? { items } : { systems }),
      settings,
      strategy,
      budget,
      seed,
      runName,
      runOptions,
      ...terminal.runOptions(judge),
      onEvent: (e) => {
        if (!terminal.event(e) && e.type === 'pair') terminal.progress.cached(e.pair.orders.reduce((n, o) => n + o.cached, 0));
      },
    });
    terminal.done();
    const output = formatRanking(result, format);
    await terminal.output(args, output);
    for (const u of result.unmatched) io.note(`unmatched: ${u.path} (${u.reason})`);
    for (const e of result.inputErrors) io.note(`error: ${e.message}`);
    const failed = result.pairs.filter((p) => p.verdict === null).length;
    if (failed) io.note(`${failed} pair(s) failed: \`quorum show ${result.run.name} --calls\` has the details`);
    io.note(`run ${result.run.name}${result.resumed ? ' (resumed)' : ''}: ${result.counts.requests} requests, ${result.counts.cached} cached; db ${store.file}`);
    if (result.interrupted) return 130;
    return failed > 0 || result.inputErrors.length > 0 || result.budgetExceeded ? 1 : 0;
  } finally {
    store.close();
    await judge.provider.close?.();
  }
}
