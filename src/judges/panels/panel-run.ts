/**
 * A panel run (`quorum score --judge panel:NAME`): every image reviewed by every neuron
 * (layer 1, each from its angle), optionally again in further layers where each neuron
 * sees its own and its neighbours' earlier reviews, then fused across neurons; with
 * escalation, a cheap judge first and the panel only where it is unsure. Every review is
 * a stored call served from the cache on a rerun; a failing neuron is recorded and the
 * fusion goes on without it.
 */
import PQueue from 'p-queue';
import { levelMoments } from '../../aggregate/level-moments.js';
import { describeError, InputError, QuorumError, UsageError } from '../../core/errors.js';
import { collectInputs } from '../../images/index.js';
import type { ImagePart } from '../../core/provider.js';
import { qualityLevels } from '../../prompts/builtin.js';
import { templateText, type PromptTemplate } from '../../prompts/template.js';
import type { StoredAnswer, RetryFailed, RunRecord, Store } from '../../store/store.js';
import { PanelStore, type PanelAgreementRecord, type PanelReviewRecord } from '../../store/panels.js';
import { QUORUM_VERSION } from '../../version.js';
import { ImageRegistry, type RegisteredImage } from '../image-registry.js';
import { aggregateImage, scoreGroupSpec, scoreParams, unscored, type ImageScore, type ScoreSettings } from '../score.js';
import { sampleSlots, type CallGroup, type JudgeSession, type SessionEvent, type SessionOptions } from '../session/session.js';
import { openMember, panelSessions, type PanelJudge, type PanelMember } from './_sessions.js';
import { metaTemplate, neuronTemplate, rolesTemplate, type ShownReview } from './_prompts.js';
import { rolesParams, rolesSpec } from './_roles.js';
import { fuseNeurons } from './fuse.js';
import { DEFAULT_ROLES, failedNeuronText, roleOf, type PanelDefinition } from './schema.js';

export type { PanelMember } from './_sessions.js';

export interface PanelRunOptions {
  store: Store;
  panel: PanelDefinition;
  /** One per `panel.neurons`, same order. */
  members: readonly PanelMember[];
  /** The escalation judge, when the panel has one. */
  escalation?: PanelMember | undefined;
  /** The meta judge (`fusion: meta`). */
  meta?: PanelMember | undefined;
  /** The judge that generates roles per item (`roles: { judge, count }`). */
  roles?: PanelMember | undefined;
  inputs: readonly string[];
  runName: string;
  argv: readonly string[];
  runOptions: Record<string, unknown>;
  /** Total budget in USD, split evenly over the panel's judges (each stops at its share). */
  maxCost?: number | undefined;
  /** Requests in flight per judge. @default 4 */
  concurrency?: number | undefined;
  fresh?: boolean | undefined;
  /** Which stored parse failures are asked again (see `SessionOptions.retryFailed`). */
  retryFailed?: RetryFailed | undefined;
  /** Each judge's events, with the judge's label (`provider:model`); then one per image. */
  onEvent?: ((event: SessionEvent | { type: 'image'; result: PanelImageResult }, judge?: string) => void) | undefined;
  /** Every judge's session as it opens: an interrupt stops them all. */
  onSession?: ((session: JudgeSession) => void) | undefined;
  /** Batch mode (`--batch`): requests are collected here instead of sent (see `SessionOptions.defer`). */
  defer?: SessionOptions['defer'];
  /**
   * Batch mode's collecting pass: whether a sample's answer is still to come from a batch.
   * A review waiting for one is not final, so nothing that depends on it is asked in this
   * pass (the next layer, the panel after the escalation judge, the meta judge, the
   * neurons after the roles judge); the item is taken up again once the batch is recorded.
   */
  awaiting?: ((cacheKey: string) => boolean) | undefined;
  /** Batch mode's serving pass: only stored samples are served, the others are not run for this reason. */
  hold?: string | undefined;
}

/** One neuron's review of one image in one layer. */
export interface NeuronReview {
  layer: number;
  neuron: number;
  role: string;
  judge: string;
  status: ImageScore['status'];
  score: number | null;
  std: number | null;
  samples: number[];
  errors: string[];
  /** Calls of this review: answered, failed, served from the store. */
  calls: { ok: number; failed: number; cached: number };
  /** Level probabilities, best first, of a review by the levels method (the escalation judge's). */
  levels?: Record<string, number> | null | undefined;
}

