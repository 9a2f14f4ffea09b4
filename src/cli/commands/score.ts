import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { runScore } from '../../judges/score-run.js';
import { loadAnchors } from '../../judges/anchors.js';
import { planScore } from '../../judges/plans.js';
import { builtinTemplates } from '../../prompts/builtin.js';
import { resolveTemplate } from '../../prompts/load.js';
import { scoreChunks } from '../../report/format.js';
import { Store } from '../../store/store.js';
import { dbPath, enumArg, intArg, numArg, str, type Args } from '../args.js';
import { judgeArgs, setupJudge } from '../judge-options.js';
import { choosePanel } from '../panels/options.js';
import { runPanelScore } from '../panels/score.js';
import { retryFailedOf, runArgs, RunTerminal } from '../judge-run.js';
import type { CommandIO } from '../main.js';

export const usage = 'score <image-or-folder>... --judge provider:model|panel:NAME [options]';

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
        'sample: K reasoned scores per image (mean, spread); levels: one call, the distribution over excellent..bad from log-probabilities; anchors: compare with anchor images of known quality (needs --anchors); auto: levels where the judge returns log-probabilities',
      default: 'auto',
    },
    anchors: { type: 'string', valueHint: 'file.csv', description: 'CSV with `path,score` columns: anchor images of known quality for --method anchors' },
    samples: { type: 'string', valueHint: 'K', description: 'Samples per image for the sample method (1-1000)', default: '5' },
    temperature: { type: 'string', valueHint: 'T', description: 'Sampling temperature for the sample method', default: '1' },
    ...judgeArgs,
    config: { type: 'string', valueHint: 'file', description: 'Configuration file (default: quorum.config.yaml, .yml or .json in the working directory); its panels: are judges here (--judge panel:NAME, docs/panels.md)' },
    ...runArgs,
  },
});

export const examples = `Examples:
  quorum score photos/ --judge openai:gpt-4o-mini --samples 5
  quorum score photos/ --judge anthropic:claude-sonnet-4-6 --format json --out scores.json
  quorum score sr-out/ --judge openai:qwen2.5-vl --base-url http://127.0.0.1:8080/v1 --method levels
  quorum score img.png --judge openai:gpt-4o --prompt quality-report     # distortions + reasoning
  quorum score photos/ --judge llama:./qwen2-vl-2b.gguf --mmproj ./mmproj.gguf
  quorum score photos/ --judge openai:gpt-4o-mini --method anchors --anchors anchors.csv   # Compare2Score
  quorum score photos/ --judge panel:wide      # the panel \`wide\` of quorum.config.yaml (docs/panels.md)

Rerunning the same command makes no new calls; raising --samples only asks for the new ones.
Exit codes: 0 every image scored, 1 some failed (listed on stderr), 2 usage error, 130 interrupted.`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const inputs = (args['_'] as string[] | undefined) ?? [];
  if (inputs.length === 0) throw new UsageError('Give at least one image or folder to score');
  const panel = await choosePanel(args, io.env);
  if (panel) return runPanelScore(args, io, panel, inputs);
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const requested = enumArg(args, 'method', ['auto', 'sample', 'levels', 'anchors'] as const, 'auto');
  const anchorsFile = str(args, 'anchors');
  if (requested === 'anchors' && !anchorsFile) throw new UsageError('--method anchors needs --anchors <file.csv> (columns path,score)');
  if (anchorsFile && requested !== 'anchors') throw new UsageError('--anchors is only used with --method anchors');
  const samples = intArg(args, 'samples', 1) ?? 5;
  const temperature = numArg(args, 'temperature', 0, 2) ?? 1;
  const promptArg = str(args, 'prompt');
  const template = promptArg ? await resolveTemplate(promptArg) : undefined;

  const judge = await setupJudge(args, io.env);
  let store: Store;
  try {
    store = Store.open(dbPath(args, io.env));
  } catch (error) {
    await judge.provider.close?.();
    throw error;
  }
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
      seed: intArg(args, 'seed', 0),
      anchors: anchorsFile ? await loadAnchors(anchorsFile) : undefined,
    });
    const { method, settings, runOptions, levels } = plan;
    if (requested === 'auto' && !template) {
      const how = levels?.how === 'probed' ? ', checked with one probe' : levels?.how === 'remembered' ? ', as probed before' : '';
      io.note(`method: ${method} (${method === 'levels' ? 'the judge returns log-probabilities' : 'no log-probabilities from this judge'}${how})`);
    }
    const runName = str(args, 'run') ?? plan.runName;

    const result = await runScore({
      store,
      provider: judge.provider,
      inputs,
      settings,
      runName,
      runOptions,
      ...terminal.runOptions(judge),
      onEvent: (e) => {
        // A duplicate shares its first copy's calls: they were counted (and unplanned) once.
        if (!terminal.event(e) && e.type === 'image' && !e.result.duplicateOf) terminal.progress.cached(e.result.cachedCalls);
      },
    });
    terminal.done();
    await terminal.output(args, scoreChunks(result.results, format), result.run);

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
    if (!result.fatal && !result.interrupted && !result.budgetExceeded) for (const r of notRun) io.note(`not run: ${r.path}`);
    if (result.renamed) io.note(`the earlier run named ${result.run.name} is kept as ${result.renamed}`);
    const c = result.counts;
    const scored = result.results.filter((r) => r.status === 'ok' || r.status === 'partial').length;
    io.note(
      `run ${result.run.name}${result.resumed ? ' (resumed)' : ''}: ${scored}/${result.planned} images scored` +
        `${notRun.length ? `, ${notRun.length} not run (${result.fatal ? 'the run stopped' : result.budgetExceeded ? '--max-cost' : 'interrupted'})` : ''}, ` +
        `${c.requests} requests${c.rejected ? `, ${c.rejected} rejected` : ''}, ${c.cached} cached samples${c.costUsd > 0 ? `, $${c.costUsd.toFixed(4)}` : ''}; db ${store.file}`,
    );
    const stored = store.storedFailures(result.run.id);
    if (stored.answer > 0 && retryFailedOf(args) !== 'all') {
      io.note(`${stored.answer} stored answer(s) did not parse; --retry-failed asks them again`);
    }
    if (result.interrupted) return 130;
    return failed.length > 0 || result.inputErrors.length > 0 || result.budgetExceeded || result.fatal ? 1 : 0;
  } finally {
    store.close();
    await judge.provider.close?.();
  }
}
