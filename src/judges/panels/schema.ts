/**
 * A judge panel's definition (WideDeep layers, Thurstone fusion, escalation), validated
 * with zod at the edge: the config file's `panels:` section or a programmatic definition.
 */
import { z } from 'zod';

/** A judge: `provider:model` (or a judge name the config file defines), with its base URL. */
export const PanelJudge = z.object({
  judge: z.string().min(1),
  baseURL: z.string().url().optional(),
});
export type PanelJudge = z.infer<typeof PanelJudge>;

/** A layer-1 neuron: a judge and the angle it judges from. */
export const PanelNeuron = PanelJudge.extend({
  /** Angle of view, e.g. `sharpness`; absent: taken from `roles` in neuron order. */
  role: z.string().min(1).optional(),
});
export type PanelNeuron = z.infer<typeof PanelNeuron>;

/** The fixed list of angles (WideDeep's roles for images). */
export const DEFAULT_ROLES = [
  'sharpness and detail',
  'noise and grain',
  'exposure and colour',
  'compression artefacts',
  'structural plausibility',
  'faithfulness to the reference',
] as const;

export const PanelFusion = z.enum(['mean', 'median', 'trimmed-mean', 'thurstone']);
export type PanelFusion = z.infer<typeof PanelFusion>;

export const PanelDefinition = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'panel names are lowercase letters, digits, ".", "_" and "-"'),
    neurons: z.array(PanelNeuron).min(1),
    /** Roles for neurons that name none, in order (cycled). @default DEFAULT_ROLES */
    roles: z.array(z.string().min(1)).min(1).optional(),
    /** Layers: 1 is a wide panel; each further layer re-judges seeing earlier reviews. @default 1 */
    layers: z.number().int().min(1).max(4).default(1),
    /** Neighbours on each side whose earlier review a neuron sees in layers 2+. @default 2 */
    window: z.number().int().min(0).default(2),
    /** How the last layer's reviews become one score. @default 'thurstone' */
    fusion: PanelFusion.default('thurstone'),
    /** Share cut from each end by `trimmed-mean`. @default 0.2 */
    trim: z.number().min(0).max(0.49).default(0.2),
    /** Samples per neuron review (K). @default 5 */
    samples: z.number().int().min(1).max(64).default(5),
    temperature: z.number().min(0).max(2).default(1),
    /** Fewest neurons that must answer an item; fewer marks it failed. @default 1 */
    minNeurons: z.number().int().min(1).default(1),
    /**
     * Cascade: a cheap judge scores every item first; the panel is called only where its
     * samples spread (standard deviation) exceeds `maxSpread`, or it failed.
     */
    escalation: PanelJudge.extend({
      maxSpread: z.number().min(0),
      samples: z.number().int().min(2).max(64).default(5),
    }).optional(),
    /** Bootstrap rounds of the Thurstone intervals. @default 200 */
    rounds: z.number().int().min(0).default(200),
    seed: z.number().int().min(0).default(0),
  })
  .superRefine((p, ctx) => {
    if (p.minNeurons > p.neurons.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['minNeurons'],
        message: `Expected \`minNeurons\` to be at most the ${p.neurons.length} neurons, got \`${p.minNeurons}\``,
      });
    }
  });
export type PanelDefinition = z.infer<typeof PanelDefinition>;
export type PanelDefinitionInput = z.input<typeof PanelDefinition>;

/** The role of neuron `index`: its own, else the panel's list (cycled), else the defaults. */
export function roleOf(panel: PanelDefinition, index: number): string {
  const own = panel.neurons[index]?.role;
  if (own) return own;
  const list = panel.roles ?? DEFAULT_ROLES;
  return list[index % list.length] as string;
}

/**
 * The panel named `name` in a loaded configuration's `panels` (a record or a list of
 * definitions), validated; undefined when there is none. The seam the config file plugs into.
 */
export function panelByName(config: { panels?: unknown } | undefined, name: string): PanelDefinition | undefined {
  const panels = config?.panels;
  if (panels === undefined || panels === null) return undefined;
  const entries: unknown[] = Array.isArray(panels)
    ? panels
    : Object.entries(panels as Record<string, unknown>).map(([key, value]) => ({ name: key, ...(value as object) }));
  const found = entries.find((p) => (p as { name?: unknown }).name === name);
  return found === undefined ? undefined : PanelDefinition.parse(found);
}
