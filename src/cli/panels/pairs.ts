/**
 * `compare` / `rank` with `--judge panel:NAME`: the panel's judges opened, the pair
 * settings read (the panel's samples and temperature unless `--samples` /
 * `--temperature` say otherwise; `--prompt` or compare-sample), and the panel's pair
 * judging that replaces the one judge of the run.
 */
import { UsageError } from '../../core/errors.js';
import { pairMethod, type PairSettings } from '../../judges/compare.js';
import { panelPairJudging, type PairJudgingFactory } from '../../judges/panels/pairs.js';
import { neuronPairTemplate } from '../../judges/panels/_prompts.js';
import { roleOf } from '../../judges/panels/schema.js';
import type { PlannedJudge } from '../judge-run.js';
import { compareSample } from '../../prompts/builtin.js';
import { resolveTemplate } from '../../prompts/load.js';
import type { JudgeSession, SessionEvent } from '../../judges/session/session.js';
import { intArg, numArg, str, type Args } from '../args.js';
import type { JudgeSetup } from '../judge-options.js';
import type { CommandIO } from '../main.js';
import { batchJudges, neuronEvents, openPanel, type PanelChoice } from './options.js';
import type { BatchJudge } from '../../judges/batch/run-batched.js';

export interface PanelPairs {
  /** The first neuron's judge: the run is opened under it (its own session makes no call). */
  judge: JudgeSetup;
  settings: PairSettings;
  stored: Record<string, unknown>;
  pairJudging: PairJudgingFactory;
  /**
   * `--batch`: every judge the panel asks (its neurons, then the escalation judge), and
   * whether its questions depend on others' answers (escalation: the neurons judge what the
   * cheap judge's orders split, one round of batches later).
   */
  judged: { judges: BatchJudge[]; layered: boolean };
  /** What `--dry-run` plans: each neuron with its role's template, then the escalation judge. */
  planned: PlannedJudge[];
  close(): Promise<void>;
}

export async function openPanelPairs(
  args: Args,
  io: CommandIO,
  choice: PanelChoice,
  hooks: { onEvent(e: SessionEvent): void; onSession(s: JudgeSession): void },
): Promise<PanelPairs> {
  const { panel, config } = choice;
  const promptArg = str(args, 'prompt');
  const template = promptArg ? await resolveTemplate(promptArg) : compareSample;
  const samples = intArg(args, 'samples', 1) ?? panel.samples;
  const temperature = numArg(args, 'temperature', 0, 2) ?? panel.temperature;
  const seed = intArg(args, 'seed', 0);
  const settings: PairSettings = { template, samples, temperature, ...(seed !== undefined ? { seed } : {}) };
  const judges = await openPanel(choice, args, io.env);
  let asked: BatchJudge[];
  try {
    asked = args['batch'] === true ? batchJudges(panel, judges, ['escalation']) : [];
    for (const m of [...judges.members, ...(judges.escalation ? [judges.escalation] : [])]) pairMethod(template, m.provider);
    if (panel.escalation && !panel.escalation.disagree) {
      throw new UsageError(`panels.${panel.name} in ${config.file}: pairs escalate by disagreement: set escalation.disagree: true (maxSpread and maxEntropy are for scores)`);
    }
  } catch (error) {
    await judges.close();
    throw error;
  }
  const pairJudging = panelPairJudging({
    panel,
    members: judges.members,
    escalation: judges.escalation,
    settings,
    concurrency: intArg(args, 'concurrency', 1),
    maxCost: judges.members[0]?.maxCost,
    onSession: hooks.onSession,
    onEvent: neuronEvents(io, hooks.onEvent),
  });
  return {
    judge: { ...(judges.members[0] as JudgeSetup), named: undefined },
    settings,
    stored: {
      judge: `panel:${panel.name}`,
      panel,
      prompt: { id: template.id, version: template.version, hash: template.hash },
      samples: template.kind === 'levels' ? 1 : samples,
      temperature,
    },
    pairJudging,
    judged: { judges: asked, layered: panel.escalation !== undefined },
    planned: [
      ...judges.members.map((m, r) => ({
        provider: m.provider,
        price: m.price,
        settings: { ...settings, template: neuronPairTemplate(template, roleOf(panel, r)) },
        name: `panel:${panel.name} neuron ${r + 1} (${roleOf(panel, r)})`,
        // With escalation only the pairs the cheap judge is unsure of reach the neurons.
        upperBound: panel.escalation !== undefined,
      })),
      ...(judges.escalation ? [{ provider: judges.escalation.provider, price: judges.escalation.price, settings, name: `panel:${panel.name} escalation`, upperBound: false }] : []),
    ],
    close: judges.close,
  };
}
