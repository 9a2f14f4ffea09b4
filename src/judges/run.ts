import { hashObject } from '../core/hash.js';
import type { Provider } from '../core/provider.js';
import { templateText, type PromptTemplate } from '../prompts/template.js';
import type { RetryFailed, RunRecord, Store } from '../store/store.js';
import { QUORUM_VERSION } from '../version.js';
import type { Price } from './prices.js';
import type { RetryPolicy } from './session/retry.js';
import type { BreakerOptions } from './session/circuit-breaker.js';
import { JudgeSession, type SessionEvent, type SessionOptions } from './session/session.js';

/** What every judging run (score, compare, rank) needs to start. */
export interface JudgeRunOptions {
  store: Store;
  provider: Provider;
  /** Templates the run will use; registered in the prompts table. */
  templates: readonly PromptTemplate[];
  /** Run name; the same name resumes the same run. */
  runName: string;
  command: string;
  /** The command line, stored with the run. */
  argv: readonly string[];
  /** Options stored with the run (never secrets). */
  runOptions: Record<string, unknown>;
  price: Price | undefined;
  concurrency?: number | undefined;
  rpm?: number | undefined;
  maxCost?: number | undefined;
  retry?: RetryPolicy | undefined;
  /** Which stored parse failures are asked again. @default 'mismatch' (see `SessionOptions.retryFailed`) */
  retryFailed?: RetryFailed | undefined;
  /** Start the run afresh when one of that name exists (the old one is kept as `NAME~ID`). */
  fresh?: boolean | undefined;
  breaker?: Partial<BreakerOptions> | undefined;
  onEvent?: ((event: SessionEvent) => void) | undefined;
  /** Batch mode: requests are collected here instead of sent (see `SessionOptions.defer`). */
  defer?: SessionOptions['defer'];
  /** Batch mode: serve only stored samples; the others are not run, for this reason (see `JudgeSession.hold`). */
  hold?: string | undefined;
  /**
   * Batch mode's collecting passes: whether a sample's answer is still to come from a
   * batch. A strategy whose questions depend on others' answers (a panel) asks nothing
   * that depends on one still to come; one judge alone has no such questions.
   */
  awaiting?: ((cacheKey: string) => boolean) | undefined;
  /** Receives the session once it exists, so a caller can stop it (Ctrl-C). */
  onSession?: ((session: JudgeSession) => void) | undefined;
}

export interface JudgeRun {
  run: RunRecord;
  resumed: boolean;
  /** With `fresh`: the name the old run of that name is kept under. */
  renamed?: string | undefined;
  judgeId: string;
  session: JudgeSession;
}

/** The judge's stable id: provider, model and whatever else identifies it (never keys). */
export function judgeIdOf(provider: Provider): string {
  return hashObject({ provider: provider.id, model: provider.model, identity: provider.identity() });
}

/** Registers judge and prompts, opens (or resumes) the run and starts its session. */
export function startJudgeRun(options: JudgeRunOptions): JudgeRun {
  const { store, provider } = options;
  const judgeId = judgeIdOf(provider);
  const identity = provider.identity();
  store.putJudge({
    id: judgeId,
    provider: provider.id,
    model: provider.model,
    baseURL: typeof identity['baseURL'] === 'string' ? identity['baseURL'] : undefined,
    identity,
  });
  for (const t of options.templates) {
    store.putPrompt({ hash: t.hash, id: t.id, version: t.version, kind: t.kind, text: templateText(t) });
  }
  const { run, resumed, renamed } = store.openRun({
    name: options.runName,
    command: options.command,
    args: options.argv,
    options: options.runOptions,
    version: QUORUM_VERSION,
    ...(options.fresh ? { fresh: true } : {}),
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
    ...(options.retryFailed ? { retryFailed: options.retryFailed } : {}),
    ...(options.breaker ? { breaker: options.breaker } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.defer ? { defer: options.defer } : {}),
  });
  if (options.hold !== undefined) session.hold(options.hold);
  options.onSession?.(session);
  return { run, resumed, renamed, judgeId, session };
}

/**
 * Marks the run once its session has drained: `failed` when an error no retry can fix
 * stopped it, `interrupted` when it was stopped (Ctrl-C), `done` otherwise (a run that
 * reached `--max-cost` is done: what it holds is what the budget bought).
 */
export async function finishJudgeRun(store: Store, judgeRun: JudgeRun): Promise<{ interrupted: boolean; fatal: string | undefined }> {
  const { session } = judgeRun;
  await session.idle();
  session.close();
  const fatal = session.fatal;
  const interrupted = fatal === undefined && session.stopping && !session.budgetExceeded;
  store.setRunStatus(judgeRun.run.id, fatal !== undefined ? 'failed' : interrupted ? 'interrupted' : 'done');
  return { interrupted, fatal };
}