export interface PanelImageResult extends ImageScore {
  panel: {
    name: string;
    fusion: string;
    /** False when the escalation judge was sure enough and the panel was not called. */
    escalated: boolean;
    /** Neurons of the last layer whose review the verdict used. */
    neuronsUsed: number;
    lower: number | null;
    upper: number | null;
    /** Standard deviation of the neurons' scores of this image. */
    spread: number | null;
    reviews: NeuronReview[];
    /** Neurons that failed, in words, so the verdict says what it was fused from. */
    failedNeurons: string[];
    /** The roles the neurons judged from, in neuron order, and where they came from. */
    roles: string[];
    rolesFrom: 'config' | 'generated' | 'fallback';
    /** `fusion: meta`: the meta judge's verdict (its reasons), or why Thurstone fusion stood in. */
    meta: { status: ImageScore['status']; score: number | null; reasoning: string | null; fallback: string | null } | null;
  };
}

export interface PanelRunResult {
  run: RunRecord;
  results: PanelImageResult[];
  inputErrors: InputError[];
  /** Krippendorff's alpha (interval) across neurons over the run; NaN when undefined. */
  alpha: number;
  meanSpread: number;
  /** Requests and calls per judge label. */
  calls: { ok: number; failed: number; cached: number; requests: number; costUsd: number };
  budgetExceeded: boolean;
}

type Judge = PanelJudge;
/** A review as the run holds it: with its reasons (shown to the next layer) and whether its answer is still to come from a batch. */
type Review = NeuronReview & { reasoning: string | null; waiting: boolean };

