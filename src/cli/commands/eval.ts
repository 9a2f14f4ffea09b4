import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { hashObject } from '../../core/hash.js';
import { loadDataset, subset } from '../../datasets/index.js';
import type { Dataset, DatasetItem } from '../../datasets/types.js';
import { evaluate } from '../../evaluation/evaluate.js';
import { formatLeaderboard, formatReport, type LeaderboardRow } from '../../evaluation/format.js';
import { pairedSrccDifference } from '../../evaluation/metrics.js';
import type { EvaluationReport } from '../../evaluation/evaluate.js';
import { planScore } from '../../judges/plans.js';
import { runScore } from '../../judges/score-run.js';
import type { ImageScore } from '../../judges/score.js';
import { resolveTemplate } from '../../prompts/load.js';
import { Store } from '../../store/store.js';
import { dbPath, enumArg, intArg, numArg, str, type Args } from '../args.js';
import { chooseJudge, judgeArgs, maxTokensOf, seedOf, setupJudge, type JudgeSetup } from '../judge-options.js';
import { openRunStore, printScoreDryRun, runArgs, RunTerminal } from '../judge-run.js';
import type { CommandIO } from '../main.js';
import { writeOutput } from '../outputs.js';

export const usage = 'eval --dataset <kind>:<path> --judge provider:model [options] | eval --compare <evaluation>...';

/** Options shared by `eval` and `calibrate`: which dataset items, scored how. */
export const datasetArgs = {
  dataset: {
    type: 'string',
    valueHint: 'kind:path',
    description: 'Labelled images: koniq, spaq, livec, kadid, pipal, agiqa3k, aigiqa20k, uhd-iqa, csv (path,score[,std,split]) or ladder, then `:` and the folder or label file (datasets/README.md)',
  },
  split: { type: 'string', valueHint: 'train|val|test', description: "Only this split: the dataset's official one, else a seeded half/half train/test split" },
  limit: { type: 'string', valueHint: 'N', description: 'Only the first N items (after --split and --sample)' },
  sample: { type: 'string', valueHint: 'N', description: 'N items drawn at random with --split-seed' },
  'split-seed': { type: 'string', valueHint: 'N', description: 'Seed of the drawn split and of --sample', default: '0' },
  scale: { type: 'string', valueHint: 'MIN:MAX', description: "The label file's score scale, overriding the dataset's (e.g. 0:100 for a csv of 0-100 scores)" },
  method: { type: 'string', valueHint: 'sample|levels|auto', description: 'Scoring method, as in `quorum score`', default: 'auto' },
  prompt: { type: 'string', valueHint: 'id|file', description: 'Prompt template, as in `quorum score`' },
  samples: { type: 'string', valueHint: 'K', description: 'Samples per image for the sample method (1-1000)', default: '5' },
  temperature: { type: 'string', valueHint: 'T', description: 'Sampling temperature for the sample method', default: '1' },
  ...judgeArgs,
  judge: { ...judgeArgs.judge, required: false },
  // Not --shard: an evaluation needs every item of its subset (--sample, --limit take parts).
  new: runArgs.new,
  'retry-failed': runArgs['retry-failed'],
  'dry-run': {
    type: 'boolean',
    description: 'Print the scoring calls the dataset needs (how many are cached), estimated tokens and cost, and exit: nothing is sent, nothing is stored',
  },
} as const;

export const command = defineCommand({
  meta: {
    name: 'eval',
    description:
      'How well does a judge agree with people? Scores a labelled dataset through the cached scoring path (an eval after a score run costs nothing) and reports SRCC, KRCC, PLCC and RMSE with bootstrap intervals; ladders report ordering; stored for --compare.',
  },
  args: {
    ...datasetArgs,
    format: { type: 'string', valueHint: 'table|json', description: 'Output format', default: 'table' },
    name: { type: 'string', valueHint: 'name', description: 'Store the evaluation under this name (default: derived from dataset, judge and method)' },
    compare: { type: 'boolean', description: 'Lay stored evaluations (given as arguments) side by side with paired bootstrap tests of SRCC differences' },
    'bootstrap-rounds': { type: 'string', valueHint: 'N', description: 'Bootstrap resamples for every interval', default: '1000' },
    'bootstrap-seed': { type: 'string', valueHint: 'N', description: 'Seed of the bootstrap resamples', default: '0' },
  },
});

