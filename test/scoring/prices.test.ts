import { describe, expect, it } from 'vitest';
import { costOf, defaultPrices, priceFor } from '../../src/judges/prices.js';

describe('priceFor', () => {
  it('takes the longest matching built-in prefix for hosted models', () => {
    expect(priceFor(defaultPrices, 'openai', 'gpt-4o-mini-2024-07-18', false)).toEqual({ input: 0.15, output: 0.6 });
    expect(priceFor(defaultPrices, 'openai', 'gpt-4o-2024-08-06', false)).toEqual({ input: 2.5, output: 10 });
    expect(priceFor(defaultPrices, 'openai', 'some-unknown-model', false)).toBeUndefined();
  });

  it('makes local judges free unless the user priced them', () => {
    expect(priceFor(defaultPrices, 'openai', 'qwen2.5-vl', true)).toEqual({ input: 0, output: 0 });
    // A paid OpenAI-compatible endpoint with a user price: the user's price wins, so --max-cost works.
    const user = { 'openai:qwen2.5-vl': { input: 1, output: 2 } };
    expect(priceFor(defaultPrices, 'openai', 'qwen2.5-vl', true, user)).toEqual({ input: 1, output: 2 });
    expect(priceFor(defaultPrices, 'openai', 'gpt-4o', false, { 'openai:gpt-4o': { input: 9, output: 9 } })).toEqual({ input: 9, output: 9 });
  });

  it('prices the current Anthropic models, and newer Opus ids not at the retired Opus 4 price', () => {
    expect(priceFor(defaultPrices, 'anthropic', 'claude-sonnet-4-6', false)).toEqual({ input: 3, output: 15 });
    expect(priceFor(defaultPrices, 'anthropic', 'claude-opus-4-7', false)).toEqual({ input: 5, output: 25 });
    // An unconfirmed price is unknown, not guessed: --max-cost then asks for --prices.
    expect(priceFor(defaultPrices, 'anthropic', 'claude-sonnet-5', false)).toBeUndefined();
    expect(priceFor(defaultPrices, 'anthropic', 'claude-haiku-4-5', false)).toEqual({ input: 1, output: 5 });
    // Retired ids keep their price: runs stored with them are still costed.
    expect(priceFor(defaultPrices, 'anthropic', 'claude-sonnet-4-5-20250929', false)).toEqual({ input: 3, output: 15 });
    expect(priceFor(defaultPrices, 'anthropic', 'claude-opus-4-1-20250805', false)).toEqual({ input: 15, output: 75 });
  });

  it('costs tokens per million', () => {
    expect(costOf({ input: 2.5, output: 10 }, 1000, 100)).toBeCloseTo(0.0035, 12);
    expect(costOf(undefined, 1000, 100)).toBeNull();
  });
});
