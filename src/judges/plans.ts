import { hashObject } from '../core/hash.js';
import type { Provider } from '../core/provider.js';
import { compareLevels, compareSample, qualityLevels, qualityReport, qualityScore } from '../prompts/builtin.js';
import type { PromptTemplate } from '../prompts/template.js';
import type { Store } from '../store/store.js';
import type { Anchor } from './anchors.js';
import { pairMethod, type PairSettings } from './compare.js';
import { canReadLevels } from './levels.js';
import { knownLevelsSupport, levelsSupport, type LevelsSupport } from './session/probe.js';
import { judgeIdOf } from './run.js';
import type { RetryPolicy } from './session/retry.js';
import { resolveMethod, type ScoreMethod, type ScoreSettings } from './score.js';

/**
 * From options to a run: the settings, what the run stores (its configuration: a run
 * name resumes only the same one) and its default name. Written once for the CLI and the
 * library, so a run started with one resumes with the other.
 */

/** The judge as a plan needs it: the provider, its retry policy, and what identifies it in a run. */
export interface PlanJudge {
  provider: Provider;
  retry: RetryPolicy;
  /** Judge spec, base URL, engine options, image side: stored with the run. */
  stored: Record<string, unknown>;
}

export interface ScorePlanInput {
  store: Store;
  judge: PlanJudge;
  inputs: readonly string[];
  requested: 'auto' | 'sample' | 'levels' | 'anchors';
  template?: PromptTemplate | undefined;
  samples: number;
  temperature: number;
  seed?: number | undefined;
  anchors?: Anchor[] | undefined;
  /** Most output tokens per answer. @default the method's (1024 sample/report, 16 levels) */
  maxTokens?: number | undefined;
  /** Whether the one log-probability probe may be sent when unknown; `false` for `--dry-run`. @default true */
  probe?: boolean | undefined;
}

export interface ScorePlan {
  method: ScoreMethod;
  settings: ScoreSettings;
  runOptions: Record<string, unknown>;
  runName: string;
  /** How the level question was settled, when it was asked. */
  levels: LevelsSupport | undefined;
}

/**
 * Plans a scoring run. The level methods need log-probabilities that the judge proved it
 * returns (see `levelsSupport`: one probe, remembered per judge), so `auto` picks
 * `levels` only then, and `levels` on a judge without them is refused before any image.
 */
export async function planScore(input: ScorePlanInput): Promise<ScorePlan> {
  const { judge, template, requested, samples, temperature, seed, anchors } = input;
  const { provider } = judge;
  const wantsLevels = template ? template.kind === 'levels' : requested !== 'sample';
  const levels = wantsLevels ? await levelsOf(input.store, judge, input.probe) : undefined;
  const readsLevels = levels?.readsLevels ?? canReadLevels(provider);
  const method = resolveMethod(requested, provider, template, readsLevels);
  const chosen = template ?? defaultScoreTemplate(method, readsLevels);
  if (method === 'anchors') pairMethod(chosen, provider);
  const withSeed = seed !== undefined ? { seed } : {};
  const withMaxTokens = input.maxTokens !== undefined ? { maxTokens: input.maxTokens } : {};
  const settings: ScoreSettings = {
    template: chosen,
    method,
    samples,
    temperature,
    ...withSeed,
    ...withMaxTokens,
    ...(anchors ? { anchors: { list: anchors, pair: { template: chosen, samples, temperature, ...withSeed, ...withMaxTokens } } } : {}),
  };
  const runOptions = {
    inputs: [...input.inputs],
    ...judge.stored,
    prompt: { id: chosen.id, version: chosen.version, hash: chosen.hash },
    method,
    samples: method === 'levels' ? 1 : samples,
    temperature,
    ...withMaxTokens,
    ...(anchors ? { anchors } : {}),
  };
  return { method, settings, runOptions, runName: `score-${hashObject(runOptions).slice(0, 10)}`, levels };
}

/**
 * The built-in template a scoring method uses when none is given: `quality-levels`,
 * `quality-report`, `quality-score`, and for anchors `compare-levels` where the judge
 * reads level probabilities, else `compare-sample`.
 */
function defaultScoreTemplate(method: ScoreMethod, readsLevels: boolean): PromptTemplate {
  switch (method) {
    case 'anchors':
      return readsLevels ? compareLevels : compareSample;
    case 'levels':
      return qualityLevels;
    case 'report':
      return qualityReport;
    case 'sample':
      return qualityScore;
  }
}

export interface PairPlanInput {
  store: Store;
  judge: PlanJudge;
  /** A template named by the user; without one, compare-levels where the judge proved it reads levels. */
  template?: PromptTemplate | undefined;
  samples: number;
  temperature: number;
  seed?: number | undefined;
  /** Most output tokens per verdict. @default 1024 compare-sample, 24 compare-levels */
  maxTokens?: number | undefined;
  /** Whether the one log-probability probe may be sent when unknown; `false` for `--dry-run`. @default true */
  probe?: boolean | undefined;
}

/**
 * Whether the judge reads level probabilities: known, else probed once (see
 * `levelsSupport`), or with `probe: false` assumed from what the provider claims.
 */
async function levelsOf(store: Store, judge: PlanJudge, probe = true): Promise<LevelsSupport> {
  const { provider } = judge;
  const judgeId = judgeIdOf(provider);
  if (!probe) return knownLevelsSupport(store, provider, judgeId) ?? { readsLevels: canReadLevels(provider), how: 'unprobed' };
  return levelsSupport({ store, provider, judgeId, retry: judge.retry });
}

/** Template and settings of pairwise judging (`compare`, `rank`), and the configuration every pairwise run stores. */
export async function planPairs(input: PairPlanInput): Promise<{ settings: PairSettings; stored: Record<string, unknown>; levels: LevelsSupport | undefined }> {
  const { judge, samples, temperature, seed } = input;
  const { provider } = judge;
  let template = input.template;
  let levels: LevelsSupport | undefined;
  if (!template) {
    levels = await levelsOf(input.store, judge, input.probe);
    template = levels.readsLevels ? compareLevels : compareSample;
  }
  pairMethod(template, provider);
  const withMaxTokens = input.maxTokens !== undefined ? { maxTokens: input.maxTokens } : {};
  return {
    settings: { template, samples, temperature, ...(seed !== undefined ? { seed } : {}), ...withMaxTokens },
    stored: {
      ...judge.stored,
      prompt: { id: template.id, version: template.version, hash: template.hash },
      samples: template.kind === 'levels' ? 1 : samples,
      temperature,
      ...withMaxTokens,
    },
    levels,
  };
}

/** What a compare run stores, and its default name. */
export function compareRunOptions(stored: Record<string, unknown>, dirs: readonly string[], order: string, reference: string | undefined) {
  const runOptions = { ...stored, dirs: [...dirs], order, ...(reference ? { reference } : {}) };
  return { runOptions, runName: `compare-${hashObject(runOptions).slice(0, 10)}` };
}

/** What a rank run stores, and its default name. */
export function rankRunOptions(
  stored: Record<string, unknown>,
  target: { systems: readonly string[] } | { items: string },
  strategy: string,
  budget: number | undefined,
  seed: number,
) {
  const runOptions = {
    ...stored,
    ...('items' in target ? { items: target.items } : { systems: [...target.systems] }),
    strategy,
    ...(budget !== undefined ? { budget } : {}),
    seed,
  };
  return { runOptions, runName: `rank-${hashObject({ ...runOptions, budget: undefined }).slice(0, 10)}` };
}
