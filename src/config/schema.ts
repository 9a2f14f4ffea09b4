import type * as z from 'zod';
import { lazySchema, zod, type Zod } from '../core/zod.js';
import { providerRegistry } from '../judges/providers/registry.js';

/**
 * The schema of `quorum.config.yaml` / `.json`. Every object is strict: an unknown key is
 * an error (with a "did you mean"), never silently ignored. Each schema is built on first
 * use (`ConfigFile()`); types come from `z.infer` of what the builders return.
 * Bounds are the CLI's (`optionLimits` in cli/args.ts), so a value valid in one is valid
 * in the other.
 */

const known = () => Object.keys(providerRegistry).join(', ');

/** `provider:model` with a known provider; the model part may contain colons (paths, tags). */
export const JudgeSpec = lazySchema((z) =>
  z.string().superRefine((value, ctx) => {
    const colon = value.indexOf(':');
    if (colon <= 0 || colon === value.length - 1) {
      ctx.addIssue({ code: 'custom', message: `expected provider:model (e.g. openai:gpt-4o-mini), got "${value}"` });
      return;
    }
    const provider = value.slice(0, colon);
    if (!providerRegistry[provider]) ctx.addIssue({ code: 'custom', message: `unknown provider "${provider}" (known: ${known()})` });
  }),
);

const int = (z: Zod, min: number, max: number) => z.number().int().min(min).max(max);
const httpUrl = lazySchema((z) =>
  z.string().refine((v) => {
    try {
      const url = new URL(v);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'expected an http(s) URL such as http://127.0.0.1:8080/v1'),
);

/** One replica of an OpenAI-compatible server in a judge's `endpoints` pool. */
export const Endpoint = lazySchema((z) =>
  z.strictObject({
    url: httpUrl(),
    /** Share of requests relative to the other endpoints. @default 1 */
    weight: z.number().positive().optional(),
    /** Requests in flight on this endpoint. */
    concurrency: int(z, 1, 1024).optional(),
  }),
);
export type Endpoint = z.infer<ReturnType<typeof Endpoint>>;

/**
 * The name of an environment variable, never a key: a value that looks like a key
 * (`sk-...`, or long and mixed) is refused, so a key never sits in a file people commit.
 */
export const EnvName = lazySchema((z) =>
  z.string().superRefine((value, ctx) => {
    if (/^(sk-|sk_|key-|AIza)/.test(value) || (value.length >= 24 && /[a-z]/.test(value) && /\d/.test(value))) {
      ctx.addIssue({ code: 'custom', message: 'looks like an API key itself; give the name of the environment variable that holds it (e.g. OPENAI_API_KEY)' });
    } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      ctx.addIssue({ code: 'custom', message: `expected the name of an environment variable (letters, digits, _), got "${value}"` });
    }
  }),
);

/** Provider options, and the options of the in-process llama engine. */
export const JudgeEngineOptions = lazySchema((z) =>
  z.strictObject({
    /** Sampling temperature, 0-2 (the sample methods). */
    temperature: z.number().min(0).max(2).optional(),
    /** Most output tokens per answer. @default 1024 (sample, report), 16 (levels), 24 (pair levels) */
    maxTokens: int(z, 1, 1_048_576).optional(),
    /** llama: the vision projector GGUF (relative to the config file). */
    mmproj: z.string().min(1).optional(),
    gpuLayers: z.union([int(z, 0, 10_000), z.literal('auto')]).optional(),
    contextSize: int(z, 64, 1_048_576).optional(),
    threads: int(z, 1, 1024).optional(),
    batchSize: int(z, 1, 1_048_576).optional(),
  }),
);

/** A judge by name: `judges.<name>` in the config file. */
export const JudgeEntry = lazySchema((z) =>
  z
    .strictObject({
      judge: JudgeSpec(),
      baseUrl: httpUrl().optional(),
      endpoints: z.array(Endpoint()).min(1).optional(),
      apiKeyEnv: EnvName().optional(),
      options: JudgeEngineOptions().optional(),
      /** USD per million tokens. */
      price: z.strictObject({ input: z.number().min(0), output: z.number().min(0) }).optional(),
      maxSide: int(z, 16, 16_384).optional(),
      /** A built-in template id or a template file (relative to the config file). */
      prompt: z.string().min(1).optional(),
      method: z.enum(['auto', 'sample', 'levels', 'anchors']).optional(),
      samples: int(z, 1, 1000).optional(),
      concurrency: int(z, 1, 1024).optional(),
      /** Seconds per request. */
      timeout: z.number().min(0.001).max(86_400).optional(),
      retries: int(z, 0, 100).optional(),
      rpm: int(z, 1, 1_000_000).optional(),
      seed: int(z, 0, 4_294_967_295).optional(),
    })
    .superRefine((entry, ctx) => {
      if (entry.baseUrl !== undefined && entry.endpoints !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'give either baseUrl or endpoints, not both' });
      }
    }),
);
export type JudgeEntry = z.infer<ReturnType<typeof JudgeEntry>>;

/** Judge names are plain words: a colon would read as provider:model. */
export const JudgeName = lazySchema((z) => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a judge name is letters, digits, ".", "_" and "-" (no ":")'));

/** The whole file. `panels` is checked for its judge references here and fully by the panels feature. */
export const ConfigFile = lazySchema((z) =>
  z.strictObject({
    /** The judge used when `--judge` is absent: a name from `judges` or provider:model. */
    judge: z.string().min(1).optional(),
    judges: z.record(JudgeName(), JudgeEntry()).optional(),
    panels: z.record(JudgeName(), z.record(z.string(), z.unknown())).optional(),
  }),
);
export type ConfigFile = z.infer<ReturnType<typeof ConfigFile>>;

/**
 * A judge reference inside another section (a panel's neurons, escalation, meta judge,
 * role generator): a name from `judges`, or provider:model.
 */
export function judgeReference(names: readonly string[]) {
  return zod()
    .string()
    .superRefine((value, ctx) => {
      if (names.includes(value)) return;
      if (value.includes(':')) {
        const r = JudgeSpec().safeParse(value);
        if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
        return;
      }
      ctx.addIssue({
        code: 'custom',
        message: `unknown judge "${value}" (${names.length ? `judges: ${names.join(', ')}` : 'no judges are defined'}; or give provider:model)`,
      });
    });
}

/**
 * What this module checks of `panels` until the panels feature supplies its full schema:
 * each panel is an object, and every judge it names (`neurons[].judge`,
 * `escalation.judge`, `meta.judge`, `roles.judge`) exists.
 */
export function panelReferences(names: readonly string[]) {
  const z = zod();
  const ref = judgeReference(names);
  const withJudge = z.looseObject({ judge: ref.optional() });
  return z.record(
    z.string(),
    z.looseObject({
      neurons: z.array(withJudge).optional(),
      escalation: withJudge.optional(),
      meta: withJudge.optional(),
      roles: z.union([z.array(z.unknown()), withJudge]).optional(),
    }),
  );
}
