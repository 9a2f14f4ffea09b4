/**
 * A judge panel's definition (WideDeep layers, Thurstone fusion, escalation), validated
 * with zod at the edge: the config file's `panels:` section or a programmatic definition.
 */
import type * as z from 'zod';
import { lazySchema, zod, type Zod } from '../../core/zod.js';

/** How a panel names a judge: any non-empty text, unless the config file checks it against its `judges`. */
type JudgeRef = z.ZodType<string>;
const anyJudge = lazySchema((z): JudgeRef => z.string().min(1));

/** A judge: `provider:model` (or a judge name the config file defines), with its base URL. */
const judgeShape = (z: Zod, ref: JudgeRef) => ({
  judge: ref,
  /** OpenAI-compatible server of a judge given as provider:model. */
  baseUrl: z.string().url().optional(),
});

/** The fixed list of angles (WideDeep's roles for images). */
export const DEFAULT_ROLES = [
  'sharpness and detail',
  'noise and grain',
  'exposure and colour',
  'compression artefacts',
  'structural plausibility',
  'faithfulness to the reference',
] as const;

export const PANEL_FUSIONS = ['mean', 'median', 'trimmed-mean', 'thurstone', 'meta'] as const;
export const PanelFusion = lazySchema((z) => z.enum(PANEL_FUSIONS));
export type PanelFusion = (typeof PANEL_FUSIONS)[number];

/**
 * The fields of a panel, every object strict (an unknown key is an error, not ignored);
 * `ref` validates each judge reference (the config file's names or provider:model).
 */
function panelShape(z: Zod, ref: JudgeRef) {
  return {
    neurons: z
      .array(
        z.strictObject({
          ...judgeShape(z, ref),
          /** Angle of view, e.g. `sharpness`; absent: taken from `roles` in neuron order. */
          role: z.string().min(1).optional(),
        }),
      )
      .min(1),
    /**
     * Roles for neurons that name none, in order (cycled): a list, or generated per item by
     * one call to a named judge (`{ judge, count }`) with DEFAULT_ROLES as the fallback
     * when that call fails or does not parse. @default DEFAULT_ROLES
     */
    roles: z
      .union([
        z.array(z.string().min(1)).min(1),
        z.strictObject({ ...judgeShape(z, ref), count: z.number().int().min(1).max(12).default(DEFAULT_ROLES.length) }),
      ])
      .optional(),
    /** Layers: 1 is a wide panel; each further layer re-judges seeing earlier reviews. @default 1 */
    layers: z.number().int().min(1).max(4).default(1),
    /** Neighbours on each side whose earlier review a neuron sees in layers 2+. @default 2 */
    window: z.number().int().min(0).default(2),
    /**
     * How the last layer's reviews become one score. `meta`: the `meta` judge reads every
     * review of the item and writes the verdict (Thurstone fusion where it fails). @default 'thurstone'
     */
    fusion: PanelFusion().default('thurstone'),
    /** The judge that reads all reviews of an item and writes the verdict (`fusion: meta`). */
    meta: z
      .strictObject({
        ...judgeShape(z, ref),
        /** Verdicts sampled per item; their mean is the score. @default 1 */
        samples: z.number().int().min(1).max(16).default(1),
      })
      .optional(),
    /** Share cut from each end by `trimmed-mean`. @default 0.2 */
    trim: z.number().min(0).max(0.49).default(0.2),
    /** Samples per neuron review (K). @default 5 */
    samples: z.number().int().min(1).max(64).default(5),
    temperature: z.number().min(0).max(2).default(1),
    /** Fewest neurons that must answer an item; fewer marks it failed. @default 1 */
    minNeurons: z.number().int().min(1).default(1),
    /**
     * Cascade: a cheap judge scores every item first; the panel is called only where it is
     * unsure, or it failed. `method: sample` (K samples): unsure when their standard
     * deviation exceeds `maxSpread`. `method: levels` (one call, Q-Align level
     * probabilities): unsure when the entropy of the levels (bits, 0 to log2 5 = 2.32)
     * exceeds `maxEntropy`, or their spread exceeds `maxSpread`. Pairs (`compare`, `rank`):
     * `disagree: true`: the cheap judge judges each pair in both orders and the panel is
     * called only where its two orders disagree (or it failed).
     */
    escalation: z
      .strictObject({
        ...judgeShape(z, ref),
        method: z.enum(['sample', 'levels']).default('sample'),
        maxSpread: z.number().min(0).optional(),
        maxEntropy: z.number().min(0).optional(),
        samples: z.number().int().min(2).max(64).default(5),
        disagree: z.boolean().optional(),
      })
      .optional(),
    /** Bootstrap rounds of the Thurstone intervals. @default 200 */
    rounds: z.number().int().min(0).default(200),
    seed: z.number().int().min(0).default(0),
  };
}