export const examples = `Examples:
  quorum eval --dataset koniq:~/data/koniq10k --split test --judge openai:gpt-4o-mini --sample 500
  quorum eval --dataset ladder:ladders/ --judge openai:qwen2.5-vl --base-url http://127.0.0.1:8080/v1
  quorum eval --dataset csv:labels.csv --scale 0:100 --judge anthropic:claude-sonnet-4-6 --format json
  quorum eval --compare eval-1a2b3c eval-4d5e6f eval-7a8b9c

Exit codes: 0 every item scored, 1 some failed (counted in the report), 2 usage error.`;

/** `--scale 0:100` as a pair. */
export function scaleArg(args: Args): readonly [number, number] | undefined {
  const v = str(args, 'scale');
  if (v === undefined) return undefined;
  const m = /^(-?[\d.]+):(-?[\d.]+)$/.exec(v);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || !Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new UsageError(`Expected \`scale\` to be MIN:MAX with MIN < MAX, got \`${v}\``);
  return [lo, hi];
}

export interface ScoredSubset {
  dataset: Dataset;
  items: DatasetItem[];
  results: ImageScore[];
  judge: JudgeSetup;
  prompt: string;
  method: string;
  runId: number;
  label: string;
  store: Store;
  failed: number;
}

/**
 * Loads the dataset, prints its problems, takes the subset, and scores it as `quorum
 * score` would (same plan, same cache). The caller closes `store` and the judge. With
 * `--dry-run` it prints the plan of that scoring instead and returns the exit code.
 */
export async function scoreDataset(args: Args, io: CommandIO, command: string, split: string | undefined): Promise<ScoredSubset | number> {
  const datasetArg = str(args, 'dataset');
  if (!datasetArg) throw new UsageError(`Missing required option --dataset (e.g. --dataset koniq:~/data/koniq10k)`);
  const requested = enumArg(args, 'method', ['auto', 'sample', 'levels'] as const, 'auto');
  const samples = intArg(args, 'samples', 1) ?? 5;
  const temperature = numArg(args, 'temperature', 0, 2) ?? 1;
  const seed = intArg(args, 'split-seed', 0) ?? 0;
  const limit = intArg(args, 'limit', 1);
  const sample = intArg(args, 'sample', 1);
  const promptArg = str(args, 'prompt');
  const template = promptArg ? await resolveTemplate(promptArg) : undefined;
  const dataset = await loadDataset(datasetArg, { scale: scaleArg(args), splitSeed: seed });
  for (const p of dataset.problems) io.note(`dataset: ${p.message}`);
  const items = subset(dataset, { split, sample, limit, seed });
  if (items.length === 0) throw new UsageError(`No usable items in ${datasetArg}`);
  const label = `${datasetArg}${split ? ` split ${split}` : ''}${sample ? ` sample ${sample}` : ''}${limit ? ` limit ${limit}` : ''}`;

  // The judge's config entry (seed, maxTokens) reaches the plan as in `quorum score`.
  const choice = await chooseJudge(args, io);
  const judge = await setupJudge(args, io, choice);
  const dryRun = args['dry-run'] === true;
  let store: Store;
  try {
    store = openRunStore(args, io.env);
  } catch (error) {
    await judge.provider.close?.();
    throw error;
  }
  const inputs = items.map((i) => i.path);
  const terminal = new RunTerminal(command, io, args);
  try {
    const plan = await planScore({ store, judge, inputs, requested, template, samples, temperature, seed: seedOf(args, choice), maxTokens: maxTokensOf(choice), probe: !dryRun });
    if (dryRun) {
      terminal.release();
      const code = await printScoreDryRun(args, io, store, judge, inputs, plan);
      store.close();
      await judge.provider.close?.();
      return code;
    }
    const result = await runScore({
      store,
      provider: judge.provider,
      inputs,
      settings: plan.settings,
      runName: str(args, 'run') ?? `${command}-${hashObject({ label, ...plan.runOptions, inputs: undefined }).slice(0, 10)}`,
      runOptions: { ...plan.runOptions, inputs: undefined, dataset: label },
      ...terminal.runOptions(judge),
      onEvent: (e) => {
        if (!terminal.event(e) && e.type === 'image' && !e.result.duplicateOf) terminal.progress.cached(e.result.cachedCalls);
      },
    });
    terminal.done();
    if (result.fatal) io.note(`the scoring run stopped: ${result.fatal}`);
    const prompt = `${plan.settings.template.id}@${plan.settings.template.version}`;
    const failed = result.results.filter((r) => r.score === null).length;
    return { dataset, items, results: result.results, judge, prompt, method: plan.method, runId: result.run.id, label, store, failed };
  } catch (error) {
    terminal.done();
    store.close();
    await judge.provider.close?.();
    throw error;
  }
}

