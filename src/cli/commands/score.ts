import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { runScore } from '../../judges/score-run.js';
import { parseShard, shardLabel } from '../../judges/shard.js';
import { loadAnchors } from '../../judges/anchors.js';
import { planScore } from '../../judges/plans.js';
import { builtinTemplates } from '../../prompts/builtin.js';
import { scoreChunks } from '../../report/format.js';
import type { Store } from '../../store/store.js';
import { calibratedChunks } from '../../evaluation/calibrated-output.js';
import { storedCalibration, type StoredCalibration } from '../../evaluation/stored-calibration.js';
import { enumArg, intArg, numArg, str, type Args } from '../args.js';
import { chooseJudge, judgeArgs, maxTokensOf, promptFrom, seedOf, setupJudge } from '../judge-options.js';
import { judgeNotes, openRunStore, printScoreDryRun, retryFailedOf, runArgs, RunTerminal } from '../judge-run.js';
import { batchArgs, batchExit, batchLine, judgedRun } from '../batch-run.js';
import { choosePanel } from '../panels/options.js';
import type { CommandIO } from '../main.js';

export const usage = 'score <image-or-folder>... [--judge provider:model|name|panel:NAME] [--dry-run] [options]';

export const command = defineCommand({
  meta: {
    name: 'score',
    description: 'Score the quality of images with a vision-LLM judge; every call is stored, so reruns are free and resumable.',
  },
  args: {
    prompt: {
      type: 'string', valueHint: 'id|file',
      description: `Prompt template: ${builtinTemplates.map((t) => t.id).join(', ')}, or a template file (docs/prompts.md)`,
    },
    method: {
      type: 'string', valueHint: 'sample|levels|anchors|auto',
      description:
        'sample: K reasoned scores per image (mean, spread); levels: one call, the distribution over excellent..bad from log-probabilities; anchors: compare with anchor images of known quality (needs --anchors); auto: levels where the judge returns log-probabilities (default auto, or the config judge\'s method)',
    },
    anchors: { type: 'string', valueHint: 'file.csv', description: 'CSV with `path,score` columns: anchor images of known quality for --method anchors' },
    samples: { type: 'string', valueHint: 'K', description: 'Samples per image for the sample method (1-1000; default 5, or the config judge\'s samples)' },
    temperature: { type: 'string', valueHint: 'T', description: 'Sampling temperature for the sample method (default 1, or the config judge\'s options.temperature)' },
    calibration: { type: 'string', valueHint: 'name', description: 'Also print each image\'s predicted human score with a conformal interval, from a stored `quorum calibrate`' },
    coverage: { type: 'string', valueHint: 'p', description: 'Coverage of the --calibration interval, in (0, 1)', default: '0.9' },
    ...judgeArgs,
    ...runArgs,
    ...batchArgs,
  },
});