type Checked = {
  minNeurons: number;
  neurons: readonly unknown[];
  fusion: PanelFusion;
  meta?: unknown;
  escalation?: { method: 'sample' | 'levels'; maxSpread?: number | undefined; maxEntropy?: number | undefined; disagree?: boolean | undefined } | undefined;
};

/** Rules across fields: enough neurons, a meta judge exactly when `fusion: meta`, a threshold the escalation method can use. */
const checkPanel = (p: Checked, ctx: z.RefinementCtx) => {
  if (p.minNeurons > p.neurons.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['minNeurons'],
      message: `Expected \`minNeurons\` to be at most the ${p.neurons.length} neurons, got \`${p.minNeurons}\``,
    });
  }
  if (p.fusion === 'meta' && p.meta === undefined) {
    ctx.addIssue({ code: 'custom', path: ['fusion'], message: 'fusion: meta needs a meta judge (meta: { judge: NAME })' });
  }
  if (p.fusion !== 'meta' && p.meta !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['meta'], message: `a meta judge is used only with fusion: meta, got fusion: ${p.fusion}` });
  }
  const e = p.escalation;
  if (e && !e.disagree && e.maxSpread === undefined && (e.method === 'sample' || e.maxEntropy === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['escalation'],
      message: e.method === 'sample' ? 'escalation by samples needs maxSpread (or disagree: true for pairs)' : 'escalation by levels needs maxEntropy or maxSpread (or disagree: true for pairs)',
    });
  }
  if (e && e.method === 'sample' && e.maxEntropy !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['escalation', 'maxEntropy'], message: 'maxEntropy needs method: levels (sampled scores have no level entropy)' });
  }
};

/** Panel names, like judge names: letters, digits, ".", "_" and "-" (no ":"). */
export const PanelName = lazySchema((z) => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'panel names are letters, digits, ".", "_" and "-"'));

/** A panel defined in code: its name and fields (`PanelDefinition()` is the schema, built on first use). */
export const PanelDefinition = lazySchema((z) => z.strictObject({ name: PanelName(), ...panelShape(z, anyJudge()) }).superRefine(checkPanel));
export type PanelDefinition = z.infer<ReturnType<typeof PanelDefinition>>;
export type PanelDefinitionInput = z.input<ReturnType<typeof PanelDefinition>>;
export type PanelNeuron = PanelDefinition['neurons'][number];

/**
 * One entry of the config file's `panels:` (its name is the key), each judge reference
 * checked by `ref` (see `judgeReference` in the config module).
 */
export function panelEntrySchema(ref: JudgeRef) {
  const z = zod();
  return z.strictObject(panelShape(z, ref)).superRefine(checkPanel);
}

/**
 * The role of neuron `index`: its own, else the panel's list (cycled), else the roles
 * generated for the item (`generated`), else the defaults.
 */
export function roleOf(panel: PanelDefinition, index: number, generated?: readonly string[]): string {
  const own = panel.neurons[index]?.role;
  if (own) return own;
  const list = Array.isArray(panel.roles) ? panel.roles : generated?.length ? generated : DEFAULT_ROLES;
  return list[index % list.length] as string;
}

/** A neuron without a verdict, in words: `neuron 2 (openai:gpt-4o, sharpness): <first error or status>`. */
export function failedNeuronText(r: { neuron: number; judge: string; role: string; errors: readonly string[]; status: string }): string {
  return `neuron ${r.neuron + 1} (${r.judge}, ${r.role}): ${r.errors[0] ?? r.status}`;
}
