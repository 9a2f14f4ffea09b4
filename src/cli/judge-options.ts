import { isAbsolute, resolve } from 'node:path';
import type { ArgsDef } from 'citty';
import { judgeLine, loadConfig, type LoadedConfig, type NamedJudge } from '../config/index.js';
import { ConfigError, QuorumError, UsageError } from '../core/errors.js';
import { nearest } from '../core/nearest.js';
import { builtinTemplates } from '../prompts/builtin.js';
import { dbArg, expandHome, intArg, numArg, pathArg, str, strs, urlArg, type Args } from './args.js';
import { parseEndpoint, type EndpointSpec } from '../judges/pool/endpoints.js';
import { checkOutputs } from './outputs.js';
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
      'Judge as provider:model (openai:gpt-4o, anthropic:claude-sonnet-4-6, openai:qwen2.5-vl with --base-url, llama:./model.gguf, llama:qwen2.5-vl-3b: a catalogue model, pulled on first use) or a name from the judges of quorum.config.yaml (score, compare, rank and hallucination: panel:NAME, a panel of quorum.config.yaml); default: the config file\'s `judge:`, else the local judge qwen2.5-vl-7b',
    valueHint: 'provider:model|name',
  },
  yes: { type: 'boolean', description: 'Download a missing local judge without asking (needed when not on a terminal)' },
  config: { type: 'string', valueHint: 'file', description: 'Configuration file (default: quorum.config.yaml, .yml or .json in the working directory, if there is one); docs/config.md' },
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
  timeout: { type: 'string', valueHint: 'seconds', description: 'Seconds before one request is abandoned and retried (at most 86400; default 120)' },
  retries: { type: 'string', valueHint: 'N', description: 'Retries per request on 408/409/429/5xx, timeouts and dropped connections (0-100; default 4)' },
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

/** The judge a command runs with: the library's opened judge (see `openJudge`), and the config name it was chosen by. */
export type JudgeSetup = OpenedJudge & { named?: NamedJudge | undefined };

/** Which judge a command uses, before anything is opened: its spec, and its config entry when named. */
export interface JudgeChoice {
  /** `provider:model`, `~` expanded in a model path. */
  spec: string;
  named: NamedJudge | undefined;
  config: LoadedConfig | undefined;
  /** The projector of a catalogue model that was found or pulled (`llama:<name>` or the default local judge). */
  mmproj?: string | undefined;
}

/**
 * Reads the configuration file (`--config`, or one in the working directory) and picks
 * the judge: `--judge`, else the file's `judge:`, else the catalogue's default local
 * judge. A name from the file's `judges:` is an alias: the judge is still identified by
 * provider:model and its settings. A local catalogue model (`llama:<name>`, or the
 * default) that is not on disk is pulled first, after asking (`--yes` skips the question).
 */
export async function chooseJudge(args: Args, io: CommandIO, cwd = process.cwd()): Promise<JudgeChoice> {
  const env = io.env;
  const config = await loadConfig({ explicit: pathArg(args, 'config', env), cwd });
  const given = str(args, 'judge') ?? config?.data.judge;
  const entry = given === undefined ? undefined : config?.data.judges?.[given];
  const named = entry && config && given !== undefined ? { name: given, entry, config } : undefined;
  let specText = named ? named.entry.judge : given;
  if (specText?.startsWith('panel:') || (!named && specText !== undefined && config?.data.panels?.[specText] !== undefined)) {
    throw new UsageError(`Panels judge \`quorum score\`, \`compare\`, \`rank\` and \`hallucination\` only; \`${specText}\` cannot judge here (give a judge: provider:model or a name from judges:)`);
  }
  if (specText !== undefined && !named && !specText.includes(':')) {
    const names = Object.keys(config?.data.judges ?? {});
    const guess = nearest(specText, names);
    throw new UsageError(
      config
        ? `Unknown judge \`${specText}\`: not provider:model and not among the judges of ${config.file}${guess ? ` (did you mean \`${guess}\`?)` : names.length ? ` (${names.join(', ')})` : ''}`
        : `Expected \`--judge\` to look like provider:model (e.g. openai:gpt-4o), got \`${specText}\` (a judge name needs a quorum.config.yaml that defines it)`,
    );
  }
  // No judge named anywhere, or `llama:<catalogue name>`: a catalogue model, pulled if missing.
  // (The catalogue's code loads only then.)
  const local = specText === undefined || specText.startsWith('llama:');
  const pulled = local
    ? await (await import('./local-models.js')).catalogueJudge(specText, { yes: args['yes'] === true, quiet: args['quiet'] === true }, io)
    : undefined;
  if (pulled === null) throw new QuorumError('No judge: the local judge was not downloaded');
  if (pulled) return { spec: `llama:${pulled.model}`, named, config, mmproj: pulled.mmproj };
  if (specText === undefined) throw new UsageError('Missing option --judge (e.g. --judge openai:gpt-4o)');
  const parsed = parseJudgeSpec(specText);
  // A model given as a path (llama:~/models/x.gguf) keeps no `~` a shell did not expand;
  // a relative path in the config file is relative to the file.
  const model = named && parsed.provider === 'llama' ? configPath(named.config, parsed.model, env) : expandHome(parsed.model, env);
  return { spec: `${parsed.provider}:${model}`, named, config };
}

