import { eachLimited } from '../core/each-limited.js';
import { hashObject } from '../core/hash.js';
import { describeError, InputError, QuorumError } from '../core/errors.js';
import { collectInputs } from '../images/index.js';
import { ImageRegistry, type RegisteredImage } from './image-registry.js';
import type { RunRecord, StoredItem } from '../store/store.js';
import { scoreImage, scoreParams, unscored, type ImageScore, type ScoreSettings } from './score.js';
import { finishJudgeRun, startJudgeRun, type JudgeRunOptions } from './run.js';
import { prepareAnchors, scoreWithAnchors, type AnchorContext } from './anchors.js';
import type { PairSettings } from './compare.js';
import type { JudgeSession, SessionEvent } from './session/session.js';
import { inShard, type Shard } from './shard.js';

export interface ScoreRunOptions extends Omit<JudgeRunOptions, 'templates' | 'command' | 'onEvent'> {
  /** Files and folders to score. */
  inputs: readonly string[];
  settings: ScoreSettings;
  /** Judge only the images whose content hash falls in this shard; the others are left to other machines. */
  shard?: Shard | undefined;
  onEvent?: (event: ScoreRunEvent) => void;
}

export type ScoreRunEvent =
  | SessionEvent
  | { type: 'plan'; images: number; calls: number; skipped: number; inputErrors: number }
  | { type: 'unplanned'; calls: number }
  /** Samples served from the store outside any image (the anchors' own pairs). */
  | { type: 'cached'; calls: number }
  | { type: 'image'; result: ImageScore };

export interface ScoreRunResult {
  run: RunRecord;
  resumed: boolean;
  /** With `fresh`: the name the old run of that name is kept under. */
  renamed?: string | undefined;
  /**
   * One result per input file, in walk order, then one per input path that could not be
   * read: scored ones, `error` for unreadable files, `not-run` for files never reached.
   */
  results: ImageScore[];
  /** Inputs that should have been images: files found plus paths that could not be read (those of other shards excluded). */
  planned: number;
  /** With `shard`: images left to other shards (absent from `results`). */
  otherShards: number;
  skipped: { path: string; reason: string }[];
  inputErrors: InputError[];
  counts: JudgeSession['counts'];
  budgetExceeded: boolean;
  interrupted: boolean;
  /** The error that stopped the run, when one did (bad key, unknown model, unreachable server). */
  fatal: string | undefined;
}

/**
 * `quorum score` without the terminal: walks the inputs, hashes every file, serves cached
 * samples, asks the judge for the rest and stores each image's result as it completes.
 * Bad files are listed and skipped; the run goes on.
 */
