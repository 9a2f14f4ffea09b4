/**
 * Pairwise panels (`compare`, `rank` with `--judge panel:NAME`): every neuron judges each
 * pair exactly as one judge does in `compare` (both orders, mapped back to P(b better)),
 * with its role stated in the pair prompt; the panel's verdict is the mean of the
 * neurons' debiased preferences, per order, then combined as one judge's two orders are.
 * With `escalation: { disagree: true }` a cheap judge goes first and the panel is called
 * only where its two orders disagree (or it failed). With `--batch` the escalation judge's
 * answers come in one round of batches and the neurons' questions in the next: while the
 * cheap judge's answers are still to come (`awaiting`) the neurons are not asked.
 */
import { templateText, type PromptTemplate } from '../../prompts/template.js';
import { mean } from '../../aggregate/descriptive.js';
import type { Store, RetryFailed } from '../../store/store.js';
import { combineOrders, judgePair, pairCacheKeys, verdictOf, type OrderPolicy, type OrderResult, type PairResult, type PairSettings } from '../compare.js';
import type { JudgeRunOptions } from '../run.js';
import type { RegisteredImage } from '../image-registry.js';
import type { JudgeSession, SessionEvent } from '../session/session.js';
import { neuronPairTemplate } from './_prompts.js';
import { openMember, panelSessions, type PanelJudge, type PanelMember } from './_sessions.js';
import { failedNeuronText, roleOf, type PanelDefinition } from './schema.js';

/** One pair to judge, as `judgePair` takes it. */
export interface PairInput {
  a: RegisteredImage;
  b: RegisteredImage;
  reference?: RegisteredImage | undefined;
  order: OrderPolicy;
  coin?: () => boolean;
}

/** What judges the pairs of a run in place of its one judge (see `runCompare`, `runRank`). */
export interface PairJudging {
  judge(input: PairInput): Promise<PairResult>;
  /** Drains and closes the judging sessions. */
  finish(): Promise<void>;
  counts(): JudgeSession['counts'];
  budgetExceeded(): boolean;
}

/** Batch mode's hooks of one pass of the run (see `runBatched`). */
export type PairBatchHooks = Pick<JudgeRunOptions, 'defer' | 'hold' | 'awaiting'>;

/** Makes the pair judging of a run once it is open (its id is where the calls are linked). */
export type PairJudgingFactory = (store: Store, runId: number, batch?: PairBatchHooks) => PairJudging;

/** One neuron's verdict on a pair. */
export interface NeuronPairReview {
  neuron: number;
  role: string;
  judge: string;
  status: 'ok' | 'failed' | 'not-run';
  /** P(b better than a), debiased over its orders. */
  preference: number | null;
  consistent: boolean | null;
  errors: string[];
}

export interface PanelPairInfo {
  name: string;
  /** False when the cheap judge's two orders agreed and its verdict stands. */
  escalated: boolean;
  neuronsUsed: number;
  reviews: NeuronPairReview[];
  /** Neurons without a verdict on this pair, in words. */
  failedNeurons: string[];
  /** Why the panel gave no verdict (fewer than `minNeurons` answered), when it gave none. */
  errors: string[];
  /** The escalation judge's verdict, when there is one. */
  cheap: { judge: string; preference: number | null; consistent: boolean | null } | null;
}

export type PanelPairResult = PairResult & { panel: PanelPairInfo };

export interface PanelPairOptions {
  panel: PanelDefinition;
  /** One per `panel.neurons`, same order. */
  members: readonly PanelMember[];
  escalation?: PanelMember | undefined;
  /** The pair template, samples and temperature; each neuron's template states its role. */
  settings: PairSettings;
  concurrency?: number | undefined;
  /** Total budget in USD, split evenly over the panel's judges. */
  maxCost?: number | undefined;
  retryFailed?: RetryFailed | undefined;
  onEvent?: ((event: SessionEvent, judge: string) => void) | undefined;
  onSession?: ((session: JudgeSession) => void) | undefined;
}

const asked = (r: PairResult) => r.orders.some((o) => o.ok + o.failed > 0);

/**
 * Whether anyone was asked for a pair's verdict (one judge's result or a panel's): where a
 * panel escalated, its neurons were (the escalation judge's doubt alone is no judgment).
 * A pair nobody was asked for is not run (stopped, or its answers wait in a batch), never failed.
 */
export function pairAsked(result: PairResult): boolean {
  const info = (result as Partial<PanelPairResult>).panel;
  return info?.escalated ? info.reviews.some((v) => v.status !== 'not-run') : asked(result);
}

