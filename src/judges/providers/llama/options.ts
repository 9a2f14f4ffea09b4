import { availableParallelism } from 'node:os';
import { ConfigError } from '../../../core/errors.js';
import type { ProviderConfig } from '../../../core/provider.js';
import { lazySchema } from '../../../core/zod.js';

/**
 * Options of the `llama` provider (`ProviderConfig.options`). The CLI maps its flags
 * (`--mmproj`, `--gpu-layers`, `--context-size`, `--threads`, `--batch-size`, `--seed`)
 * onto these; nothing here reads the environment.
 *
 * @example
 * createLlamaProvider({ model: 'llava-7b.Q4_K_M.gguf', options: { mmproj: 'mmproj-f16.gguf', gpuLayers: 'auto' } });
 */
export interface LlamaOptions {
  /** Vision projector (`mmproj-*.gguf`) that lets the model see images. */
  mmproj?: string | undefined;
  /** Layers to offload to the GPU: a count, or `'auto'` (all that fit; CPU when there is no GPU). @default 'auto' */
  gpuLayers?: number | 'auto' | undefined;
  /** Context window in tokens: prompt (image tokens included) plus answer. @default min(training context, 4096) */
  contextSize?: number | undefined;
  /** CPU threads. @default one per physical core (logical cores / 2, at least 1) */
  threads?: number | undefined;
  /** Tokens evaluated per batch; an image's tokens must fit one batch. @default min(contextSize, 2048) */
  batchSize?: number | undefined;
  /** Sampling seed when a request gives none; sample `i` of a request uses `seed + i`. @default a random seed, recorded with the call */
  seed?: number | undefined;
  /** Per-call timeout in ms: a call running longer stops (and restarts) the engine. @default `timeoutMs` of the config, else 120000 */
  callTimeoutMs?: number | undefined;
  /** Longest wait for the engine to load the model and projector, in ms. @default 300000 */
  loadTimeoutMs?: number | undefined;
}

const OptionsSchema = lazySchema((z) => {
  const positiveInt = z.number().int().min(1);
  return z.object({
    mmproj: z.string().min(1).optional(),
    gpuLayers: z.union([z.literal('auto'), z.number().int().min(0)]).optional(),
    contextSize: positiveInt.min(64).optional(),
    threads: positiveInt.optional(),
    batchSize: positiveInt.optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    callTimeoutMs: positiveInt.optional(),
    loadTimeoutMs: positiveInt.optional(),
  });
});

/** Options with every default applied except those that need the model file. */
export interface ResolvedLlamaOptions {
  model: string;
  mmproj: string | undefined;
  gpuLayers: number | 'auto';
  contextSize: number | undefined;
  threads: number;
  batchSize: number | undefined;
  seed: number | undefined;
  callTimeoutMs: number;
  loadTimeoutMs: number;
  maxImageSide: number;
}

/** One thread per physical core: logical cores / 2 (SMT), at least 1. */
export function defaultThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

const describe = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));

/** Validates `config.options` and applies defaults; throws `ConfigError` in the project's message template. */
export function resolveLlamaOptions(config: ProviderConfig): ResolvedLlamaOptions {
  if (!config.model) throw new ConfigError('Expected `model` to be a path to a .gguf file, got ``');
  // Flags arrive as strings from the command line: accept integer strings for numeric options.
  const raw = Object.fromEntries(
    Object.entries(config.options ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, k !== 'mmproj' && typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v]),
  );
  const parsed = OptionsSchema().strict().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(`Unknown llama option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}`);
    }
    const what: Record<string, string> = {
      mmproj: 'a path to a projector .gguf file',
      gpuLayers: "an integer >= 0 or 'auto'",
      contextSize: 'an integer >= 64',
      threads: 'an integer >= 1',
      batchSize: 'an integer >= 1',
      seed: 'an integer from 0 to 4294967295',
      callTimeoutMs: 'an integer >= 1',
      loadTimeoutMs: 'an integer >= 1',
    };
    throw new ConfigError(`Expected \`${key}\` to be ${what[key] ?? 'valid'}, got \`${describe(raw[key])}\``);
  }
  const o = parsed.data;
  return {
    model: config.model,
    mmproj: o.mmproj,
    gpuLayers: o.gpuLayers ?? 'auto',
    contextSize: o.contextSize,
    threads: o.threads ?? defaultThreads(),
    batchSize: o.batchSize,
    seed: o.seed,
    callTimeoutMs: o.callTimeoutMs ?? config.timeoutMs ?? 120_000,
    loadTimeoutMs: o.loadTimeoutMs ?? 300_000,
    maxImageSide: config.maxImageSide ?? 1024,
  };
}
