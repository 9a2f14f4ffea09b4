/**
 * `quorum fuse <run>... --out-run NAME`: stored score runs of one image set fused as a
 * panel whose neurons are the runs (judges run last month, other prompts, other models).
 * Images are matched by content (sha256); an image some runs lack or failed on is fused
 * from the rest. No judge is called; the fused run is stored like a panel run, so `show`
 * and `report` read it back.
 */
import { QuorumError, UsageError } from '../../core/errors.js';
import { PanelStore, type PanelAgreementRecord } from '../../store/panels.js';
import type { RunRecord, Store } from '../../store/store.js';
import { QUORUM_VERSION } from '../../version.js';
import type { ImageScore } from '../score.js';
import { fuseNeurons, type FusionSettings } from './fuse.js';
import { failedNeuronText } from './schema.js';
import type { NeuronReview, PanelImageResult } from './panel-run.js';

export interface FuseRunsOptions {
  store: Store;
  /** Names or ids of stored score runs: the neurons, in this order. */
  runs: readonly string[];
  outRun: string;
  settings: FusionSettings;
  argv: readonly string[];
  fresh?: boolean | undefined;
}

export interface FuseRunsResult {
  run: RunRecord;
  results: PanelImageResult[];
  alpha: number;
  meanSpread: number;
  /** The fused runs, as neurons. */
  neurons: { name: string; judge: string; images: number }[];
}

/** Levels in order from best, as the levels method stores them, and the score of each. */
const LEVEL_SCORES: Record<string, number> = { excellent: 5, good: 4, fair: 3, poor: 2, bad: 1 };
/** Pseudo-draws a level distribution is read as (its quantiles), so it enters like K samples. */
const LEVEL_DRAWS = 20;

/**
 * The sampled scores of one stored image: its samples (sample method), else its level
 * distribution read at `LEVEL_DRAWS` evenly spaced quantiles (same mean and spread, up
 * to rounding), else its score alone; null when it has no score.
 */
export function samplesOf(image: ImageScore): number[] | null {
  if (image.score === null || (image.status !== 'ok' && image.status !== 'partial')) return null;
  if (image.samples.length > 0) return image.samples;
  if (image.levels) {
    const levels = Object.entries(image.levels).flatMap(([name, p]) => (LEVEL_SCORES[name] === undefined ? [] : [{ score: LEVEL_SCORES[name], p }]));
    levels.sort((a, b) => a.score - b.score);
    const draws: number[] = [];
    for (let k = 0; k < LEVEL_DRAWS; k++) {
      const q = (k + 0.5) / LEVEL_DRAWS;
      let cumulative = 0;
      const at = levels.find((l) => (cumulative += l.p) >= q) ?? levels[levels.length - 1];
      if (at) draws.push(at.score);
    }
    if (draws.length) return draws;
  }
  return [image.score];
}