/** A path written in the config file: `~` expanded, relative to the file's folder. */
export function configPath(config: LoadedConfig, path: string, env: NodeJS.ProcessEnv): string {
  const expanded = expandHome(path, env);
  return isAbsolute(expanded) ? expanded : resolve(config.dir, expanded);
}

/** A prompt from `--prompt`, else the named judge's (a file named in the config is relative to it). */
export async function promptFrom(args: Args, choice: JudgeChoice, env: NodeJS.ProcessEnv): Promise<PromptTemplate | undefined> {
  const flag = str(args, 'prompt');
  if (flag) return resolveTemplate(flag);
  const named = choice.named?.entry.prompt;
  if (!named || !choice.named) return undefined;
  return resolveTemplate(builtinTemplates.some((t) => t.id === named) ? named : configPath(choice.named.config, named, env));
}

/**
 * Builds the judge from flags, the named judge's config entry and the environment (the
 * only place keys are read), through the library's `openJudge`. A flag overrides the
 * config value. Every option is checked, and `--db` / `--out` are checked writable,
 * before a model is loaded or a judge called: a typo costs nothing.
 */
export async function setupJudge(args: Args, io: CommandIO, choice?: JudgeChoice): Promise<JudgeSetup> {
  const env = io.env;
  const chosen = choice ?? (await chooseJudge(args, io));
  const { spec, named } = chosen;
  const entry = named?.entry;
  const colon = spec.indexOf(':');
  const providerId = spec.slice(0, colon);
  const model = spec.slice(colon + 1);
  const endpoints = endpointsOf(args, entry?.endpoints);
  const baseURL = endpoints ? undefined : (urlArg(args, 'base-url') ?? entry?.baseUrl ?? entry?.endpoints?.[0]?.url);
  const timeout = numArg(args, 'timeout', 0.001) ?? entry?.timeout ?? 120;
  const maxImageSide = intArg(args, 'max-side', 16) ?? entry?.maxSide;
  const retries = intArg(args, 'retries', 0) ?? entry?.retries ?? defaultRetryPolicy.maxRetries;
  const concurrency = intArg(args, 'concurrency', 1) ?? entry?.concurrency;
  const rpm = intArg(args, 'rpm', 1) ?? entry?.rpm;
  const maxCost = numArg(args, 'max-cost', 0);
  const engine: Record<string, string | number> = {};
  const fromConfig = entry?.options ?? {};
  const mmproj = pathArg(args, 'mmproj', env) ?? (fromConfig.mmproj && named ? configPath(named.config, fromConfig.mmproj, env) : chosen.mmproj);
  if (mmproj !== undefined) engine['mmproj'] = mmproj;
  if (str(args, 'gpu-layers') === 'auto') engine['gpuLayers'] = 'auto';
  else {
    const gpuLayers = intArg(args, 'gpu-layers', 0) ?? fromConfig.gpuLayers;
    if (gpuLayers !== undefined) engine['gpuLayers'] = gpuLayers;
  }
  for (const [flag, key, min] of [
    ['context-size', 'contextSize', 64],
    ['threads', 'threads', 1],
    ['batch-size', 'batchSize', 1],
  ] as const) {
    const v = intArg(args, flag, min) ?? fromConfig[key];
    if (v !== undefined) engine[key] = v;
  }
  const seed = seedOf(args, chosen);
  await checkOutputs(args, env);
  const pricesFile = pathArg(args, 'prices', env) ?? (env['QUORUM_PRICES'] ? expandHome(env['QUORUM_PRICES'], env) : undefined);
  // The config's price is for exactly this judge; a --prices file still overrides it.
  const prices = { ...(entry?.price ? { [spec]: entry.price } : {}), ...(pricesFile ? await loadPriceTable(pricesFile) : {}) };
  let apiKey: string | undefined;
  if (named && entry?.apiKeyEnv) {
    apiKey = env[entry.apiKeyEnv];
    if (!apiKey) {
      throw new ConfigError(
        `${named.config.file}:${judgeLine(named, 'apiKeyEnv') ?? '?'}: judges.${named.name}.apiKeyEnv: ${entry.apiKeyEnv} is not set: export it to use the judge ${named.name}`,
      );
    }
  }
  // Priced before any model is loaded, with the flags' names in the message.
  const local = providerRegistry[providerId]?.local?.({ model, ...(baseURL ? { baseURL } : {}) }) ?? false;
  if (maxCost !== undefined && !priceFor(defaultPrices, providerId, model, local, prices)) {
    throw new UsageError(
      `--max-cost needs a price for ${spec}; add it with --prices FILE ({"${providerId}:${model}": {"input": USD per 1M tokens, "output": ...}})${named ? ` or price: in judges.${named.name}` : ''}`,
    );
  }
  const opened = await openJudge(
    {
      judge: spec,
      ...(endpoints ? { endpoints } : { baseURL }),
      apiKey,
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
  return { ...opened, named };
}

/**
 * An endpoint pool: several `--base-url` (or one with `#weight=...`), else the config
 * judge's `endpoints:` when there are several or they carry settings; `undefined` for one server.
 */
function endpointsOf(args: Args, configured: readonly EndpointSpec[] | undefined): EndpointSpec[] | undefined {
  const urls = strs(args, 'base-url');
  if (urls.length > 0) {
    if (urls.length === 1 && !urls.some((u) => u.includes('#'))) return undefined;
    const endpoints = urls.map((u) => parseEndpoint(u));
    for (const e of endpoints) urlArg({ 'base-url': e.url }, 'base-url');
    return endpoints;
  }
  if (!configured || (configured.length === 1 && configured[0]?.weight === undefined && configured[0]?.concurrency === undefined)) return undefined;
  return configured.map((e) => ({ ...e }));
}

/** `--seed`, else the named judge's. */
export function seedOf(args: Args, choice: JudgeChoice | undefined): number | undefined {
  return intArg(args, 'seed', 0) ?? choice?.named?.entry.seed;
}

/** `--max-tokens` has no flag: the named judge's `options.maxTokens`, when set. */
export function maxTokensOf(choice: JudgeChoice | undefined): number | undefined {
  return choice?.named?.entry.options?.maxTokens;
}

/** Options of the pairwise commands (`compare`, `rank`), read by `pairSettingsFrom`. */
export const pairArgs = {
  prompt: {
    type: 'string',
    valueHint: 'id|file',
    description: 'Pair template: compare-levels (log-probabilities, one call) or compare-sample (K reasoned verdicts); default by judge',
  },
  samples: { type: 'string', valueHint: 'K', description: 'Verdicts per order with compare-sample (1-1000; default 3, or the config judge\'s samples)' },
  temperature: { type: 'string', valueHint: 'T', description: 'Sampling temperature with compare-sample (default 1, or the config judge\'s options.temperature)' },
  'bootstrap-seed': { type: 'string', valueHint: 'N', description: 'Seed of random orders, pair choice and bootstrap intervals', default: '0' },
} as const satisfies ArgsDef;

/**
 * The pairwise options (`compare`, `rank`) read and checked from flags, before any judge
 * is opened or asked anything; `planPairs` turns them into settings for the judge.
 */
export async function pairOptionsFrom(
  args: Args,
  choice?: JudgeChoice,
): Promise<{ template: PromptTemplate | undefined; samples: number; temperature: number; seed: number | undefined; maxTokens: number | undefined }> {
  // A named judge's `prompt` and `method` are for scoring; pairs use their own templates.
  const promptArg = str(args, 'prompt');
  const entry = choice?.named?.entry;
  return {
    samples: intArg(args, 'samples', 1) ?? entry?.samples ?? 3,
    temperature: numArg(args, 'temperature', 0, 2) ?? entry?.options?.temperature ?? 1,
    seed: seedOf(args, choice),
    maxTokens: maxTokensOf(choice),
    template: promptArg ? await resolveTemplate(promptArg) : undefined,
  };
}
