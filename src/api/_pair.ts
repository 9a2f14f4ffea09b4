import { resolveTemplate } from '../prompts/load.js';
import type { PromptTemplate } from '../prompts/template.js';
import { MAX_SAMPLES, integerOption, numberOption } from './_validate.js';
import type { PairOptions } from './options.js';

/** The numbers of pairwise options, checked before any judge is opened; `planPairs` takes them as they are. */
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
