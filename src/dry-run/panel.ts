/**
 * `--dry-run` with a panel judge: the calls each neuron would make in each layer, and those
 * of the escalation, roles and meta judges, counted like a plain judge's (cache keys
 * built as the run builds them, requests as the session sends them). What cannot be known
 * before the answers is said and counted as a ceiling: layers 2+ and the meta judge quote
 * earlier answers in their prompts (their cache is not looked up), generated roles are not
 * known (layer 1 is counted as to ask), and with escalation every image is counted as
 * escalated.
 */
import type { Provider } from '../core/provider.js';
import { metaTemplate, neuronTemplate, rolesTemplate, type ShownReview } from '../judges/panels/_prompts.js';
import { rolesParams, rolesSpec } from '../judges/panels/_roles.js';
import { roleOf, type PanelDefinition } from '../judges/panels/schema.js';
import type { Price } from '../judges/prices.js';
import type { ScoreSettings } from '../judges/score.js';
import { qualityLevels } from '../prompts/builtin.js';
import type { PromptTemplate } from '../prompts/template.js';
import type { RetryFailed, Store } from '../store/store.js';
import { planInputs, Tally, tallyScores, type DryRunJudge, type DryRunPlan } from './plan.js';

/** A panel judge as the plan needs it. */
export interface PlannedMember {
  provider: Provider;
  price: Price | undefined;
}

export interface DryRunPanelInput {
  store: Store;
  panel: PanelDefinition;
  members: readonly PlannedMember[];
  escalation?: PlannedMember | undefined;
  meta?: PlannedMember | undefined;
  roles?: PlannedMember | undefined;
  retryFailed: RetryFailed;
  inputs: readonly string[];
}

/** A stand-in earlier review: the later prompts' length, not their content, matters here. */
const placeholder = (neuron: number, role: string): ShownReview => ({ neuron, role, score: 3, reasoning: 'x'.repeat(200) });

/** The plan of `score --judge panel:NAME`: one entry per neuron and layer, then the other judges. */
export async function dryRunPanel(input: DryRunPanelInput): Promise<DryRunPlan> {
  const { store, panel } = input;
  const maxSide = Math.min(...[...input.members, input.escalation, input.meta, input.roles].flatMap((m) => (m ? [m.provider.maxImageSide] : [])));
  const { images, inputErrors } = await planInputs(store, input.inputs, maxSide);
  const generated = panel.roles !== undefined && !Array.isArray(panel.roles) ? panel.roles : undefined;
  const escalated = panel.escalation !== undefined;
  const tally = (m: PlannedMember, name: string) => new Tally({ store, provider: m.provider, price: m.price, retryFailed: input.retryFailed, name });
  /** Every image asked one question of `m`; `unknown` when its prompt quotes answers not given yet. */
  const plan = (m: PlannedMember, name: string, settings: ScoreSettings, unknown: boolean, upperBound: boolean): DryRunJudge => {
    const t = tally(m, name);
    const { samplesPerItem } = tallyScores(t, m.provider, settings, images, unknown);
    return t.result({ method: settings.method, prompt: settings.template.id, items: images.length, samplesPerItem, probes: 0, upperBound });
  };
  const sample = (template: PromptTemplate, samples = panel.samples): ScoreSettings => ({ template, method: 'sample', samples, temperature: panel.temperature });

  const judges: DryRunJudge[] = [];
  const notes: string[] = [];
  if (input.escalation && panel.escalation) {
    const e = panel.escalation;
    const settings: ScoreSettings =
      e.method === 'levels' ? { template: qualityLevels, method: 'levels', samples: 1, temperature: 0 } : sample(neuronTemplate('overall quality'), e.samples);
    judges.push(plan(input.escalation, `panel ${panel.name}: escalation`, settings, false, false));
    notes.push('with escalation, the panel is counted as called on every image: its figures are a ceiling');
  }
  if (input.roles && generated) {
    const t = tally(input.roles, `panel ${panel.name}: roles`);
    const template = rolesTemplate(generated.count);
    for (const image of images) {
      t.add({ promptHash: template.hash, imageHashes: [image.sha256], params: rolesParams(generated.count), count: 1, request: () => rolesSpec(template, generated.count, image.part).request });
    }
    judges.push(t.result({ method: 'roles', prompt: template.id, items: images.length, samplesPerItem: 1, probes: 0, upperBound: escalated }));
    notes.push("roles are generated per image: layer 1's prompts are not known yet, so its cache is not looked up (counted as to ask)");
  }
  input.members.forEach((m, r) => {
    const role = roleOf(panel, r);
    for (let layer = 1; layer <= panel.layers; layer++) {
      const template = neuronTemplate(role, layer, layer > 1 ? placeholder(r, role) : undefined, layer > 1 ? [placeholder(r + 1, role)] : []);
      const unknown = layer > 1 || (generated !== undefined && !panel.neurons[r]?.role);
      judges.push(plan(m, `panel ${panel.name}: layer ${layer}, neuron ${r + 1} (${role})`, sample(template), unknown, escalated));
    }
  });
  if (panel.layers > 1) notes.push('layers 2+ quote the earlier reviews in their prompts: their cache is not looked up (counted as to ask)');
  if (input.meta && panel.meta) {
    const reviews = input.members.map((_, r) => placeholder(r, roleOf(panel, r)));
    const settings: ScoreSettings = { template: metaTemplate(reviews, []), method: 'report', samples: panel.meta.samples, temperature: panel.temperature };
    judges.push(plan(input.meta, `panel ${panel.name}: meta`, settings, true, escalated));
    notes.push('the meta judge reads the reviews: its cache is not looked up (counted as to ask)');
  }
  return { command: 'score', dryRun: true, judges, inputErrors, notes };
}