/** The pair judging of a panel, for `runCompare` / `runRank`'s `pairJudging`. */
export function panelPairJudging(options: PanelPairOptions): PairJudgingFactory {
  const { panel, settings } = options;
  if (options.members.length !== panel.neurons.length) {
    throw new Error(`panel ${panel.name}: ${panel.neurons.length} neurons defined but ${options.members.length} judges opened`);
  }
  const byDisagreement = panel.escalation?.disagree === true;
  if (panel.escalation && !byDisagreement) {
    throw new Error(`panel ${panel.name}: pairs escalate by disagreement only (escalation: { disagree: true })`);
  }
  if (byDisagreement && !options.escalation) throw new Error(`panel ${panel.name}: the escalation judge was not opened`);
  return (store, runId, batch = {}) => {
    const put = (t: PromptTemplate) => store.putPrompt({ hash: t.hash, id: t.id, version: t.version, kind: t.kind, text: templateText(t) });
    const judges = options.members.length + (byDisagreement ? 1 : 0);
    const open = (m: PanelMember) =>
      openMember(m, {
        store,
        runId,
        concurrency: options.concurrency,
        maxCost: options.maxCost === undefined ? undefined : options.maxCost / judges,
        retryFailed: options.retryFailed,
        onEvent: options.onEvent,
        onSession: options.onSession,
        defer: batch.defer,
        hold: batch.hold,
      });
    const neurons = options.members.map((m, r) => {
      const role = roleOf(panel, r);
      const template = neuronPairTemplate(settings.template, role);
      put(template);
      return { judge: open(m), role, settings: { ...settings, template } };
    });
    const cheap = byDisagreement && options.escalation ? open(options.escalation) : undefined;
    const all: PanelJudge[] = [...neurons.map((n) => n.judge), ...(cheap ? [cheap] : [])];
    const ask = (j: PanelJudge, s: PairSettings, input: PairInput) =>
      judgePair({ ...input, session: j.session, provider: j.provider, judgeId: j.judgeId, settings: s });

    return {
      judge: async (input) => {
        let first: PairResult | undefined;
        if (cheap) {
          first = await ask(cheap, settings, input);
          const { awaiting } = batch;
          const waiting = awaiting !== undefined && pairCacheKeys({ ...input, provider: cheap.provider, judgeId: cheap.judgeId, settings }).some(awaiting);
          // Its two orders agree: its verdict stands. Its answers still to come from a batch (a
          // collecting pass, whose result is not kept): the neurons wait for the next round.
          if (first.consistent === true || waiting) return withPanel(first, panel, { escalated: false, reviews: [], cheap: cheapOf(first, cheap) });
        }
        const results = await Promise.all(neurons.map((n) => ask(n.judge, n.settings, input)));
        const reviews = results.map((r, i): NeuronPairReview => {
          const n = neurons[i] as (typeof neurons)[number];
          const status = r.preference !== null ? 'ok' : asked(r) ? 'failed' : 'not-run';
          const errors = status === 'not-run' ? [`not run: ${n.judge.session.notRunReason()}`] : r.orders.flatMap((o) => o.errors);
          return { neuron: i, role: n.role, judge: n.judge.label, status, preference: r.preference, consistent: r.consistent, errors };
        });
        const fused = fusePair(input.a, input.b, results, panel.minNeurons);
        const orders = [...(first?.orders ?? []), ...results.flatMap((r) => r.orders)];
        return withPanel({ ...fused, orders }, panel, { escalated: true, reviews, cheap: first && cheap ? cheapOf(first, cheap) : null });
      },
      ...panelSessions(all),
    };
  };
}

const cheapOf = (r: PairResult, j: PanelJudge) => ({ judge: j.label, preference: r.preference, consistent: r.consistent });

function withPanel(
  result: PairResult,
  panel: PanelDefinition,
  fields: Pick<PanelPairInfo, 'escalated' | 'reviews' | 'cheap'>,
): PanelPairResult {
  const failedNeurons = fields.reviews
    .filter((r) => r.status !== 'ok')
    .map(failedNeuronText);
  const used = fields.reviews.filter((r) => r.status === 'ok').length;
  const short = fields.escalated && result.preference === null && used > 0 ? [`only ${used} of ${fields.reviews.length} neurons answered (at least ${panel.minNeurons} needed)`] : [];
  return { ...result, panel: { name: panel.name, ...fields, neuronsUsed: fields.escalated ? used : 0, failedNeurons, errors: short } };
}

/**
 * The panel as one judge: for each order, the mean over the neurons that answered of
 * that order's preference, then the two orders combined as `combineOrders` does for one
 * judge (both must agree, else a tie). Fewer than `minNeurons` answering: no verdict.
 */
export function fusePair(a: RegisteredImage, b: RegisteredImage, results: readonly PairResult[], minNeurons: number): PairResult {
  const sideA = { path: a.path, sha256: a.sha256 };
  const sideB = { path: b.path, sha256: b.sha256 };
  const used = results.filter((r) => r.preference !== null);
  if (used.length < Math.max(1, minNeurons)) return combineOrders(sideA, sideB, []);
  const orders: OrderResult[] = [];
  for (const [first, second] of [[sideA, sideB], [sideB, sideA]] as const) {
    const prefs = used.flatMap((r) => r.orders.filter((o) => o.first === first.sha256 && o.preference !== null).map((o) => o.preference as number));
    if (prefs.length === 0) continue;
    const preference = mean(prefs);
    orders.push({
      first: first.sha256,
      second: second.sha256,
      preference,
      verdict: verdictOf(preference),
      levels: null,
      samples: prefs,
      coverage: null,
      reasoning: null,
      ok: prefs.length,
      failed: 0,
      cached: 0,
      callIds: [],
      errors: [],
    });
  }
  return combineOrders(sideA, sideB, orders);
}
