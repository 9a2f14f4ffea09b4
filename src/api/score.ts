import { UsageError } from '../core/errors.js';
import { loadAnchors, type Anchor } from '../judges/anchors.js';
import { planScore } from '../judges/plans.js';
import { runScore, type ScoreRunEvent, type ScoreRunResult } from '../judges/score-run.js';
import type { ScoreMethod } from '../judges/score.js';
import { resolveTemplate } from '../prompts/load.js';
import type { PromptTemplate } from '../prompts/template.js';
import { MAX_SAMPLES, integerOption, numberOption } from './_validate.js';
import { withJudgeRun } from './judge.js';
import type { JudgeOptions } from './options.js';

export interface ScoreOptions extends JudgeOptions {
  /**
   * `sample`: K reasoned scores per image, mean and spread; `levels`: one call, the
   * distribution over excellent..bad from log-probabilities; `anchors`: comparisons with
   * anchor images of known quality (needs `anchors`); `auto`: `levels` where the judge
   * returns log-probabilities, else `sample`.
   * @default 'auto'
   */
  method?: 'auto' | 'sample' | 'levels' | 'anchors' | undefined;
  /** Template id (`quality-score`, `quality-levels`, `quality-report`, ...), template file, or template object. @default by method */
  prompt?: string | PromptTemplate | undefined;
  /** Samples per image for the sample method, 1-1000. @default 5 */
  samples?: number | undefined;
  /** Sampling temperature for the sample method, 0-2. @default 1 */
  temperature?: number | undefined;
  /** For `method: 'anchors'`: a CSV file with `path,score` columns, or the anchors themselves. */
  anchors?: string | readonly Anchor[] | undefined;
  /** Progress: the plan, calls as they finish, each image's result. */
  onEvent?: ((event: ScoreRunEvent) => void) | undefined;
}

export interface ScoreResult extends ScoreRunResult {
  /** The method used (what `auto` chose). */
  method: ScoreMethod;
}

/**
 * Scores images with a vision-language judge, as `quorum score` does: every call is stored
 * in `db`, so a rerun makes no calls and an interrupted run resumes. Bad files are listed in
 * `inputErrors` and the run goes on. Throws a `UsageError` for bad options and provider
 * errors that stop the run; a judge answer that does not parse is a failed sample, not a throw.
 *
 * @param paths images and folders (walked recursively, non-images skipped)
 * @example
 * const { results } = await score(['photos/'], { judge: 'openai:gpt-4o-mini', samples: 5 });
 * for (const r of results) console.log(r.path, r.score, r.std, r.status);
 * // => photos/a.jpg 3.8 0.27 ok
 */
export async function score(paths: string | readonly string[], options: ScoreOptions): Promise<ScoreResult> {
  const inputs = typeof paths === 'string' ? [paths] : [...paths];
  if (inputs.length === 0) throw new UsageError('Give at least one image or folder to score');
  const requested = options.method ?? 'auto';
  if (!['auto', 'sample', 'levels', 'anchors'].includes(requested)) {
    throw new UsageError(`Expected \`method\` to be one of auto, sample, levels, anchors, got \`${String(requested)}\``);
  }
  if (requested === 'anchors' && !options.anchors) throw new UsageError('method anchors needs `anchors` (a CSV file with path,score columns, or a list)');
  if (options.anchors && requested !== 'anchors') throw new UsageError("`anchors` is only used with method 'anchors'");
  const samples = integerOption('samples', options.samples, 1, MAX_SAMPLES) ?? 5;
  const temperature = numberOption('temperature', options.temperature, 0, 2) ?? 1;
  const seed = integerOption('seed', options.seed, 0);
  const template = typeof options.prompt === 'string' ? await resolveTemplate(options.prompt) : options.prompt;
  const anchors =
    typeof options.anchors === 'string' ? await loadAnchors(options.anchors) : options.anchors ? [...options.anchors] : undefined;

  return withJudgeRun(options, async (judge, store, run) => {
    const { method, settings, runOptions, runName } = await planScore({
      store,
      judge,
      inputs,
      requested,
      template,
      samples,
      temperature,
      seed,
      anchors,
    });
    const result = await runScore({
      store,
      provider: judge.provider,
      inputs,
      settings,
      runName: options.runName ?? runName,
      runOptions,
      argv: ['score', ...inputs],
      ...run,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    return { ...result, method };
  });
}