export async function run(args: Args, io: CommandIO): Promise<number> {
  const format = enumArg(args, 'format', ['table', 'json'] as const, 'table');
  const rounds = intArg(args, 'bootstrap-rounds', 1, 1_000_000) ?? 1000;
  const bootstrapSeed = intArg(args, 'bootstrap-seed', 0) ?? 0;
  if (args['compare'] === true) return compare(args, io, format, { rounds, seed: bootstrapSeed });
  const split = str(args, 'split');
  const s = await scoreDataset(args, io, 'eval', split);
  if (typeof s === 'number') return s;
  try {
    const { report, items } = evaluate(s.dataset, s.items, s.results, { dataset: s.label, split, bootstrap: { rounds, seed: bootstrapSeed } });
    const judge = String(s.judge.stored['judge'] ?? str(args, 'judge'));
    const name = str(args, 'name') ?? `eval-${hashObject({ dataset: s.label, judge, prompt: s.prompt, method: s.method }).slice(0, 10)}`;
    s.store.putEvaluation({
      name,
      runId: s.runId,
      dataset: s.label,
      judge,
      prompt: s.prompt,
      method: s.method,
      report,
      items: items.flatMap((i) => (i.score === null ? [] : [{ key: i.name, score: i.score, human: i.human }])),
    });
    for (const i of items) if (i.score === null) io.note(`${i.status}: ${i.path}: ${i.errors.slice(0, 2).join('; ')}`);
    const text = format === 'json' ? `${JSON.stringify({ name, judge, prompt: s.prompt, method: s.method, ...report, items }, null, 2)}\n` : formatReport(name, judge, s.method, report);
    await writeOutput(args, io.env, io.stdout, text, { name }, `quorum eval --dataset ${str(args, 'dataset')} ... (the same options: every score is cached)`);
    io.note(`evaluation ${name} stored in ${s.store.file}`);
    return s.failed > 0 ? 1 : 0;
  } finally {
    s.store.close();
    await s.judge.provider.close?.();
  }
}

async function compare(args: Args, io: CommandIO, format: 'table' | 'json', bootstrap: { rounds: number; seed: number }): Promise<number> {
  const names = ((args['_'] as string[] | undefined) ?? []).map(String);
  if (names.length < 2) throw new UsageError('--compare needs at least two stored evaluations (names printed by `quorum eval`)');
  const store = Store.open(dbPath(args, io.env), { readOnly: true });
  try {
    const evaluations = names.map((n) => {
      const e = store.getEvaluation(n);
      if (!e) throw new UsageError(`No evaluation named \`${n}\` in ${store.file}`);
      return e;
    });
    const rows = evaluations
      .map((e) => ({ e, a: (e.report as EvaluationReport).agreement }))
      .sort((p, q) => (q.a?.srcc.estimate ?? -Infinity) - (p.a?.srcc.estimate ?? -Infinity));
    const board: LeaderboardRow[] = rows.map(({ e, a }, i) => {
      const below = rows[i + 1]?.e;
      let next;
      if (below) {
        const theirs = new Map(below.items.map((it) => [it.key, it]));
        const common = e.items.filter((it) => theirs.has(it.key));
        if (common.length >= 4) {
          next = pairedSrccDifference(
            common.map((it) => it.score),
            common.map((it) => (theirs.get(it.key) as { score: number }).score),
            common.map((it) => it.human),
            bootstrap,
          );
        } else io.note(`${e.name} and ${below.name} share ${common.length} images: no paired test`);
      }
      return { name: e.name, judge: e.judge, prompt: e.prompt, method: e.method, dataset: e.dataset, n: a?.n ?? 0, srcc: a?.srcc, plccFitted: a?.plccFitted, next };
    });
    io.stdout.write(format === 'json' ? `${JSON.stringify(board, null, 2)}\n` : formatLeaderboard(board));
    return 0;
  } finally {
    store.close();
  }
}
