import type { ArgsDef } from 'citty';
import { QuorumError, UsageError } from '../core/errors.js';
import { dbArg, expandHome, intArg, numArg, pathArg, str, strs, urlArg, type Args } from './args.js';
import { parseEndpoint } from '../judges/pool/endpoints.js';
import { checkOutputs } from './outputs.js';
import { catalogueJudge } from './local-models.js';
import type { CommandIO } from './main.js';
import { openJudge, type OpenedJudge } from '../api/judge.js';
import { defaultPrices, loadPriceTable, priceFor } from '../judges/prices.js';
import { parseJudgeSpec, providerRegistry } from '../judges/providers/registry.js';
import { defaultRetryPolicy } from '../judges/session/retry.js';
import { resolveTemplate } from '../prompts/load.js';
import type { PromptTemplate } from '../prompts/template.js';

/** Options every judging command shares. */
export const judgeArgs = {
  judge: {
    type: 'string',
    description:
      'Judge as provider:model, e.g. openai:gpt-4o, anthropic:claude-sonnet-4-6, openai:qwen2.5-vl (with --base-url), llama:./model.gguf, llama:qwen2.5-vl-3b (a catalogue name, pulled on first use); default: the local judge qwen2.5-vl-7b',
    valueHint: 'provider:model',
  },
  yes: { type: 'boolean', description: 'Download a missing local judge without asking (needed when not on a terminal)' },
  'base-url': {
    type: 'string',
    valueHint: 'url',
    description:
      'OpenAI-compatible server (llama-server, vLLM, Ollama): an http(s) URL, e.g. http://127.0.0.1:8080/v1. Give it several times for an endpoint pool of replicas, each optionally URL#weight=W,concurrency=C (docs/scaling.md)',
  },
  mmproj: { type: 'string', valueHint: 'file.gguf', description: 'Vision projector GGUF for llama: judges' },
  'gpu-layers': { type: 'string', valueHint: 'N|auto', description: 'llama: layers to offload to the GPU (number or "auto")' },
  'context-size': { type: 'string', valueHint: 'tokens', description: 'llama: context size in tokens' },
  threads: { type: 'string', valueHint: 'N', description: 'llama: CPU threads (default: one per physical core)' },
  'batch-size': { type: 'string', valueHint: 'tokens', description: 'llama: prompt batch size in tokens' },
  seed: { type: 'string', valueHint: 'N', description: 'Sampling seed sent to the judge (part of the cache key)' },
  'max-side': { type: 'string', valueHint: 'px', description: 'Longest image side sent to the judge, 16-16384 pixels (default per provider: 1536 OpenAI, 1568 Anthropic)' },
  timeout: { type: 'string', valueHint: 'seconds', description: 'Seconds before one request is abandoned and retried (at most 86400)', default: '120' },
  retries: { type: 'string', valueHint: 'N', description: 'Retries per request on 408/409/429/5xx, timeouts and dropped connections (0-100)', default: '4' },
  concurrency: {
    type: 'string',
    valueHint: 'N',
    description: 'Requests in flight at once, 1-1024 (default 4; for a pool whose endpoints all set concurrency, their sum)',
  },
  rpm: { type: 'string', valueHint: 'N', description: 'Requests started per minute (default: unlimited); progress says when the run waits for it' },
  'max-cost': { type: 'string', valueHint: 'USD', description: 'Stop issuing calls before the estimated cost would pass this many USD' },
  prices: { type: 'string', valueHint: 'file.json', description: 'JSON price table extending the built-in one (env QUORUM_PRICES)' },
  ...dbArg,
  run: { type: 'string', valueHint: 'name', description: 'Run name; the same name resumes that run (default: derived from the command)' },
  format: { type: 'string', valueHint: 'table|json|jsonl|csv', description: 'Output format: table, json, jsonl or csv', default: 'table' },
  out: { type: 'string', valueHint: 'file', description: 'Write the output to this file instead of stdout (checked writable before any call)' },
  quiet: { type: 'boolean', description: 'No progress on stderr' },
} as const satisfies ArgsDef;

/** The judge a command runs with: the library's opened judge (see `openJudge`). */
export type JudgeSetup = OpenedJudge;

/**
 * Builds the judge from flags and the environment (the only place keys are read), through
 * the library's `openJudge`. Every option is checked, and `--db` / `--out` are checked
 * writable, before a model is loaded or a judge called: a typo costs nothing.
 */
