/** A panel judge's session: the judge registered in the store, its own session in the run, events labelled with it. */
import type { Provider } from '../../core/provider.js';
import type { Store } from '../../store/store.js';
import type { Price } from '../prices.js';
import { judgeIdOf } from '../run.js';
import type { RetryPolicy } from '../session/retry.js';
import { JudgeSession, type SessionEvent, type SessionOptions } from '../session/session.js';
import type { RetryFailed } from '../../store/store.js';

/** A neuron's judge, opened by the caller (an `OpenedJudge` is one). */
export interface PanelMember {
  provider: Provider;
  price: Price | undefined;
  retry?: RetryPolicy | undefined;
  /** Requests in flight for this judge; the run's `concurrency` when absent. */
  concurrency?: number | undefined;
  rpm?: number | undefined;
}

export interface PanelJudge {
  label: string;
  provider: Provider;
  judgeId: string;
  session: JudgeSession;
}

export interface MemberSessionOptions {
  store: Store;
  runId: number;
  concurrency?: number | undefined;
  /** This judge's share of the budget in USD. */
  maxCost?: number | undefined;
  retryFailed?: RetryFailed | undefined;
  onEvent?: ((event: SessionEvent, judge: string) => void) | undefined;
  onSession?: ((session: JudgeSession) => void) | undefined;
  /** Batch mode: the requests are collected here instead of sent (see `SessionOptions.defer`). */
  defer?: SessionOptions['defer'];
  /** Batch mode: serve only stored samples; the others are not run, for this reason (see `JudgeSession.hold`). */
  hold?: string | undefined;
}

export function openMember(m: PanelMember, options: MemberSessionOptions): PanelJudge {
  const { store } = options;
  const judgeId = judgeIdOf(m.provider);
  const identity = m.provider.identity();
  store.putJudge({
    id: judgeId,
    provider: m.provider.id,
    model: m.provider.model,
    baseURL: typeof identity['baseURL'] === 'string' ? identity['baseURL'] : undefined,
    identity,
  });
  const label = `${m.provider.id}:${m.provider.model}`;
  const onEvent = options.onEvent;
  const session = new JudgeSession({
    store,
    runId: options.runId,
    provider: m.provider,
    judgeId,
    price: m.price,
    concurrency: m.concurrency ?? options.concurrency ?? 4,
    rpm: m.rpm,
    maxCost: options.maxCost,
    ...(m.retry ? { retry: m.retry } : {}),
    ...(options.retryFailed ? { retryFailed: options.retryFailed } : {}),
    ...(onEvent ? { onEvent: (e: SessionEvent) => onEvent(e, label) } : {}),
    ...(options.defer ? { defer: options.defer } : {}),
  });
  if (options.hold !== undefined) session.hold(options.hold);
  options.onSession?.(session);
  return { label, provider: m.provider, judgeId, session };
}

/** What a run does with a panel's sessions once its items are judged. */
export interface PanelSessions {
  /** Drains and closes every session. */
  finish(): Promise<void>;
  /** Requests, cache hits and the like, summed over the judges. */
  counts(): JudgeSession['counts'];
  budgetExceeded(): boolean;
}

/** The sessions of `judges` (at least one) as one. */
export function panelSessions(judges: readonly PanelJudge[]): PanelSessions {
  return {
    finish: async () => {
      for (const j of judges) {
        await j.session.idle();
        j.session.close();
      }
    },
    counts: () => {
      const total = { ...(judges[0] as PanelJudge).session.counts };
      for (const j of judges.slice(1)) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += j.session.counts[k];
      return total;
    },
    budgetExceeded: () => judges.some((j) => j.session.budgetExceeded),
  };
}
