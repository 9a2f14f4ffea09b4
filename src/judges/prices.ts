import { readFile } from 'node:fs/promises';
import type * as z from 'zod';
import { ConfigError } from '../core/errors.js';
import { lazySchema, loadZod } from '../core/zod.js';

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
}

export const PriceTable = lazySchema((z) => z.record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) })));
export type PriceTable = z.infer<ReturnType<typeof PriceTable>>;

/**
 * List prices (USD per million tokens) for common vision judges, keyed
 * `provider:model-prefix`; the longest matching prefix wins, so dated snapshots
 * (`gpt-4o-2024-08-06`) match their family. Extend or override with a JSON file of the
 * same shape (`--prices FILE` or `QUORUM_PRICES`). Local servers and models cost 0.
 */
export const defaultPrices: PriceTable = {
  'openai:gpt-4o': { input: 2.5, output: 10 },
  'openai:gpt-4o-mini': { input: 0.15, output: 0.6 },
  'openai:gpt-4.1': { input: 2, output: 8 },
  'openai:gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'openai:gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'openai:gpt-5': { input: 1.25, output: 10 },
  'openai:gpt-5-mini': { input: 0.25, output: 2 },
  'openai:gpt-5-nano': { input: 0.05, output: 0.4 },
  // Anthropic list prices (per million tokens). Retired ids (claude-opus-4,
  // claude-sonnet-4, claude-sonnet-4-5, claude-3-*) stay: stored runs still name them.
  // Models whose price could not be confirmed are left out: give them with --prices.
  'anthropic:claude-opus-4': { input: 15, output: 75 },
  'anthropic:claude-opus-4-5': { input: 5, output: 25 },
  'anthropic:claude-opus-4-6': { input: 5, output: 25 },
  'anthropic:claude-opus-4-7': { input: 5, output: 25 },
  'anthropic:claude-sonnet-4': { input: 3, output: 15 },
  'anthropic:claude-haiku-4': { input: 1, output: 5 },
  'anthropic:claude-3-5-haiku': { input: 0.8, output: 4 },
  'anthropic:claude-3-7-sonnet': { input: 3, output: 15 },
};

/**
 * What a provider's batch API charges, as a fraction of its list price: OpenAI's Batch
 * API and Anthropic's Message Batches both bill 50% of the standard input and output
 * prices (their pricing pages). A provider absent here has no batch discount.
 */
export const batchPriceFactor: Readonly<Record<string, number>> = {
  openai: 0.5,
  anthropic: 0.5,
};

/** The price of a judge's requests sent through its provider's batch API (`--batch`). */
export function batchPriceOf(provider: string, price: Price | undefined): Price | undefined {
  if (!price) return undefined;
  const factor = batchPriceFactor[provider] ?? 1;
  return { input: price.input * factor, output: price.output * factor };
}

/**
 * Live and batch cost of the same tokens, for `--dry-run` to show side by side; `null`
 * where the judge has no price.
 *
 * @example
 * liveAndBatchCost('openai', { input: 2.5, output: 10 }, 1_000_000, 100_000)
 * // => { live: 3.5, batch: 1.75 }
 */
export function liveAndBatchCost(
  provider: string,
  price: Price | undefined,
  inputTokens: number,
  outputTokens: number,
): { live: number | null; batch: number | null } {
  return { live: costOf(price, inputTokens, outputTokens), batch: costOf(batchPriceOf(provider, price), inputTokens, outputTokens) };
}

export async function loadPriceTable(file: string): Promise<PriceTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`Price table ${file}: cannot read it`, { cause });
  }
  await loadZod();
  try {
    return PriceTable().parse(JSON.parse(text));
  } catch (cause) {
    throw new ConfigError(
      `Price table ${file}: expected {"provider:model": {"input": USD per 1M, "output": USD per 1M}}, ${(cause as Error).message.replace(/\s+/g, ' ').slice(0, 200)}`,
      { cause },
    );
  }
}

/**
 * The price for a judge, or `undefined` when unknown (cost is then not estimated and
 * `--max-cost` cannot be enforced). A price the user gave (`userTable`) always wins;
 * otherwise `local` judges (custom base URL, in-process) cost 0 and hosted ones take the
 * built-in list price.
 */
export function priceFor(
  table: PriceTable,
  provider: string,
  model: string,
  local: boolean,
  userTable: PriceTable = {},
): Price | undefined {
  const given = longestMatch(userTable, provider, model);
  if (given) return given;
  if (local) return { input: 0, output: 0 };
  return longestMatch(table, provider, model);
}

function longestMatch(table: PriceTable, provider: string, model: string): Price | undefined {
  let best: { key: string; price: Price } | undefined;
  for (const [key, price] of Object.entries(table)) {
    if (`${provider}:${model}`.startsWith(key) && (!best || key.length > best.key.length)) best = { key, price };
  }
  return best?.price;
}

export function costOf(price: Price | undefined, inputTokens: number, outputTokens: number): number | null {
  if (!price) return null;
  return (inputTokens * price.input + outputTokens * price.output) / 1e6;
}