export const examples = `Examples:
  quorum score photos/                                   # the local judge qwen2.5-vl-7b, downloaded once (asks first; --yes)
  quorum score photos/ --judge llama:qwen2.5-vl-3b       # the smaller catalogue judge, for weak machines
  quorum score photos/ --judge openai:gpt-4o-mini --samples 5
  quorum score photos/ --judge anthropic:claude-sonnet-4-6 --format json --out scores.json
  quorum score sr-out/ --judge openai:qwen2.5-vl --base-url http://127.0.0.1:8080/v1 --method levels
  quorum score img.png --judge openai:gpt-4o --prompt quality-report     # distortions + reasoning
  quorum score photos/ --judge llama:./qwen2-vl-2b.gguf --mmproj ./mmproj.gguf
  quorum score photos/ --judge openai:gpt-4o-mini --method anchors --anchors anchors.csv   # Compare2Score
  quorum score photos/ --judge fast --dry-run      # a judge named in quorum.config.yaml; plan, calls, cost, nothing sent
  quorum score photos/ --judge panel:wide      # the panel \`wide\` of quorum.config.yaml (docs/panels.md)

Rerunning the same command makes no new calls; raising --samples only asks for the new ones.
Exit codes: 0 every image scored, 1 some failed (listed on stderr), 2 usage error, 130 interrupted.`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const inputs = (args['_'] as string[] | undefined) ?? [];
  if (inputs.length === 0) throw new UsageError('Give at least one image or folder to score');
  const panel = await choosePanel(args, io.env);
  if (panel) return (await import('../panels/score.js')).runPanelScore(args, io, panel, inputs);
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  // Flags first, then the named judge's settings from the config file, then defaults.
  const choice = await chooseJudge(args, io);
  const entry = choice.named?.entry;
  const requested = enumArg(args, 'method', ['auto', 'sample', 'levels', 'anchors'] as const, entry?.method ?? 'auto');
  const anchorsFile = str(args, 'anchors');
  if (requested === 'anchors' && !anchorsFile) throw new UsageError('--method anchors needs --anchors <file.csv> (columns path,score)');
  if (anchorsFile && requested !== 'anchors') throw new UsageError('--anchors is only used with --method anchors');
  const dryRun = args['dry-run'] === true;
  if (dryRun && requested === 'anchors') throw new UsageError('--dry-run does not plan --method anchors yet');
  const samples = intArg(args, 'samples', 1) ?? entry?.samples ?? 5;
  const temperature = numArg(args, 'temperature', 0, 2) ?? entry?.options?.temperature ?? 1;
  const template = await promptFrom(args, choice, io.env);

  const shardArg = str(args, 'shard');
  const shard = shardArg !== undefined ? parseShard(shardArg) : undefined;
  const calibrationName = str(args, 'calibration');
  const coverage = numArg(args, 'coverage', 0.01, 0.999) ?? 0.9;

  const judge = await setupJudge(args, io, choice);
  let store: Store;
  let calibration: StoredCalibration | undefined;
  try {
    store = openRunStore(args, io.env);
    calibration = calibrationName ? storedCalibration(store, calibrationName, String(judge.stored['judge'])) : undefined;
  } catch (error) {
    await judge.provider.close?.();
    throw error;
  }
  for (const line of judgeNotes(judge)) io.note(line);
  const terminal = new RunTerminal('score', io, args);
  try {
    const plan = await planScore({
      store,
      judge,
      inputs,
      requested,
      template,
      samples,
      temperature,
      seed: seedOf(args, choice),
      maxTokens: maxTokensOf(choice),
      anchors: anchorsFile ? await loadAnchors(anchorsFile) : undefined,
      probe: !dryRun,
    });
    const { method, settings, runOptions, levels } = plan;
    if (dryRun) {
      terminal.release();
      return await printScoreDryRun(args, io, store, judge, inputs, plan);
    }
    if (requested === 'auto' && !template) {
      const how = levels?.how === 'probed' ? ', checked with one probe' : levels?.how === 'remembered' ? ', as probed before' : '';
      io.note(`method: ${method} (${method === 'levels' ? 'the judge returns log-probabilities' : 'no log-probabilities from this judge'}${how})`);
    }
    const runName = str(args, 'run') ?? plan.runName;

    const { result, batch } = await judgedRun({
      args,
      io,
      terminal,
      judges: [judge],
      store,
      pass: (overrides) =>
        runScore({
          store,
          provider: judge.provider,
          inputs,
          settings,
          shard,
          runName,
          runOptions,
          ...terminal.runOptions(judge),
          onEvent: (e) => {
            // A duplicate shares its first copy's calls: they were counted (and unplanned) once.
            if (!terminal.event(e) && e.type === 'image' && !e.result.duplicateOf) terminal.progress.cached(e.result.cachedCalls);
          },
          ...overrides,
        }),
    });
    terminal.done();
    if (calibration && (calibration.method !== method || calibration.prompt !== `${settings.template.id}@${settings.template.version}`)) {
      io.note(`warning: calibration ${calibration.name} was fitted for ${calibration.method} with ${calibration.prompt}; its interval does not hold for this run's method or prompt`);
    }
    await terminal.output(
      args,
      calibration ? calibratedChunks(result.results, calibration.model, coverage, calibration.name, format) : scoreChunks(result.results, format),
      result.run,
    );

    const by = (status: string) => result.results.filter((r) => r.status === status);
    const failed = by('failed');
    const notRun = by('not-run');
    if (result.skipped.length) io.note(`skipped ${result.skipped.length} non-image file(s)`);
    for (const e of result.inputErrors) io.note(`error: ${e.message}`);
    // After a fatal error the items it left are one count, not one line each.
    const fatal = result.fatal;
    for (const r of failed) {
      if (fatal === undefined || !r.errors.every((e) => e.includes(fatal))) io.note(`failed: ${r.path}: ${r.errors.slice(0, 3).join('; ')}`);
    }
    for (const r of by('partial')) io.note(`partial: ${r.path}: ${r.errors.slice(0, 3).join('; ')}`);
    // A batch still out leaves every image it holds not run, for one reason said once.
    if (batch?.reason && notRun.length) io.note(`${notRun.length} image(s) not run: ${batch.reason}`);
    else if (!result.fatal && !result.interrupted && !result.budgetExceeded) for (const r of notRun) io.note(`not run: ${r.path}`);
    if (shard) io.note(`shard ${shardLabel(shard)}: ${result.planned} images here, ${result.otherShards} left to the other shards`);
    if (result.renamed) io.note(`the earlier run named ${result.run.name} is kept as ${result.renamed}`);
    const c = result.counts;
    const scored = result.results.filter((r) => r.status === 'ok' || r.status === 'partial').length;
    io.note(
      `run ${result.run.name}${result.resumed ? ' (resumed)' : ''}: ${scored}/${result.planned} images scored` +
        `${notRun.length ? `, ${notRun.length} not run (${result.fatal ? 'the run stopped' : result.budgetExceeded ? '--max-cost' : batch?.reason ? 'batch' : 'interrupted'})` : ''}, ` +
        `${c.requests} requests${c.rejected ? `, ${c.rejected} rejected` : ''}, ${c.cached} cached samples${c.costUsd > 0 ? `, $${c.costUsd.toFixed(4)}` : ''}; db ${store.file}`,
    );
    const line = batchLine(batch);
    if (line) io.note(line);
    const stored = store.storedFailures(result.run.id);
    if (stored.answer > 0 && retryFailedOf(args) !== 'all') {
      io.note(`${stored.answer} stored answer(s) did not parse; --retry-failed asks them again`);
    }
    if (result.interrupted) return 130;
    return batchExit(failed.length > 0 || result.inputErrors.length > 0 || result.budgetExceeded || result.fatal ? 1 : 0, batch);
  } finally {
    store.close();
    await judge.provider.close?.();
  }
}
