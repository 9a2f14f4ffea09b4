import type { Provider } from '../core/provider.js';
import { pairMethod, type PairSettings } from '../judges/compare.js';
import { canReadLevels } from '../judges/levels.js';
import { compareLevels, compareSample } from '../prompts/builtin.js';
import { resolveTemplate } from '../prompts/load.js';
import type { PromptTemplate } from '../prompts/template.js';
import { MAX_SAMPLES, integerOption, numberOption } from './_validate.js';
import type { OpenedJudge } from './judge.js';
import type { PairOptions } from './options.js';

/** The numbers of pairwise options, checked before any judge is opened. */
export interface PairNumbers {
  samples: number;
  temperature: number;
  seed: number | undefined;
  bootstrapSeed: number;
  /** A template named by id or file, read now. */
  template: PromptTemplate | undefined;
}

export async function readPairOptions(options: PairOptions): Promise<PairNumbers> {
  return {
    samples: integerOption('samples', options.samples, 1, MAX_SAMPLES) ?? 3,
    temperature: numberOption('temperature', options.temperature, 0, 2) ?? 1,
    seed: integerOption('seed', options.seed, 0),
    bootstrapSeed: integerOption('bootstrapSeed', options.bootstrapSeed, 0) ?? 0,
    template: typeof options.prompt === 'string' ? await resolveTemplate(options.prompt) : options.prompt,
  };
}

/**
 * Template and settings of pairwise judging (`compare`, `rank`), and the run options every
 * pairwise run stores: compare-levels where the judge returns log-probabilities, else
 * compare-sample with `samples` verdicts per order.
 */
export function pairSettings(
  numbers: PairNumbers,
  judge: Pick<OpenedJudge, 'provider' | 'stored'>,
): { settings: PairSettings; stored: Record<string, unknown> } {
  const provider: Provider = judge.provider;
  const { samples, temperature, seed } = numbers;
  const template = numbers.template ?? (canReadLevels(provider) ? compareLevels : compareSample);
  pairMethod(template, provider);
  return {
    settings: { template, samples, temperature, ...(seed !== undefined ? { seed } : {}) },
    stored: {
      ...judge.stored,
      prompt: { id: template.id, version: template.version, hash: template.hash },
      samples: template.kind === 'levels' ? 1 : samples,
      temperature,
    },
  };
}
