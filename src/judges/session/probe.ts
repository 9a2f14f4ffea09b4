import { ProviderError } from '../../core/errors.js';
import type { Provider } from '../../core/provider.js';
import type { Store } from '../../store/store.js';
import { defaultRetryPolicy, withRetry, type RetryPolicy } from './retry.js';

/** The judge fact that says whether a judge returns log-probabilities. */
export const LOGPROBS_FACT = 'logprobs';

export interface LevelsSupport {
  /** Whether the level methods can run: exact candidate probabilities, or proven log-probabilities. */
  readsLevels: boolean;
  /**
   * How that was known, for the note a user sees. `unprobed`: a dry run that may not ask,
   * assuming what the provider claims (the real run probes first).
   */
  how: 'engine' | 'no-logprobs' | 'remembered' | 'probed' | 'unprobed';
}

/** What is known without asking: the engine says, or an earlier probe was remembered; `undefined` when only a probe can tell. */
export function knownLevelsSupport(store: Store, provider: Provider, judgeId: string): LevelsSupport | undefined {
  if (provider.capabilities.candidateProbabilities) return { readsLevels: true, how: 'engine' };
  if (!provider.capabilities.logprobs) return { readsLevels: false, how: 'no-logprobs' };
  const known = store.judgeFact<boolean>(judgeId, LOGPROBS_FACT);
  return known === undefined ? undefined : { readsLevels: known, how: 'remembered' };
}

/**
 * Whether this judge can feed the level methods. Local engines read exact candidate
 * probabilities; a provider that cannot return log-probabilities cannot. For the rest,
 * an OpenAI-compatible server only claims to: many ignore `logprobs`, and every image of
 * a levels run would then fail. So the first time a judge is used, one tiny text-only
 * request (one output token) asks for log-probabilities, and the answer is remembered
 * in the store for that judge.
 */
export async function levelsSupport(input: {
  store: Store;
  provider: Provider;
  judgeId: string;
  retry?: RetryPolicy | undefined;
}): Promise<LevelsSupport> {
  const { store, provider, judgeId } = input;
  const known = knownLevelsSupport(store, provider, judgeId);
  if (known) return known;
  let readsLevels: boolean;
  let evidence: Record<string, unknown>;
  try {
    const { value } = await withRetry(
      () =>
        provider.complete({
          messages: [{ role: 'user', content: 'Answer with one word: is the sky usually blue? yes or no' }],
          temperature: 0,
          maxTokens: 1,
          logprobs: { top: 5 },
        }),
      // A dead server should not cost the full backoff before the run has even started.
      { ...(input.retry ?? defaultRetryPolicy), maxRetries: Math.min(2, (input.retry ?? defaultRetryPolicy).maxRetries) },
    );
    const choice = value.choices[0];
    readsLevels = Boolean(choice?.logprobs?.some((t) => t.top.length > 0));
    evidence = { model: value.model, inputTokens: value.usage.inputTokens, outputTokens: value.usage.outputTokens, answer: choice?.text };
  } catch (error) {
    // A server that rejects the `logprobs` field outright (HTTP 400) has answered the question.
    if (error instanceof ProviderError && error.status === 400 && !error.fatal) {
      readsLevels = false;
      evidence = { error: error.message };
    } else throw error;
  }
  store.putJudgeFact(judgeId, LOGPROBS_FACT, readsLevels, evidence);
  return { readsLevels, how: 'probed' };
}
