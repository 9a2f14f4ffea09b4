import { describe, expect, it } from 'vitest';
import { batchPriceOf, liveAndBatchCost } from '../../src/judges/prices.js';

describe('batch prices', () => {
  it('are half the list price for OpenAI and Anthropic, input and output alike', () => {
    expect(liveAndBatchCost('openai', { input: 2.5, output: 10 }, 1_000_000, 100_000)).toEqual({ live: 3.5, batch: 1.75 });
    expect(batchPriceOf('anthropic', { input: 3, output: 15 })).toEqual({ input: 1.5, output: 7.5 });
  });
  it('give no discount to a provider without a batch API, and no figure without a price', () => {
    expect(batchPriceOf('llama', { input: 1, output: 1 })).toEqual({ input: 1, output: 1 });
    expect(liveAndBatchCost('openai', undefined, 10, 10)).toEqual({ live: null, batch: null });
  });
});