export async function runScore(options: ScoreRunOptions): Promise<ScoreRunResult> {
  const { store, provider, settings } = options;
  const collected = await collectInputs([...options.inputs]);
  if (collected.files.length === 0 && collected.errors.length === 0) {
    const skipped = collected.skipped.length;
    throw new QuorumError(
      `no images found in ${options.inputs.join(', ')}${skipped ? ` (skipped ${skipped} non-image file${skipped === 1 ? '' : 's'})` : ''}`,
    );
  }
  const judgeRun = startJudgeRun({ ...options, templates: [settings.template], command: 'score' });
  const { run, resumed, renamed, judgeId, session } = judgeRun;

  const scoreByAnchors = async (
    path: string,
    image: RegisteredImage,
    context: AnchorContext,
    pair: PairSettings,
  ): Promise<ImageScore> => {
    const r = await scoreWithAnchors({ context, image, session, provider, judgeId, settings: pair });
    const orders = r.pairs.flatMap((p) => p.orders);
    const okCalls = orders.reduce((s, o) => s + o.ok, 0);
    return {
      ...unscored(path, image.sha256, 'anchors'),
      status: r.score === null ? 'failed' : r.errors.length ? 'partial' : 'ok',
      score: r.score,
      okCalls,
      failedCalls: orders.reduce((s, o) => s + o.failed, 0),
      cachedCalls: orders.reduce((s, o) => s + o.cached, 0),
      errors: r.errors,
      anchorPreferences: r.preferences,
    };
  };

  const inputErrors: InputError[] = [...collected.errors];
  const perImage = settings.method === 'levels' ? 1 : settings.samples;
  const anchors = settings.method === 'anchors' ? (settings.anchors?.list.length ?? 0) : 0;
  const perOrder = settings.anchors?.pair.template.kind === 'levels' ? 1 : (settings.anchors?.pair.samples ?? 0);
  // Each image meets every anchor in both orders; the anchors' own matrix (every anchor
  // pair, both orders) is judged once per run.
  const anchorCalls = anchors * 2 * perOrder;
  const anchorPairCalls = ((anchors * (anchors - 1)) / 2) * 2 * perOrder;
  const perImageCalls = settings.method === 'anchors' ? anchorCalls : perImage;
  options.onEvent?.({
    type: 'plan',
    images: collected.files.length,
    calls: collected.files.length * perImageCalls + anchorPairCalls,
    skipped: collected.skipped.length,
    inputErrors: inputErrors.length,
  });

  const images = new ImageRegistry(store, provider.maxImageSide);
  const anchored = settings.method === 'anchors' ? settings.anchors : undefined;
  const anchorContext = anchored
    ? await prepareAnchors({ anchors: anchored.list, registry: images, session, provider, judgeId, settings: anchored.pair })
    : undefined;
  if (anchorContext) {
    options.onEvent?.({ type: 'cached', calls: anchorContext.pairs.reduce((n, p) => n + p.orders.reduce((m, o) => m + o.cached, 0), 0) });
  }
  /**
   * What an image's samples are asked with, beside the image: judge, prompt, sampling
   * parameters (seed included) and count. Every result row records it (`basis`).
   */
  const basis = hashObject({ judgeId, promptHash: settings.template.hash, params: scoreParams(provider, settings), samples: perImage }).slice(0, 16);
  /**
   * A rerun's shortcut: an image whose stored result this version of Quorum computed
   * from every sample answered, for the same file content and the same basis (so the same
   * sample keys), is kept as stored. Scoring it again would find the same answers in the
   * store and give the same result; only its count of cached samples changes. Anything
   * else (a failed or partial image, a changed file, another seed or judge, a result of
   * another version, a duplicate) is scored again, from the store or the judge.
   * `rewrite`: the row needs writing (its cached count or its position changed).
   */
  const keptResult = (
    item: StoredItem | undefined,
    path: string,
    sha: string,
    position: number,
  ): { result: ImageScore; rewrite: boolean } | undefined => {
    if (item === undefined || item.basis !== basis || item.status !== 'ok' || item.sha256 !== sha) return undefined;
    const stored = store.storedValue(run.id, 'image', path) as ImageScore | undefined;
    if (stored === undefined || stored.okCalls !== perImage || stored.failedCalls !== 0 || stored.errors.length > 0 || stored.duplicateOf !== undefined) {
      return undefined;
    }
    session.countServed(perImage);
    if (stored.cachedCalls === perImage) return { result: stored, rewrite: item.position !== position };
    return { result: { ...stored, cachedCalls: perImage }, rewrite: true };
  };
  /** Positions of images that belong to other shards. */
  const elsewhere = new Set<number>();
  const firstPathOf = new Map<string, string>();
  const scoring = new Map<string, Promise<ImageScore>>();
  const results: (ImageScore | undefined)[] = new Array(collected.files.length);
  // Twice as many images in flight as requests keeps the judge queue fed.
  await eachLimited(collected.files, Math.max(8, (options.concurrency ?? 4) * 2), async (file, position) => {
    if (session.stopping) return;
    let image: RegisteredImage;
    // What the run's stored result for this path says (content hash, status, basis), if it has one.
    const item = store.storedItem(run.id, 'image', file.path);
    try {
      image = await images.register(file.path, item?.sha256);
    } catch (error) {
      const bad = error instanceof InputError ? error : new InputError(file.path, describeError(error), { cause: error });
      inputErrors.push(bad);
      const result: ImageScore = { ...unscored(file.path, null, settings.method), status: 'error', errors: [bad.reason] };
      results[position] = result;
      store.putResults([{ runId: run.id, kind: 'image', itemKey: file.path, position, status: 'error', score: null, value: result }], {
        deferred: true,
      });
      options.onEvent?.({ type: 'unplanned', calls: perImageCalls });
      return;
    }
    const sha = image.sha256;
    if (options.shard && !inShard(sha, options.shard)) {
      images.release(sha);
      elsewhere.add(position);
      options.onEvent?.({ type: 'unplanned', calls: perImageCalls });
      return;
    }
    const first = firstPathOf.get(sha);
    if (first === undefined) firstPathOf.set(sha, file.path);
    else options.onEvent?.({ type: 'unplanned', calls: perImageCalls });
    const kept = first === undefined && !anchorContext ? keptResult(item, file.path, sha, position) : undefined;
    let result: ImageScore;
    if (kept) result = kept.result;
    else {
      let pending = scoring.get(sha);
      if (!pending) {
        pending = (
          anchorContext && anchored
            ? scoreByAnchors(file.path, image, anchorContext, anchored.pair)
            : scoreImage({
                session,
                provider,
                judgeId,
                settings,
                path: file.path,
                sha256: sha,
                encode: image.encode,
                notRun: () => session.notRunReason(),
              })
        ).catch(
          (error: unknown): ImageScore => ({ ...unscored(file.path, sha, settings.method), errors: [describeError(error)] }),
        );
        scoring.set(sha, pending);
      }
      const scored = await pending;
      result = first === undefined ? scored : { ...scored, path: file.path, duplicateOf: first };
    }
    images.release(sha);
    results[position] = result;
    // Results are re-aggregated from calls (or kept) on a rerun: no commit of their own, and a
    // kept row that did not change is not even compared.
    if (!kept || kept.rewrite) {
      store.putResults(
        [{ runId: run.id, kind: 'image', itemKey: file.path, position, status: result.status, score: result.score, value: result, basis }],
        { deferred: true },
      );
    }
    options.onEvent?.({ type: 'image', result });
  });
  const { interrupted, fatal } = await finishJudgeRun(store, judgeRun);
  // Every input is accounted for: files never reached, and paths that could not be read.
  const all: ImageScore[] = [];
  // Positions are the walk order over every file, the same on every shard.
  const unreached: [ImageScore, number][] = [];
  collected.files.forEach((file, position) => {
    if (elsewhere.has(position)) return;
    const r = results[position] ?? { ...unscored(file.path, null, settings.method), status: 'not-run', errors: [`not run: ${session.notRunReason()}`] };
    all.push(r);
    if (results[position] === undefined) unreached.push([r, position]);
  });
  collected.errors.forEach((e, j) => {
    const r: ImageScore = { ...unscored(e.path, null, settings.method), status: 'error', errors: [e.reason] };
    all.push(r);
    unreached.push([r, collected.files.length + j]);
  });
  store.putResults(
    unreached.map(([r, position]) => ({ runId: run.id, kind: 'image', itemKey: r.path, position, status: r.status, score: null, value: r })),
  );
  return {
    run,
    resumed,
    renamed,
    fatal,
    results: all,
    planned: collected.files.length - elsewhere.size + collected.errors.length,
    otherShards: elsewhere.size,
    skipped: collected.skipped,
    inputErrors,
    counts: session.counts,
    budgetExceeded: session.budgetExceeded,
    interrupted,
  };
}