export function fuseRuns(options: FuseRunsOptions): FuseRunsResult {
  const { store, settings } = options;
  if (options.runs.length < 2) throw new UsageError(`Expected at least 2 runs to fuse, got ${options.runs.length}`);
  const sources = options.runs.map((name) => {
    const run = store.getRun(name);
    if (!run) throw new UsageError(`No run \`${name}\` in ${store.file}; \`quorum runs\` lists them`);
    if (run.command !== 'score' && run.command !== 'fuse') throw new UsageError(`Run \`${run.name}\` is a ${run.command} run; fuse takes score runs`);
    const images = store.results(run.id, 'image').map((r) => r.value as ImageScore);
    const judge = typeof run.options['judge'] === 'string' ? run.options['judge'] : run.name;
    return { run, images, judge };
  });
  if (sources.some((s) => s.run.name === options.outRun)) throw new UsageError(`--out-run ${options.outRun} is one of the runs to fuse; give another name`);

  // Items: every image any run stored, by content, in the first run's order, then the next's.
  const items: { sha256: string; path: string }[] = [];
  const seen = new Map<string, number>();
  for (const s of sources) {
    for (const image of s.images) {
      if (image.sha256 === null || seen.has(image.sha256) || image.duplicateOf) continue;
      seen.set(image.sha256, items.length);
      items.push({ sha256: image.sha256, path: image.path });
    }
  }
  if (items.length === 0) throw new QuorumError(`the runs ${options.runs.join(', ')} hold no scored images`);
  const byItem = sources.map((s) => {
    const row = new Array<ImageScore | undefined>(items.length).fill(undefined);
    for (const image of s.images) if (image.sha256 !== null && !image.duplicateOf) row[seen.get(image.sha256) as number] = image;
    return row;
  });
  const samples = byItem.map((row) => row.map((image) => (image ? samplesOf(image) : null)));
  const fused = fuseNeurons(samples, settings);

  const { run } = store.openRun({
    name: options.outRun,
    command: 'fuse',
    args: options.argv,
    options: { judge: `fuse:${sources.map((s) => s.run.name).join('+')}`, runs: sources.map((s) => s.run.id), ...settings },
    version: QUORUM_VERSION,
    ...(options.fresh ? { fresh: true } : {}),
  });
  const results = items.map((item, i): PanelImageResult => {
    const reviews = sources.map((s, r): NeuronReview => {
      const image = byItem[r]?.[i];
      const drawn = samples[r]?.[i] ?? null;
      return {
        layer: 1,
        neuron: r,
        role: s.run.name,
        judge: s.judge,
        status: image ? image.status : 'not-run',
        score: drawn ? image?.score ?? null : null,
        std: image?.std ?? null,
        samples: drawn ?? [],
        errors: image ? image.errors : [`not in run ${s.run.name}`],
        calls: { ok: image?.okCalls ?? 0, failed: image?.failedCalls ?? 0, cached: 0 },
      };
    });
    const failedNeurons = reviews.filter((v) => v.score === null).map(failedNeuronText);
    const score = fused.score[i] ?? null;
    const used = reviews.length - failedNeurons.length;
    return {
      path: item.path,
      sha256: item.sha256,
      status: score === null ? 'failed' : failedNeurons.length ? 'partial' : 'ok',
      method: 'sample',
      score,
      std: null,
      samples: reviews.flatMap((v) => (v.score === null ? [] : [v.score])),
      levels: null,
      coverage: null,
      reasoning: null,
      distortions: null,
      okCalls: reviews.reduce((n, v) => n + v.calls.ok, 0),
      failedCalls: reviews.reduce((n, v) => n + v.calls.failed, 0),
      cachedCalls: 0,
      errors: [...failedNeurons, ...(score === null ? [`only ${used} of ${reviews.length} runs scored it (at least ${settings.minNeurons} needed)`] : [])],
      panel: {
        name: options.outRun,
        fusion: settings.fusion,
        escalated: true,
        neuronsUsed: used,
        lower: fused.lower[i] ?? null,
        upper: fused.upper[i] ?? null,
        spread: fused.spread[i] ?? null,
        reviews,
        failedNeurons,
        // A stored run's neuron is the run: its role is its name (see `reviews`).
        roles: reviews.map((v) => v.role),
        rolesFrom: 'config',
        meta: null,
      },
    };
  });
  const agreement: PanelAgreementRecord[] = [
    { runId: run.id, itemKey: '', alpha: fused.alpha, spread: fused.meanSpread, neurons: sources.length },
    ...items.map((item, i) => ({ runId: run.id, itemKey: item.sha256, alpha: null, spread: fused.spread[i] ?? null, neurons: fused.answered[i] ?? 0 })),
  ];
  new PanelStore(store).put([], agreement);
  store.putResults(results.map((r, position) => ({ runId: run.id, kind: 'image', itemKey: r.path, position, status: r.status, score: r.score, value: r })));
  store.setRunStatus(run.id, 'done');
  return {
    run,
    results,
    alpha: fused.alpha,
    meanSpread: fused.meanSpread,
    neurons: sources.map((s) => ({ name: s.run.name, judge: s.judge, images: s.images.length })),
  };
}
