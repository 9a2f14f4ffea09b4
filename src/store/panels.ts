/**
 * The panel tables (see the migration "judge panels"): each neuron's review with the
 * calls it is made of, and agreement per item and per run. Statements are prepared once
 * on the store's database; writes go in one transaction.
 */
import type { Store } from './store.js';

export interface PanelReviewRecord {
  runId: number;
  itemKey: string;
  panel: string;
  /** -1: the roles call; 0: the escalation judge; 1..L: the panel's layers; L+1: the meta judge. */
  layer: number;
  neuron: number;
  role: string;
  judgeId: string;
  callIds: number[];
  status: string;
  score: number | null;
  /** Whether the item's final verdict used this review. */
  used: boolean;
}

export interface PanelAgreementRecord {
  runId: number;
  /** '' for the whole run. */
  itemKey: string;
  alpha: number | null;
  spread: number | null;
  neurons: number;
}

export class PanelStore {
  readonly #store: Store;
  readonly #putReview;
  readonly #putAgreement;
  readonly #reviews;
  readonly #agreement;

  constructor(store: Store) {
    this.#store = store;
    const db = store.db;
    this.#putReview = db.prepare(
      `INSERT OR REPLACE INTO panel_reviews (run_id, item_key, panel, layer, neuron, role, judge_id, call_ids, status, score, used)
       VALUES (@runId, @itemKey, @panel, @layer, @neuron, @role, @judgeId, @callIds, @status, @score, @used)`,
    );
    this.#putAgreement = db.prepare(
      `INSERT OR REPLACE INTO panel_agreement (run_id, item_key, alpha, spread, neurons) VALUES (@runId, @itemKey, @alpha, @spread, @neurons)`,
    );
    this.#reviews = db.prepare('SELECT * FROM panel_reviews WHERE run_id = ? ORDER BY item_key, layer, neuron');
    this.#agreement = db.prepare('SELECT * FROM panel_agreement WHERE run_id = ? ORDER BY item_key');
  }

  put(reviews: readonly PanelReviewRecord[], agreement: readonly PanelAgreementRecord[]): void {
    const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);
    this.#store.db.transaction(() => {
      for (const r of reviews) this.#putReview.run({ ...r, callIds: JSON.stringify(r.callIds), score: finite(r.score), used: r.used ? 1 : 0 });
      for (const a of agreement) this.#putAgreement.run({ ...a, alpha: finite(a.alpha), spread: finite(a.spread) });
    })();
  }

  reviews(runId: number): PanelReviewRecord[] {
    return (this.#reviews.all(runId) as Record<string, unknown>[]).map((r) => ({
      runId: r['run_id'] as number,
      itemKey: r['item_key'] as string,
      panel: r['panel'] as string,
      layer: r['layer'] as number,
      neuron: r['neuron'] as number,
      role: r['role'] as string,
      judgeId: r['judge_id'] as string,
      callIds: JSON.parse(r['call_ids'] as string) as number[],
      status: r['status'] as string,
      score: r['score'] as number | null,
      used: r['used'] === 1,
    }));
  }

  agreement(runId: number): PanelAgreementRecord[] {
    return (this.#agreement.all(runId) as Record<string, unknown>[]).map((r) => ({
      runId: r['run_id'] as number,
      itemKey: r['item_key'] as string,
      alpha: r['alpha'] as number | null,
      spread: r['spread'] as number | null,
      neurons: r['neurons'] as number,
    }));
  }
}