/** Runs a panel over images; see the file header. */
export async function runPanel(options: PanelRunOptions): Promise<PanelRunResult> {
  const { store, panel } = options;
  if (options.members.length !== panel.neurons.length) {
    throw new QuorumError(`panel ${panel.name}: ${panel.neurons.length} neurons defined but ${options.members.length} judges opened`);
  }
  const esc = panel.escalation;
  if (esc && esc.maxSpread === undefined && esc.maxEntropy === undefined) {
    throw new UsageError(`panel ${panel.name}: escalation by disagree: true is for pairs (compare, rank); scores need maxSpread or maxEntropy`);
  }
  if (panel.escalation && !options.escalation) throw new QuorumError(`panel ${panel.name}: the escalation judge was not opened`);
  if (panel.meta && !options.meta) throw new QuorumError(`panel ${panel.name}: the meta judge was not opened`);
  const rolesBy = panel.roles !== undefined && !Array.isArray(panel.roles) ? panel.roles : undefined;
  if (rolesBy && !options.roles) throw new QuorumError(`panel ${panel.name}: the roles judge was not opened`);
  const collected = await collectInputs([...options.inputs]);
  if (collected.files.length === 0 && collected.errors.length === 0) throw new QuorumError(`no images found in ${options.inputs.join(', ')}`);

  const { run } = store.openRun({
    name: options.runName,
    command: 'score',
    args: options.argv,
    options: { ...options.runOptions, panel },
    version: QUORUM_VERSION,
    ...(options.fresh ? { fresh: true } : {}),
  });
  const extra = (m: PanelMember | undefined, wanted: unknown) => (m && wanted ? [m] : []);
  const everyone = [
    ...options.members,
    ...extra(options.escalation, panel.escalation),
    ...extra(options.meta, panel.meta),
    ...extra(options.roles, rolesBy),
  ];
  const share = options.maxCost === undefined ? undefined : options.maxCost / everyone.length;
  const open = (m: PanelMember): Judge =>
    openMember(m, {
      store,
      runId: run.id,
      concurrency: options.concurrency,
      maxCost: share,
      retryFailed: options.retryFailed,
      onEvent: options.onEvent,
      onSession: options.onSession,
      defer: options.defer,
      hold: options.hold,
    });
  const neurons = options.members.map(open);
  const cheap = options.escalation && panel.escalation ? open(options.escalation) : undefined;
  const chair = options.meta && panel.meta ? open(options.meta) : undefined;
  const proposer = options.roles && rolesBy ? open(options.roles) : undefined;
  const judges = [...neurons, ...[cheap, chair, proposer].filter((j): j is Judge => j !== undefined)];
  const registered = new Set<string>();
  const register = (t: PromptTemplate) => {
    if (registered.has(t.hash)) return;
    registered.add(t.hash);
    store.putPrompt({ hash: t.hash, id: t.id, version: t.version, kind: t.kind, text: templateText(t) });
  };

  const reviewRows: PanelReviewRecord[] = [];
  /** The rows by item, layer and neuron, so a verdict marks the reviews it used without a scan. */
  const rowAt = new Map<string, PanelReviewRecord>();
  const addRow = (row: PanelReviewRecord) => {
    reviewRows.push(row);
    rowAt.set(rowKey(row.itemKey, row.layer, row.neuron), row);
  };
  const markUsed = (itemKey: string, layer: number, neuron = 0) => {
    const row = rowAt.get(rowKey(itemKey, layer, neuron));
    if (row) row.used = true;
  };
  /** `count` samples of one question about one image: from the store, the rest asked. */
  const ask = async (
    judge: Judge,
    template: PromptTemplate,
    params: Record<string, unknown>,
    count: number,
    image: RegisteredImage,
    spec: (part: ImagePart) => Pick<CallGroup, 'request' | 'parse' | 'reask'>,
  ): Promise<{ calls: StoredAnswer[]; cached: number; waiting: boolean }> => {
    register(template);
    const question = { judgeId: judge.judgeId, promptHash: template.hash, imageHashes: [image.sha256], params };
    const { cached, missing } = judge.session.lookup(sampleSlots({ ...question, count }));
    const calls: StoredAnswer[] = [...cached];
    if (missing.length > 0 && !judge.session.stopping) {
      const group = spec(await image.encode());
      calls.push(...(await judge.session.execute({ ...group, params, slots: missing, promptHash: template.hash, imageHashes: [image.sha256] })));
    }
    const awaiting = options.awaiting;
    return { calls, cached: cached.length, waiting: awaiting !== undefined && missing.some((s) => awaiting(s.cacheKey)) };
  };
  const review = async (
    judge: Judge,
    template: PromptTemplate,
    samples: number,
    image: RegisteredImage,
    path: string,
    where: { layer: number; neuron: number; role: string },
    method: 'sample' | 'levels' | 'report' = 'sample',
  ): Promise<Review> => {
    const settings: ScoreSettings = { template, method, samples, temperature: method === 'levels' ? 0 : panel.temperature };
    const count = method === 'levels' ? 1 : samples;
    const params = scoreParams(judge.provider, settings);
    const { calls, cached, waiting } = await ask(judge, template, params, count, image, (part) => scoreGroupSpec(judge.provider, settings, part));
    const s = aggregateImage(path, image.sha256, settings, calls, count, cached, judge.session.notRunReason());
    addRow({
      runId: run.id,
      itemKey: image.sha256,
      panel: panel.name,
      ...where,
      judgeId: judge.judgeId,
      callIds: calls.map((c) => c.id),
      status: s.status,
      score: s.score,
      used: false,
    });
    return {
      ...where,
      judge: judge.label,
      status: s.status,
      score: s.score,
      std: s.std,
      samples: s.samples,
      errors: s.errors,
      calls: { ok: s.okCalls, failed: s.failedCalls, cached: s.cachedCalls },
      reasoning: s.reasoning,
      waiting,
      ...(method === 'levels' ? { levels: s.levels } : {}),
    };
  };
  /**
   * The item's roles: the panel's list, or one call to the roles judge (stored as the
   * review of layer -1) with the fixed list as the fallback when it fails or does not parse.
   */
  const rolesFor = async (
    image: RegisteredImage,
  ): Promise<{ roles: string[]; from: PanelImageResult['panel']['rolesFrom']; error?: string } | 'waiting'> => {
    const fixed = neurons.map((_, r) => roleOf(panel, r));
    if (!proposer || !rolesBy) return { roles: fixed, from: 'config' };
    const template = rolesTemplate(rolesBy.count);
    const { calls, waiting } = await ask(proposer, template, rolesParams(rolesBy.count), 1, image, (part) => rolesSpec(template, rolesBy.count, part));
    if (waiting) return 'waiting';
    const call = calls[0];
    const generated = call?.status === 'ok' ? (call.parsed as { roles: string[] }).roles : undefined;
    addRow({
      runId: run.id,
      itemKey: image.sha256,
      panel: panel.name,
      layer: -1,
      neuron: 0,
      role: 'roles',
      judgeId: proposer.judgeId,
      callIds: calls.map((c) => c.id),
      status: generated ? 'ok' : call ? 'failed' : 'not-run',
      score: null,
      used: generated !== undefined,
    });
    if (generated) return { roles: neurons.map((_, r) => roleOf(panel, r, generated)), from: 'generated' };
    const why = call ? (call.error ?? call.status) : `not run: ${proposer.session.notRunReason()}`;
    return {
      roles: neurons.map((_, r) => roleOf(panel, r, DEFAULT_ROLES)),
      from: 'fallback',
      error: `roles judge ${proposer.label}: ${why}; the fixed roles were used`,
    };
  };

  type Item = {
    path: string;
    sha256: string;
    cheap?: Review;
    layers: Review[][];
    roles: string[];
    rolesFrom: PanelImageResult['panel']['rolesFrom'];
    notes: string[];
    meta?: Review;
  };
  const items: (Item | { path: string; error: string })[] = new Array(collected.files.length);
  const registry = new ImageRegistry(store, Math.min(...judges.map((j) => j.provider.maxImageSide)));
  const pipeline = new PQueue({ concurrency: Math.max(8, (options.concurrency ?? 4) * 2) });
  const inputErrors: InputError[] = [...collected.errors];

  await Promise.all(
    collected.files.map((file, position) =>
      pipeline.add(async () => {
        let image: RegisteredImage;
        try {
          image = await registry.register(file.path);
        } catch (error) {
          const bad = error instanceof InputError ? error : new InputError(file.path, describeError(error), { cause: error });
          inputErrors.push(bad);
          items[position] = { path: file.path, error: bad.reason };
          return;
        }
        const item: Item = { path: file.path, sha256: image.sha256, layers: [], roles: [], rolesFrom: 'config', notes: [] };
        items[position] = item;
        try {
          if (cheap && panel.escalation) {
            const e = panel.escalation;
            const where = { layer: 0, neuron: 0, role: 'overall quality' };
            item.cheap =
              e.method === 'levels'
                ? await review(cheap, qualityLevels, 1, image, file.path, where, 'levels')
                : await review(cheap, neuronTemplate('overall quality'), e.samples, image, file.path, where);
            if (item.cheap.waiting || isSure(item.cheap, e)) return;
          }
          const roles = await rolesFor(image);
          if (roles === 'waiting') return;
          item.roles = roles.roles;
          item.rolesFrom = roles.from;
          if (roles.error) item.notes.push(roles.error);
          let previous: Review[] = [];
          for (let layer = 1; layer <= panel.layers; layer++) {
            const shown = previous.map((r): ShownReview | undefined =>
              r.score === null ? undefined : { neuron: r.neuron, role: r.role, score: r.score, reasoning: r.reasoning },
            );
            const current = await Promise.all(
              neurons.map((judge, r) => {
                const role = item.roles[r] as string;
                const neighbours = shown.filter(
                  (s): s is ShownReview => s !== undefined && s.neuron !== r && Math.abs(s.neuron - r) <= panel.window,
                );
                const template = neuronTemplate(role, layer, shown[r], neighbours);
                return review(judge, template, panel.samples, image, file.path, { layer, neuron: r, role });
              }),
            );
            item.layers.push(current);
            previous = current;
            if (current.some((r) => r.waiting)) return;
          }
          const usable = previous.filter((r) => r.score !== null);
          if (chair && panel.meta && usable.length >= panel.minNeurons && usable.length > 0) {
            const shown = usable.map((r): ShownReview => ({ neuron: r.neuron, role: r.role, score: r.score as number, reasoning: r.reasoning }));
            const failed = previous.filter((r) => r.score === null).map((r) => `neuron ${r.neuron + 1} (${r.role})`);
            item.meta = await review(chair, metaTemplate(shown, failed), panel.meta.samples, image, file.path, { layer: panel.layers + 1, neuron: 0, role: 'meta' }, 'report');
          }
        } finally {
          registry.release(image.sha256);
        }
      }),
    ),
  );
  const sessions = panelSessions(judges);
  await sessions.finish();

  // Fusion over the images the panel reviewed: the last layer's reviews.
  const reviewed = items.filter((it): it is Item => it !== undefined && 'sha256' in it && it.layers.length > 0);
  const reviewedAt = new Map(reviewed.map((it, i) => [it, i]));
  const last = (it: Item) => it.layers[it.layers.length - 1] as NeuronReview[];
  const fused = fuseNeurons(
    neurons.map((_, r) => reviewed.map((it) => (last(it)[r]?.score === null ? null : (last(it)[r]?.samples ?? null)))),
    panel,
  );

  const results: PanelImageResult[] = [];
  const notRun = () => judges.map((j) => j.session).find((s) => s.stopping)?.notRunReason() ?? 'not reached';
  items.forEach((it, position) => {
    const path = collected.files[position]?.path ?? '';
    if (it === undefined) {
      results.push(panelResult(unscored(path, null, 'sample'), panel, { status: 'not-run', errors: [`not run: ${notRun()}`] }));
      return;
    }
    if (!('sha256' in it)) {
      results.push(panelResult(unscored(path, null, 'sample'), panel, { status: 'error', errors: [it.error] }));
      return;
    }
    if (it.layers.length === 0 && !it.cheap) {
      // A collecting pass of --batch: the neurons wait for the roles judge's answer in a batch.
      results.push(panelResult(unscored(path, it.sha256, 'sample'), panel, { status: 'not-run', errors: ['not run: the roles are still to come from a batch'] }));
      return;
    }
    const reviews = [...(it.cheap ? [it.cheap] : []), ...it.layers.flat(), ...(it.meta ? [it.meta] : [])].map(
      ({ reasoning: _r, waiting: _w, ...r }): NeuronReview => r,
    );
    if (it.layers.length === 0 && it.cheap) {
      // The escalation judge was sure: its verdict stands.
      markUsed(it.sha256, 0);
      results.push(
        panelResult(unscored(path, it.sha256, 'sample'), panel, {
          status: it.cheap.status,
          score: it.cheap.score,
          std: it.cheap.std,
          samples: it.cheap.samples,
          errors: it.cheap.errors,
          escalated: false,
          neuronsUsed: 0,
          reviews,
          roles: [],
        }),
      );
      return;
    }
    const final = last(it);
    const failedNeurons = final.filter((r) => r.score === null).map(failedNeuronText);
    const used = final.filter((r) => r.score !== null);
    const i = reviewedAt.get(it) as number;
    const thurstone = fused.score[i] ?? null;
    for (const r of used) markUsed(it.sha256, r.layer, r.neuron);
    // fusion: meta: the meta judge's verdict where it answered; Thurstone fusion stands in (and says so).
    let meta: PanelImageResult['panel']['meta'] = null;
    if (panel.fusion === 'meta' && thurstone !== null) {
      const m = it.meta;
      const answered = m !== undefined && m.score !== null;
      const fallback = answered
        ? null
        : `meta judge ${chair?.label ?? ''}: ${m ? (m.errors[0] ?? m.status) : 'not asked'}; Thurstone fusion used instead`;
      meta = { status: m?.status ?? 'not-run', score: m?.score ?? null, reasoning: m?.reasoning ?? null, fallback };
      if (answered) markUsed(it.sha256, panel.layers + 1);
    }
    const score = meta?.score ?? thurstone;
    const errors = [
      ...it.notes,
      ...failedNeurons,
      ...(meta?.fallback ? [meta.fallback] : []),
      ...(score !== null ? [] : [`only ${used.length} of ${final.length} neurons answered (at least ${panel.minNeurons} needed)`]),
    ];
    results.push(
      panelResult(unscored(path, it.sha256, 'sample'), panel, {
        status: score !== null ? (failedNeurons.length ? 'partial' : 'ok') : used.length === 0 && final.every((r) => r.status === 'not-run') ? 'not-run' : 'failed',
        score,
        samples: used.map((r) => r.score as number),
        errors,
        ...(meta?.score != null ? { reasoning: meta.reasoning } : {}),
        escalated: true,
        neuronsUsed: used.length,
        // The bootstrap interval is Thurstone fusion's; a meta verdict has none.
        lower: meta?.score != null ? null : (fused.lower[i] ?? null),
        upper: meta?.score != null ? null : (fused.upper[i] ?? null),
        spread: fused.spread[i] ?? null,
        reviews,
        failedNeurons,
        roles: it.roles,
        rolesFrom: it.rolesFrom,
        meta,
      }),
    );
  });
  const agreementRows: PanelAgreementRecord[] = [
    { runId: run.id, itemKey: '', alpha: fused.alpha, spread: fused.meanSpread, neurons: neurons.length },
    ...reviewed.map((it, i) => ({
      runId: run.id,
      itemKey: it.sha256,
      alpha: null,
      spread: fused.spread[i] ?? null,
      neurons: last(it).filter((r) => r.score !== null).length,
    })),
  ];
  new PanelStore(store).put(reviewRows, agreementRows);
  store.putResults(
    results.map((r, position) => ({ runId: run.id, kind: 'image', itemKey: r.path, position, status: r.status, score: r.score, value: r })),
  );
  const stopped = judges.find((j) => j.session.stopping && j.session.fatal === undefined && !j.session.budgetExceeded);
  store.setRunStatus(run.id, stopped ? 'interrupted' : 'done');
  for (const r of results) options.onEvent?.({ type: 'image', result: r });
  const { ok, failed, cached, requests, costUsd } = sessions.counts();
  return {
    run,
    results,
    inputErrors,
    alpha: fused.alpha,
    meanSpread: fused.meanSpread,
    calls: { ok, failed, cached, requests, costUsd },
    budgetExceeded: sessions.budgetExceeded(),
  };
}

