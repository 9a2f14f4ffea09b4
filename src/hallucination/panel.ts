/**
 * `quorum hallucination --judge panel:NAME`: every neuron judges every tile of a triplet
 * exactly as one judge does (`judgeTriplet`: its own session, stored, cached, resumable),
 * with its role stated in the prompt; the panel's verdict fuses the neurons that answered:
 * the mean of their worst-tile scores and of their area means, their spread kept, and the
 * union of their boxes merged as tiles' boxes are, each finding counting its neurons.
 */
import { mean, sampleStd } from '../aggregate/descriptive.js';
import { templateText } from '../prompts/template.js';
import { neuronHallucinationTemplate } from '../judges/panels/_prompts.js';
import { openMember, panelSessions, type PanelJudge, type PanelMember } from '../judges/panels/_sessions.js';
import { roleOf, type PanelDefinition } from '../judges/panels/schema.js';
import type { JudgeSession, SessionEvent } from '../judges/session/session.js';
import type { RetryFailed, Store } from '../store/store.js';
import { judgedOutcome, judgeTriplet, type HallucinationSettings, type JudgedImage, type TileResult, type TripletPixels } from './judge.js';
import { mergeFindings, type Tile } from './tiles.js';

/** One neuron's verdict on an image. */
export interface NeuronHallucinationReview {
  neuron: number;
  role: string;
  judge: string;
  status: 'ok' | 'failed' | 'not-run';
  score: number | null;
  areaScore: number | null;
  findings: number;
  errors: string[];
}

export interface PanelHallucinationInfo {
  name: string;
  neuronsUsed: number;
  reviews: NeuronHallucinationReview[];
  /** Neurons without a verdict on this image, in words (`neuron 3 (judge, role): reason`). */
  failedNeurons: string[];
  /** Why the panel gave no verdict (fewer than `minNeurons` answered), when it gave none. */
  errors: string[];
}

/** What judges a triplet's tiles in place of the run's one judge. */
export interface TripletJudging {
  /** Requests a tile costs per sample (one per neuron). */
  width: number;
  /** The largest side every judge takes: tiles are planned for it. */
  maxImageSide: number;
  judge(tiles: readonly Tile[], pixels: TripletPixels): Promise<{ judged: JudgedImage; panel: PanelHallucinationInfo }>;
  /** Drains and closes the judging sessions. */
  finish(): Promise<void>;
  counts(): JudgeSession['counts'];
  budgetExceeded(): boolean;
}

/** Makes the judging once the run is open (its id is where the calls are linked). */
export type TripletJudgingFactory = (store: Store, runId: number) => TripletJudging;

export interface PanelHallucinationOptions {
  panel: PanelDefinition;
  /** One per `panel.neurons`, same order. */
  members: readonly PanelMember[];
  settings: HallucinationSettings;
  concurrency?: number | undefined;
  /** Total budget in USD, split evenly over the neurons. */
  maxCost?: number | undefined;
  retryFailed?: RetryFailed | undefined;
  onEvent?: ((event: SessionEvent, judge: string) => void) | undefined;
  onSession?: ((session: JudgeSession) => void) | undefined;
}

