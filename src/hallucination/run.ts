/**
 * `quorum hallucination` without the terminal: matches triplets, checks them, measures
 * fidelity, judges every tile through one session, stores each item, its findings and
 * the summary. Every SR output is accounted for: ok, failed, error (with the reason) or
 * not-run.
 */
import PQueue from 'p-queue';
import { describeError, InputError } from '../core/errors.js';
import { fidelityReport, type FidelityReport } from '../images/fidelity/index.js';
import { decodeRgb, type RgbImage } from '../images/index.js';
import { ImageRegistry } from '../judges/image-registry.js';
import { finishJudgeRun, startJudgeRun, type JudgeRunOptions } from '../judges/run.js';
import type { SessionEvent } from '../judges/session/session.js';
import type { RunRecord } from '../store/store.js';
import { judgedOutcome, judgeTriplet, type HallucinationSettings, type TileResult } from './judge.js';
import type { PanelHallucinationInfo, TripletJudgingFactory } from './panel.js';
import { summariseSystems, type SystemSummary } from './summary.js';
import { planTiles, type Finding, type TileMode } from './tiles.js';
import { inferScale, matchTriplets, type Triplet } from './triplets.js';

export interface HallucinationItem {
  /** `system/key`: unique within the run. */
  id: string;
  system: string;
  key: string;
  sr: string;
  lr: string | null;
  gt: string | null;
  /** `ok`: scored; `failed`: the judge was asked and some tile has no answer; `error`: a bad triplet; `not-run`: never reached. */
  status: 'ok' | 'failed' | 'error' | 'not-run';
  errors: string[];
  width: number | null;
  height: number | null;
  scale: number | null;
  /** Worst-tile hallucination score 0-4 (mean over complete samples): the image's score. */
  score: number | null;
  /** Area-weighted mean of the tile scores (mean over complete samples). */
  areaScore: number | null;
  /** Standard deviation of the per-sample scores (K >= 2). */
  spread: number | null;
  tiles: TileResult[];
  /** Hallucinated elements in SR pixel coordinates, merged across tiles and samples. */
  findings: Finding[];
  reasoning: string | null;
  fidelity: FidelityReport | null;
  /** With a panel judge: each neuron's verdict, the neurons used and those that failed. */
  panel?: PanelHallucinationInfo | undefined;
}

export interface HallucinationRunOptions extends Omit<JudgeRunOptions, 'templates' | 'command' | 'onEvent'> {
  lr: string;
  srs: readonly string[];
  gt?: string | undefined;
  tiles: TileMode;
  settings: HallucinationSettings;
  /** Seed of the bootstrap intervals. @default 0 */
  seed?: number | undefined;
  /** A panel (`panelTripletJudging`) judges the tiles in place of the run's one judge, which then makes no call. */
  judging?: TripletJudgingFactory | undefined;
  onEvent?: (event: SessionEvent | { type: 'plan'; calls: number } | { type: 'unplanned'; calls: number } | { type: 'cached'; calls: number }) => void;
}

export interface HallucinationRunResult {
  run: RunRecord;
  resumed: boolean;
  renamed?: string | undefined;
  fatal: string | undefined;
  items: HallucinationItem[];
  systems: SystemSummary[];
  unmatched: { path: string; reason: string }[];
  inputErrors: InputError[];
  counts: { requests: number; cached: number; rejected: number };
  interrupted: boolean;
  budgetExceeded: boolean;
}

function blank(t: Triplet, system: string, status: HallucinationItem['status'], error: string): HallucinationItem {
  return {
    id: `${system}/${t.key}`,
    system,
    key: t.key,
    sr: t.sr,
    lr: t.lr ?? null,
    gt: t.gt ?? null,
    status,
    errors: [error],
    width: null,
    height: null,
    scale: null,
    score: null,
    areaScore: null,
    spread: null,
    tiles: [],
    findings: [],
    reasoning: null,
    fidelity: null,
  };
}

/** What is wrong with a triplet before any pixel is read: a missing LR or GT. */
export function missingPart(t: Triplet, lrDir: string, gtDir: string | undefined): string | undefined {
  if (t.lr === undefined) return `${t.sr}: no LR input \`${t.key}\` in ${lrDir}`;
  if (gtDir !== undefined && t.gt === undefined) return `${t.sr}: no ground truth \`${t.key}\` in ${gtDir}`;
  return undefined;
}

