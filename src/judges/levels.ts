import type { Choice, CompletionRequest, Message, Provider } from '../core/provider.js';
import { err, ok, type Result } from '../core/result.js';
import { levelMoments } from '../aggregate/level-moments.js';
import { levelsFromCandidates, levelsFromLogprobs, levelVariants } from '../prompts/answers.js';
import { levelWeights, type PromptTemplate } from '../prompts/template.js';

/**
 * The level method's request and read-out, shared by single-image scoring (quality levels)
 * and pairwise judging (comparative levels): one call, no free generation, the next word
 * after the template's forced prefix read as a distribution over its levels.
 */

/** A level answer: the distribution (best first), the mass it covered, and its moments over the weights. */
export interface LevelReading {
  probabilities: number[];
  coverage: number;
  /** sum p_i w_i: the expected level (single images) or P(B better than A) (pairs). */
  mean: number;
  std: number;
}

/** Whether a provider can read level probabilities (log-probabilities or exact candidates). */
export function canReadLevels(provider: Provider): boolean {
  return provider.capabilities.logprobs || provider.capabilities.candidateProbabilities;
}

/** Local engines give exact candidate probabilities; the others give top-20 log-probabilities. */
const exact = (provider: Provider): boolean => provider.capabilities.candidateProbabilities;

/** Parameters stored with (and keying) a level call. */
export function levelParams(provider: Provider, method: string, maxTokens: number): Record<string, unknown> {
  return { method, top: exact(provider) ? 'exact' : 20, maxTokens };
}

export function levelRequest(provider: Provider, template: PromptTemplate, messages: Message[], maxTokens: number): CompletionRequest {
  return {
    messages,
    prefill: template.prefix ?? '',
    temperature: 0,
    maxTokens,
    ...(exact(provider) ? { candidates: levelVariants(template.levels ?? []) } : { logprobs: { top: 20 } }),
  };
}

export function levelReader(provider: Provider, template: PromptTemplate): (choice: Choice) => Result<LevelReading, string> {
  const levels = template.levels ?? [];
  const weights = levelWeights(template);
  const useCandidates = exact(provider);
  const prefilled = provider.capabilities.prefill;
  return (choice) => {
    const dist =
      useCandidates && choice.candidateProbabilities
        ? levelsFromCandidates(choice.candidateProbabilities, levels)
        : choice.logprobs
          ? levelsFromLogprobs(choice.logprobs, template, prefilled)
          : err('the answer carried no log-probabilities');
    if (!dist.ok) return dist;
    const m = levelMoments(dist.value.probabilities, weights);
    return ok({ probabilities: dist.value.probabilities, coverage: dist.value.coverage, mean: m.mean, std: m.std });
  };
}