/** The panel's triplet judging, for `runHallucination`'s `judging`. Layers, meta fusion, generated roles and escalation are not for hallucination. */
export function panelTripletJudging(options: PanelHallucinationOptions): TripletJudgingFactory {
  const { panel, settings } = options;
  if (options.members.length !== panel.neurons.length) {
    throw new Error(`panel ${panel.name}: ${panel.neurons.length} neurons defined but ${options.members.length} judges opened`);
  }
  return (store, runId) => {
    const neurons = options.members.map((m, r) => {
      const role = roleOf(panel, r);
      const template = neuronHallucinationTemplate(settings.template, role);
      store.putPrompt({ hash: template.hash, id: template.id, version: template.version, kind: template.kind, text: templateText(template) });
      // Concurrency, retries and events as the options say; the budget split evenly.
      const share = options.maxCost === undefined ? undefined : options.maxCost / options.members.length;
      const judge = openMember(m, { ...options, store, runId, maxCost: share });
      return { judge, role, settings: { ...settings, template } };
    });
    const all: PanelJudge[] = neurons.map((n) => n.judge);
    return {
      width: neurons.length,
      maxImageSide: Math.min(...all.map((j) => j.provider.maxImageSide)),
      judge: async (tiles, pixels) => {
        const results = await Promise.all(
          neurons.map((n) => judgeTriplet({ session: n.judge.session, provider: n.judge.provider, judgeId: n.judge.judgeId, settings: n.settings, tiles, pixels })),
        );
        const reviews = results.map((j, i): NeuronHallucinationReview => {
          const n = neurons[i] as (typeof neurons)[number];
          const { status, errors } = judgedOutcome(j, n.judge.session);
          return { neuron: i, role: n.role, judge: n.judge.label, status, score: j.worst, areaScore: j.areaMean, findings: j.findings.length, errors };
        });
        const used = results.filter((_, i) => reviews[i]?.status === 'ok');
        const judged = fuseNeurons(tiles, results, used.length >= panel.minNeurons ? used : []);
        const failedNeurons = reviews.filter((r) => r.status !== 'ok').map((r) => `neuron ${r.neuron + 1} (${r.judge}, ${r.role}): ${r.errors[0] ?? r.status}`);
        const short = used.length < panel.minNeurons && used.length > 0 ? [`only ${used.length} of ${neurons.length} neurons answered (at least ${panel.minNeurons} needed)`] : [];
        return { judged, panel: { name: panel.name, neuronsUsed: short.length ? 0 : used.length, reviews, failedNeurons, errors: short } };
      },
      ...panelSessions(all),
    };
  };
}

/**
 * The panel as one judge of an image. Scores: the mean over `used` (the neurons with a
 * complete verdict) of their worst-tile scores and of their area means; spread: the
 * sample standard deviation of their worst-tile scores (null below two neurons). Tiles:
 * each tile's score is the mean of the used neurons' tile scores, its counts and call ids
 * summed over every neuron (a failing neuron's calls stay linked; its errors are in its review). Findings: the used
 * neurons' findings merged with `mergeFindings`, each counting 1, so `support` is the
 * number of neuron findings merged into it. `used` empty: no verdict (scores null).
 */
export function fuseNeurons(tiles: readonly Tile[], all: readonly JudgedImage[], used: readonly JudgedImage[]): JudgedImage {
  const fusedTiles = tiles.map((tile, t): TileResult => {
    const of = all.map((j) => j.tiles[t] as TileResult);
    const scores = used.map((j) => (j.tiles[t] as TileResult).score).filter((s): s is number => s !== null);
    return {
      ...tile,
      score: scores.length ? mean(scores) : null,
      samples: scores,
      ok: of.reduce((n, r) => n + r.ok, 0),
      failed: of.reduce((n, r) => n + r.failed, 0),
      cached: of.reduce((n, r) => n + r.cached, 0),
      callIds: of.flatMap((r) => r.callIds),
      errors: (used.length ? used : all).flatMap((j) => (j.tiles[t] as TileResult).errors),
      reasoning: used.map((j) => (j.tiles[t] as TileResult).reasoning).find((r) => r) ?? null,
    };
  });
  const worst = used.map((j) => j.worst as number);
  return {
    tiles: fusedTiles,
    worst: worst.length ? mean(worst) : null,
    areaMean: used.length ? mean(used.map((j) => j.areaMean as number)) : null,
    spread: worst.length >= 2 ? sampleStd(worst) : null,
    completeSamples: used.length ? Math.min(...used.map((j) => j.completeSamples)) : 0,
    findings: mergeFindings(used.flatMap((j) => j.findings.map((f) => ({ ...f, support: 1 })))),
    reasoning: used.map((j) => j.reasoning).find((r) => r) ?? null,
  };
}