export async function runHallucination(options: HallucinationRunOptions): Promise<HallucinationRunResult> {
  const { store, provider, settings } = options;
  const matched = await matchTriplets(options.lr, options.srs, options.gt);
  const judgeRun = startJudgeRun({ ...options, templates: [settings.template], command: 'hallucination' });
  const { run, resumed, renamed, judgeId, session } = judgeRun;
  const judging = options.judging?.(store, run.id);
  const maxImageSide = judging?.maxImageSide ?? provider.maxImageSide;
  const width = judging?.width ?? 1;
  const registry = new ImageRegistry(store, maxImageSide);
  const inputErrors: InputError[] = [...matched.errors];
  const items: (HallucinationItem | undefined)[] = new Array(matched.triplets.length);
  // Calls are planned per item once its size is known; an estimate of one tile each first.
  options.onEvent?.({ type: 'plan', calls: matched.triplets.length * settings.samples * width });
  const pipeline = new PQueue({ concurrency: Math.max(2, options.concurrency ?? 4) });
  const save = (item: HallucinationItem, position: number) => {
    items[position] = item;
    store.putResults([{ runId: run.id, kind: 'hallucination', itemKey: item.id, position, status: item.status, score: item.score, value: item }], { deferred: true });
    store.putFindings(run.id, item.id, item.findings);
  };
  await Promise.all(
    matched.triplets.map((t, position) =>
      pipeline.add(async () => {
        const system = matched.systems[t.system] as string;
        const fail = (reason: string, error?: unknown) => {
          inputErrors.push(error instanceof InputError ? error : new InputError(t.sr, reason, { cause: error }));
          options.onEvent?.({ type: 'unplanned', calls: settings.samples * width });
          save(blank(t, system, 'error', reason), position);
        };
        const missing = missingPart(t, options.lr, options.gt);
        if (missing) return fail(missing);
        if (session.stopping) return;
        let pixels: { sr: RgbImage & { sha256: string }; lr: RgbImage & { sha256: string }; gt?: (RgbImage & { sha256: string }) | undefined };
        try {
          const paths = [t.sr, t.lr as string, ...(t.gt ? [t.gt] : [])];
          const decoded = await Promise.all(
            paths.map(async (p) => {
              const registered = await registry.register(p);
              return { ...(await decodeRgb(p)), sha256: registered.sha256 };
            }),
          );
          pixels = { sr: decoded[0]!, lr: decoded[1]!, gt: decoded[2] };
        } catch (error) {
          return fail(error instanceof InputError ? error.message : `${t.sr}: ${describeError(error)}`, error);
        }
        const scale = inferScale(pixels.sr, pixels.lr, pixels.gt);
        if (!scale.ok) return fail(`${t.sr}: ${scale.reason}`);
        let fidelity: FidelityReport | null = null;
        const errors: string[] = [];
        try {
          fidelity = fidelityReport({ sr: pixels.sr, lr: pixels.lr, gt: pixels.gt, scale: scale.scale });
        } catch (error) {
          errors.push(`fidelity not measured: ${describeError(error)}`);
        }
        const tiles = planTiles(pixels.sr.width, pixels.sr.height, options.tiles, maxImageSide);
        options.onEvent?.({ type: 'plan', calls: (tiles.length - 1) * settings.samples * width });
        const byPanel = judging ? await judging.judge(tiles, pixels) : undefined;
        const judged = byPanel?.judged ?? (await judgeTriplet({ session, provider, judgeId, settings, tiles, pixels }));
        const cached = judged.tiles.reduce((n, r) => n + r.cached, 0);
        if (cached) options.onEvent?.({ type: 'cached', calls: cached });
        const { status, errors: judgeErrors } = judgedOutcome(judged, session);
        save(
          {
            ...blank(t, system, status, ''),
            errors: [
              ...errors,
              ...(byPanel?.panel.errors ?? []),
              ...judgeErrors,
            ],
            width: pixels.sr.width,
            height: pixels.sr.height,
            scale: scale.scale,
            score: status === 'ok' ? judged.worst : null,
            areaScore: status === 'ok' ? judged.areaMean : null,
            spread: status === 'ok' ? judged.spread : null,
            tiles: judged.tiles,
            findings: judged.findings,
            reasoning: judged.reasoning,
            fidelity,
            ...(byPanel ? { panel: byPanel.panel } : {}),
          },
          position,
        );
      }),
    ),
  );
  await judging?.finish();
  const { interrupted, fatal } = await finishJudgeRun(store, judgeRun);
  const done = matched.triplets.map((t, position) => {
    const item = items[position];
    if (item) return item;
    const notRun = blank(t, matched.systems[t.system] as string, 'not-run', `not run: ${session.notRunReason()}`);
    save(notRun, position);
    return notRun;
  });
  store.flush();
  const systems = summariseSystems(matched.systems, options.srs, done, { seed: options.seed ?? 0 });
  store.putResults([{ runId: run.id, kind: 'summary', itemKey: 'hallucination', position: 0, status: 'ok', score: null, value: { systems, unmatched: matched.unmatched } }]);
  return {
    run,
    resumed,
    renamed,
    fatal,
    items: done,
    systems,
    unmatched: matched.unmatched,
    inputErrors,
    counts: judging?.counts() ?? session.counts,
    interrupted,
    budgetExceeded: judging?.budgetExceeded() ?? session.budgetExceeded,
  };
}