export async function setupJudge(args: Args, io: CommandIO): Promise<JudgeSetup> {
  const env = io.env;
  // No --judge (and, once config files name judges, no config judge either): the
  // catalogue's default local judge; `llama:<name>` is a catalogue model. Either may be
  // pulled first, after asking.
  let given = str(args, 'judge');
  const pulled = await catalogueJudge(given, { yes: args['yes'] === true, quiet: args['quiet'] === true }, io);
  if (pulled === null) throw new QuorumError('No judge: the local judge was not downloaded');
  if (pulled) given = `llama:${pulled.model}`;
  if (!given) throw new UsageError('Missing option --judge (e.g. --judge openai:gpt-4o)');
  const parsed = parseJudgeSpec(given);
  const providerId = parsed.provider;
  // A model given as a path (llama:~/models/x.gguf) keeps no `~` a shell did not expand.
  const model = expandHome(parsed.model, env);
  const spec = `${providerId}:${model}`;
  const urls = strs(args, 'base-url');
  // Several --base-url (or one with #settings) make an endpoint pool.
  const endpoints = urls.length > 1 || urls.some((u) => u.includes('#')) ? urls.map((u) => parseEndpoint(u)) : undefined;
  for (const e of endpoints ?? []) urlArg({ 'base-url': e.url }, 'base-url');
  const baseURL = endpoints ? endpoints[0]?.url : urlArg(args, 'base-url');
  const timeout = numArg(args, 'timeout', 0.001) ?? 120;
  const maxImageSide = intArg(args, 'max-side', 16);
  const retries = intArg(args, 'retries', 0) ?? defaultRetryPolicy.maxRetries;
  const concurrency = intArg(args, 'concurrency', 1);
  const rpm = intArg(args, 'rpm', 1);
  const maxCost = numArg(args, 'max-cost', 0);
  const engine: Record<string, string | number> = {};
  const mmproj = pathArg(args, 'mmproj', env) ?? pulled?.mmproj;
  if (mmproj !== undefined) engine['mmproj'] = mmproj;
  if (str(args, 'gpu-layers') === 'auto') engine['gpuLayers'] = 'auto';
  else {
    const gpuLayers = intArg(args, 'gpu-layers', 0);
    if (gpuLayers !== undefined) engine['gpuLayers'] = gpuLayers;
  }
  for (const [flag, key, min] of [
    ['context-size', 'contextSize', 64],
    ['threads', 'threads', 1],
    ['batch-size', 'batchSize', 1],
  ] as const) {
    const v = intArg(args, flag, min);
    if (v !== undefined) engine[key] = v;
  }
  const seed = intArg(args, 'seed', 0);
  await checkOutputs(args, env);
  const pricesFile = pathArg(args, 'prices', env) ?? (env['QUORUM_PRICES'] ? expandHome(env['QUORUM_PRICES'], env) : undefined);
  const prices = pricesFile ? await loadPriceTable(pricesFile) : {};
  // Priced before any model is loaded, with the flags' names in the message.
  const local = providerRegistry[providerId]?.local?.({ model, ...(baseURL ? { baseURL } : {}) }) ?? false;
  if (maxCost !== undefined && !priceFor(defaultPrices, providerId, model, local, prices)) {
    throw new UsageError(
      `--max-cost needs a price for ${spec}; add it with --prices FILE ({"${providerId}:${model}": {"input": USD per 1M tokens, "output": ...}})`,
    );
  }
  return openJudge(
    {
      judge: spec,
      ...(endpoints ? { endpoints } : { baseURL }),
      timeout,
      maxImageSide,
      engine,
      seed,
      prices,
      concurrency,
      rpm,
      maxCost,
      retries,
    },
    env,
    { mmproj: 'add --mmproj <projector.gguf>' },
  );
}

/** Options of the pairwise commands (`compare`, `rank`), read by `pairSettingsFrom`. */
export const pairArgs = {
  prompt: {
    type: 'string',
    valueHint: 'id|file',
    description: 'Pair template: compare-levels (log-probabilities, one call) or compare-sample (K reasoned verdicts); default by judge',
  },
  samples: { type: 'string', valueHint: 'K', description: 'Verdicts per order with compare-sample (1-1000)', default: '3' },
  temperature: { type: 'string', valueHint: 'T', description: 'Sampling temperature with compare-sample', default: '1' },
  'bootstrap-seed': { type: 'string', valueHint: 'N', description: 'Seed of random orders, pair choice and bootstrap intervals', default: '0' },
} as const satisfies ArgsDef;

/**
 * The pairwise options (`compare`, `rank`) read and checked from flags, before any judge
 * is opened or asked anything; `planPairs` turns them into settings for the judge.
 */
export async function pairOptionsFrom(args: Args): Promise<{ template: PromptTemplate | undefined; samples: number; temperature: number; seed: number | undefined }> {
  const promptArg = str(args, 'prompt');
  return {
    samples: intArg(args, 'samples', 1) ?? 3,
    temperature: numArg(args, 'temperature', 0, 2) ?? 1,
    seed: intArg(args, 'seed', 0),
    template: promptArg ? await resolveTemplate(promptArg) : undefined,
  };
}
