import PQueue from 'p-queue';
import { describeError, InputError } from '../core/errors.js';
import { hashObject, sha256 } from '../core/hash.js';
import type { ImagePart, Provider } from '../core/provider.js';
import { collectInputs, encodeForJudge, loadImage, readImageFile, type ImageSource } from '../images/index.js';
import { templateText } from '../prompts/template.js';
import type { RunRecord, Store } from '../store/store.js';
import { QUORUM_VERSION } from '../version.js';
import type { Price } from './prices.js';
import type { RetryPolicy } from './retry.js';
import { aggregateImage, scoreImage, type ImageScore, type ScoreSettings } from './score.js';
import { JudgeSession, type SessionEvent } from './session.js';

export interface ScoreRunOptions {
  store: Store;
  provider: Provider;
  /** Files and folders to score. */
  inputs: readonly string[];
  settings: ScoreSettings;
  /** Run name; the same name resumes the same run. */
  runName: string;
  /** The command line, stored with the run. */
  argv: readonly string[];
  /** Options stored with the run (never secrets). */
  runOptions: Record<string, unknown>;
  price: Price | undefined;
  concurrency?: number | undefined;
  rpm?: number | undefined;
  maxCost?: number | undefined;
  retry?: RetryPolicy | undefined;
  onEvent?: (event: ScoreRunEvent) => void;
  /** Receives the session once it exists, so a caller can stop it (Ctrl-C). */
  onSession?: (session: JudgeSession) => void;
}

export type ScoreRunEvent =
  | SessionEvent
  | { type: 'plan'; images: number; calls: number; skipped: number; inputErrors: number }
  | { type: 'cached'; calls: number }
  | { type: 'image'; result: ImageScore };

export interface ScoreRunResult {
  run: RunRecord;
  resumed: boolean;
  results: ImageScore[];
  skipped: { path: string; reason: string }[];
  inputErrors: InputError[];
  counts: JudgeSession['counts'];
  budgetExceeded: boolean;
  interrupted: boolean;
}

/** The judge's stable id: provider, model and whatever else identifies it (never keys). */
export function judgeIdOf(provider: Provider): string {
  return hashObject({ provider: provider.id, model: provider.model, identity: provider.identity() });
}

/** Registers judge and prompt, opens (or resumes) the run. */
export function prepareRun(
  store: Store,
  provider: Provider,
  settings: Pick<ScoreSettings, 'template'>,
  run: { name: string; command: string; argv: readonly string[]; options: Record<string, unknown> },
): { run: RunRecord; resumed: boolean; judgeId: string } {
  const judgeId = judgeIdOf(provider);
  const identity = provider.identity();
  store.putJudge({
    id: judgeId,
    provider: provider.id,
    model: provider.model,
    baseURL: typeof identity['baseURL'] === 'string' ? identity['baseURL'] : undefined,
    identity,
  });
  const t = settings.template;
  store.putPrompt({ hash: t.hash, id: t.id, version: t.version, kind: t.kind, text: templateText(t) });
  const opened = store.openRun({ name: run.name, command: run.command, args: run.argv, options: run.options, version: QUORUM_VERSION });
  return { ...opened, judgeId };
}

/**
 * `quorum score` without the terminal: walks the inputs, hashes every file, serves cached
 * samples, asks the judge for the rest and stores each image's result as it completes.
 * Bad files are listed and skipped; the run goes on.
 */
export async function runScore(options: ScoreRunOptions): Promise<ScoreRunResult> {
  const { store, provider, settings } = options;
  const { run, resumed, judgeId } = prepareRun(store, provider, settings, {
    name: options.runName,
    command: 'score',
    argv: options.argv,
    options: options.runOptions,
  });
  const session = new JudgeSession({
    store,
    runId: run.id,
    provider,
    judgeId,
    price: options.price,
    concurrency: options.concurrency ?? 4,
    rpm: options.rpm,
    maxCost: options.maxCost,
    ...(options.retry ? { retry: options.retry } : {}),
    onEvent: (e) => options.onEvent?.(e),
  });
  options.onSession?.(session);

  const collected = await collectInputs([...options.inputs]);
  const inputErrors: InputError[] = [...collected.errors];
  const perImage = settings.method === 'levels' ? 1 : settings.samples;
  options.onEvent?.({
    type: 'plan',
    images: collected.files.length,
    calls: collected.files.length * perImage,
    skipped: collected.skipped.length,
    inputErrors: inputErrors.length,
  });

  // Images are hashed from their bytes; a hash already in the store was validated when it
  // was first seen, so a cached rerun never decodes anything.
  const encoded = new Map<string, Promise<ImagePart>>();
  const firstPathOf = new Map<string, string>();
  const scoring = new Map<string, Promise<ImageScore>>();
  const results: (ImageScore | undefined)[] = new Array(collected.files.length);
  const loader = new PQueue({ concurrency: Math.max(8, (options.concurrency ?? 4) * 2) });

  await Promise.all(
    collected.files.map((file, position) =>
      loader.add(async () => {
        if (session.stopping) return;
        let sha: string;
        let source: ImageSource;
        try {
          source = await readImageFile(file.path);
          sha = sha256(source.data);
          const known = store.getImage(sha);
          if (known) store.putImage({ ...known, path: file.path });
          else {
            const info = await loadImage(source);
            store.putImage({ sha256: sha, bytes: info.bytes, format: info.format, width: info.width, height: info.height, path: file.path });
          }
        } catch (error) {
          inputErrors.push(error instanceof InputError ? error : new InputError(file.path, describeError(error), { cause: error }));
          return;
        }
        const first = firstPathOf.get(sha);
        if (first === undefined) firstPathOf.set(sha, file.path);
        let pending = scoring.get(sha);
        if (!pending) {
          const encode = () => {
            let e = encoded.get(sha);
            if (!e) {
              e = encodeForJudge(source, { maxSide: provider.maxImageSide });
              encoded.set(sha, e);
            }
            return e;
          };
          pending = scoreImage({ session, provider, judgeId, settings, path: file.path, sha256: sha, encode }).catch(
            (error: unknown) => {
              const failed = aggregateImage(file.path, sha, settings, [], perImage, 0);
              failed.errors = [describeError(error)];
              return failed;
            },
          );
          scoring.set(sha, pending);
        }
        const scored = await pending;
        const result: ImageScore = first === undefined ? scored : { ...scored, path: file.path, duplicateOf: first };
        // Bytes are only needed until the image is encoded.
        encoded.delete(sha);
        results[position] = result;
        store.putResults([
          { runId: run.id, kind: 'image', itemKey: file.path, position, status: result.status, score: result.score, value: result },
        ]);
        options.onEvent?.({ type: 'image', result });
      }),
    ),
  );
  await session.idle();

  const interrupted = session.stopping && !session.budgetExceeded;
  const done = results.filter((r): r is ImageScore => r !== undefined);
  store.setRunStatus(run.id, interrupted ? 'interrupted' : 'done');
  return {
    run,
    resumed,
    results: done,
    skipped: collected.skipped,
    inputErrors,
    counts: session.counts,
    budgetExceeded: session.budgetExceeded,
    interrupted,
  };
}