/** Whether the escalation judge is sure enough that the panel is not called. */
function isSure(
  cheap: Pick<NeuronReview, 'status' | 'std' | 'levels'>,
  e: NonNullable<PanelDefinition['escalation']>,
): boolean {
  if (cheap.status === 'failed' || cheap.status === 'not-run') return false;
  if (e.maxSpread !== undefined && (cheap.std === null || cheap.std > e.maxSpread)) return false;
  if (e.maxEntropy !== undefined && (!cheap.levels || entropyBits(cheap.levels) > e.maxEntropy)) return false;
  return true;
}

/** Entropy of the level probabilities in bits: 0 when sure, log2(5) = 2.32 when uniform. */
export const entropyBits = (levels: Record<string, number>): number => levelMoments(Object.values(levels)).entropy / Math.LN2;

const rowKey = (itemKey: string, layer: number, neuron: number): string => `${itemKey}/${layer}/${neuron}`;

function panelResult(
  base: ImageScore,
  panel: PanelDefinition,
  fields: Partial<ImageScore> & Partial<PanelImageResult['panel']>,
): PanelImageResult {
  const { escalated, neuronsUsed, lower, upper, spread, reviews, failedNeurons, roles, rolesFrom, meta, ...score } = fields;
  const sum = (key: keyof NeuronReview['calls']) => (reviews ?? []).reduce((n, r) => n + r.calls[key], 0);
  return {
    ...base,
    okCalls: sum('ok'),
    failedCalls: sum('failed'),
    cachedCalls: sum('cached'),
    ...score,
    panel: {
      name: panel.name,
      fusion: panel.fusion,
      escalated: escalated ?? true,
      neuronsUsed: neuronsUsed ?? 0,
      lower: lower ?? null,
      upper: upper ?? null,
      spread: spread ?? null,
      reviews: reviews ?? [],
      failedNeurons: failedNeurons ?? [],
      roles: roles ?? [],
      rolesFrom: rolesFrom ?? 'config',
      meta: meta ?? null,
    },
  };
}
