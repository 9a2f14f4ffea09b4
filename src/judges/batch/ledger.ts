import type Database from 'better-sqlite3';
import type { Store } from '../../store/store.js';

/**
 * The `batches` and `batch_items` tables: every provider batch is written down the moment
 * it is submitted, with the planned calls each of its requests answers, so a process that
 * dies while waiting loses nothing: the next run finds the batch and re-attaches.
 */

export type BatchStatus = 'in_progress' | 'ended' | 'failed' | 'collected';
export type ItemState = 'submitted' | 'succeeded' | 'errored' | 'expired' | 'canceled';

export interface BatchRecord {
  id: number;
  provider: string;
  judgeId: string;
  runId: number | null;
  /** The provider's batch id (`batch_...`, `msgbatch_...`). */
  remoteId: string;
  status: BatchStatus;
  requests: number;
  succeeded: number;
  errored: number;
  expired: number;
  canceled: number;
  /** USD at batch prices for the answers collected so far; null when the judge has no price. */
  costUsd: number | null;
  error: string | null;
  /** Working directory of the command that submitted it (`quorum batches --collect` reruns it there). */
  cwd: string | null;
  submittedAt: string;
  finishedAt: string | null;
}

interface BatchRow {
  id: number;
  provider: string;
  judge_id: string;
  run_id: number | null;
  remote_id: string;
  status: BatchStatus;
  requests: number;
  succeeded: number;
  errored: number;
  expired: number;
  canceled: number;
  cost_usd: number | null;
  error: string | null;
  cwd: string | null;
  submitted_at: string;
  finished_at: string | null;
}

const toRecord = (r: BatchRow): BatchRecord => ({
  id: r.id,
  provider: r.provider,
  judgeId: r.judge_id,
  runId: r.run_id,
  remoteId: r.remote_id,
  status: r.status,
  requests: r.requests,
  succeeded: r.succeeded,
  errored: r.errored,
  expired: r.expired,
  canceled: r.canceled,
  costUsd: r.cost_usd,
  error: r.error,
  cwd: r.cwd,
  submittedAt: r.submitted_at,
  finishedAt: r.finished_at,
});

export class BatchLedger {
  readonly #db: Database.Database;
  readonly #s;

  constructor(store: Store) {
    const db = store.db;
    this.#db = db;
    this.#s = {
      insert: db.prepare(
        'INSERT INTO batches (provider, judge_id, run_id, remote_id, status, requests, cwd) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertItem: db.prepare('INSERT INTO batch_items (batch_id, custom_id, cache_keys) VALUES (?, ?, ?)'),
      get: db.prepare('SELECT * FROM batches WHERE id = ?'),
      list: db.prepare('SELECT * FROM batches ORDER BY id'),
      open: db.prepare("SELECT * FROM batches WHERE status IN ('in_progress', 'ended') ORDER BY id"),
      waiting: db.prepare(
        `SELECT bi.custom_id AS custom_id, bi.batch_id AS batch_id FROM batch_items bi JOIN batches b ON b.id = bi.batch_id
         WHERE b.judge_id = ? AND b.status IN ('in_progress', 'ended') AND bi.state = 'submitted'`,
      ),
      items: db.prepare('SELECT custom_id, cache_keys, state FROM batch_items WHERE batch_id = ?'),
      setItem: db.prepare('UPDATE batch_items SET state = ? WHERE batch_id = ? AND custom_id = ?'),
      setStatus: db.prepare('UPDATE batches SET status = ?, error = ?, finished_at = COALESCE(finished_at, ?) WHERE id = ?'),
      tally: db.prepare(
        `UPDATE batches SET
           succeeded = (SELECT COUNT(*) FROM batch_items WHERE batch_id = @id AND state = 'succeeded'),
           errored = (SELECT COUNT(*) FROM batch_items WHERE batch_id = @id AND state = 'errored'),
           expired = (SELECT COUNT(*) FROM batch_items WHERE batch_id = @id AND state = 'expired'),
           canceled = (SELECT COUNT(*) FROM batch_items WHERE batch_id = @id AND state = 'canceled'),
           cost_usd = CASE WHEN @cost IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + @cost END,
           status = CASE WHEN EXISTS (SELECT 1 FROM batch_items WHERE batch_id = @id AND state = 'submitted') THEN 'ended' ELSE 'collected' END,
           finished_at = COALESCE(finished_at, @now)
         WHERE id = @id`,
      ),
    };
  }

  /** Writes a submitted batch and its requests in one transaction; returns its row id. */
  add(batch: {
    provider: string;
    judgeId: string;
    runId: number;
    remoteId: string;
    cwd: string | null;
    items: readonly { customId: string; cacheKeys: readonly string[] }[];
  }): number {
    return this.#db.transaction(() => {
      const id = Number(
        this.#s.insert.run(batch.provider, batch.judgeId, batch.runId, batch.remoteId, 'in_progress', batch.items.length, batch.cwd).lastInsertRowid,
      );
      for (const item of batch.items) this.#s.insertItem.run(id, item.customId, JSON.stringify(item.cacheKeys));
      return id;
    })();
  }

  get(id: number): BatchRecord | undefined {
    const row = this.#s.get.get(id) as BatchRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  list(): BatchRecord[] {
    return (this.#s.list.all() as BatchRow[]).map(toRecord);
  }

  /** Batches whose answers are not all collected yet. */
  open(): BatchRecord[] {
    return (this.#s.open.all() as BatchRow[]).map(toRecord);
  }

  /** Requests of this judge that sit in a batch not collected yet: custom id -> batch row id. */
  waiting(judgeId: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.#s.waiting.all(judgeId) as { custom_id: string; batch_id: number }[]) out.set(r.custom_id, r.batch_id);
    return out;
  }

  items(batchId: number): { customId: string; cacheKeys: string[]; state: ItemState }[] {
    return (this.#s.items.all(batchId) as { custom_id: string; cache_keys: string; state: ItemState }[]).map((r) => ({
      customId: r.custom_id,
      cacheKeys: JSON.parse(r.cache_keys) as string[],
      state: r.state,
    }));
  }

  setStatus(id: number, status: BatchStatus, error: string | null = null): void {
    this.#s.setStatus.run(status, error, status === 'in_progress' ? null : new Date().toISOString(), id);
  }

  /**
   * Marks collected requests and recounts the batch; it becomes `collected` once none of
   * its requests waits any more (requests another command planned stay `submitted` until
   * that command collects them).
   */
  settle(id: number, states: ReadonlyMap<string, ItemState>, costUsd: number | null): void {
    this.#db.transaction(() => {
      for (const [customId, state] of states) this.#s.setItem.run(state, id, customId);
      this.#s.tally.run({ id, cost: costUsd, now: new Date().toISOString() });
    })();
  }
}
