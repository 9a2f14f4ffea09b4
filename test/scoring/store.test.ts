/**
 * The store: migrations run once and reopening is harmless; a database from a newer
 * Quorum is refused; what the cache serves (answered calls, parsed or not) and what it
 * never serves (provider errors); runs resume by name.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { migrations } from '../../src/store/migrations.js';
import { Store, type NewCall } from '../../src/store/store.js';
import { tempDir, type TempDir } from './_support.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(() => tmp.cleanup());

function schema(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT type || ' ' || name AS o FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY o").pluck().all() as string[]);
  } finally {
    db.close();
  }
}

function seed(store: Store): number {
  store.putJudge({ id: 'j1', provider: 'openai', model: 'sim', identity: { baseURL: 'http://127.0.0.1:1/v1' } });
  store.putPrompt({ hash: 'p1', id: 'quality-score', version: 1, kind: 'sample', text: '{}' });
  return store.openRun({ name: 'r1', command: 'score', args: ['score', 'x'], options: { samples: 5 }, version: '0.1.0' }).run.id;
}

function call(runId: number, key: string, status: NewCall['status'], extra: Partial<NewCall> = {}): NewCall {
  return {
    cacheKey: key, runId, judgeId: 'j1', promptHash: 'p1', imageHashes: ['a'.repeat(64)], sampleIndex: 0, params: { method: 'sample' },
    requestId: null, choiceIndex: 0, raw: null, parsed: null, logprobs: null, status, error: null, failure: null, inputTokens: null, outputTokens: null,
    costUsd: null, latencyMs: null, attempts: 1, meta: null, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z',
    ...extra,
  };
}

describe('migrations', () => {
  it('run once: reopening an existing database changes neither schema nor data', () => {
    const file = tmp.path('quorum.db');
    const first = Store.open(file);
    const runId = seed(first);
    first.recordCalls([call(runId, 'k1', 'ok', { raw: '<answer>3</answer>', parsed: { score: 3 } })]);
    first.close();
    const before = schema(file);
    expect(before).toContain('table calls');

    for (let i = 0; i < 3; i++) {
      const again = Store.open(file);
      expect(again.db.pragma('user_version', { simple: true })).toBe(migrations.length);
      expect(again.cachedCall('k1')).toMatchObject({ status: 'ok', parsed: { score: 3 }, raw: '<answer>3</answer>' });
      expect(again.listRuns()).toHaveLength(1);
      again.close();
    }
    expect(schema(file)).toEqual(before);
  });

  it('a database written by a newer Quorum is refused with a clear message', () => {
    const file = tmp.path('future.db');
    Store.open(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    expect(() => Store.open(file)).toThrow(`has schema version ${migrations.length + 1}, newer than this Quorum understands (${migrations.length}); upgrade Quorum`);
  });

  it('the database is in WAL mode', () => {
    const store = Store.open(tmp.path('wal.db'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
  });
});

describe('the call cache', () => {
  let store: Store;
  let runId: number;
  beforeEach(() => {
    store = Store.open(':memory:');
    runId = seed(store);
  });
  afterEach(() => store.close());

  it('serves answered calls, parsed or not, and never a provider error', () => {
    store.recordCalls([call(runId, 'err', 'error', { error: 'openai answered HTTP 500' })]);
    expect(store.cachedCall('err')).toBeUndefined();
    store.recordCalls([call(runId, 'bad', 'parse_error', { raw: 'I think the image is decent.', error: 'no <answer>' })]);
    expect(store.cachedCall('bad')).toMatchObject({ status: 'parse_error', raw: 'I think the image is decent.', parsed: null });
    store.recordCalls([call(runId, 'err', 'ok', { parsed: { score: 4 } })]);
    expect(store.cachedCall('err')).toMatchObject({ status: 'ok', parsed: { score: 4 } });
  });

  it('a run lists the calls it made and the cached ones it used; errors are listed apart', () => {
    const [made] = store.recordCalls([call(runId, 'k1', 'ok', { parsed: { score: 2 }, costUsd: 0.5 })]);
    store.recordCalls([call(runId, 'k2', 'error', { error: 'boom' })]);
    const second = store.openRun({ name: 'r2', command: 'score', args: [], options: {}, version: '0.1.0' }).run.id;
    store.linkCached(second, [made!]);
    expect(store.runCalls(runId).map((c) => [c.cacheKey, c.cached])).toEqual([['k1', false]]);
    expect(store.runCalls(second).map((c) => [c.cacheKey, c.cached])).toEqual([['k1', true]]);
    expect(store.runErrorCalls(runId).map((c) => c.error)).toEqual(['boom']);
    // Cached calls cost the run that reuses them nothing.
    expect(store.runTotals(runId)).toMatchObject({ calls: 1, cached: 0, ok: 1, costUsd: 0.5 });
    expect(store.runTotals(second)).toMatchObject({ calls: 1, cached: 1, costUsd: 0 });
    expect(store.parseFailureRates()).toEqual([
      { judgeId: 'j1', provider: 'openai', model: 'sim', calls: 2, parseFailures: 0, errors: 1, parseFailureRate: 0 },
    ]);
  });

  it('a run of the same name resumes (same id) only with the same command and configuration; --new keeps the old one', () => {
    const again = store.openRun({ name: 'r1', command: 'score', args: ['score', 'y'], options: { samples: 5 }, version: '0.1.0' });
    expect(again).toMatchObject({ resumed: true, run: { id: runId, args: ['score', 'y'], options: { samples: 5 }, status: 'running' } });
    expect(() => store.openRun({ name: 'r1', command: 'compare', args: [], options: {}, version: '0.1.0' })).toThrow(
      /^Run `r1` already holds a `quorum score` run\. Use --run r1 --new/,
    );
    expect(() => store.openRun({ name: 'r1', command: 'score', args: [], options: { samples: 8 }, version: '0.1.0' })).toThrow(
      'Run `r1` already holds samples 5 (now 8).',
    );
    const fresh = store.openRun({ name: 'r1', command: 'score', args: [], options: { samples: 8 }, version: '0.1.0', fresh: true });
    expect(fresh).toMatchObject({ resumed: false, renamed: `r1~${runId}`, run: { name: 'r1', options: { samples: 8 } } });
    expect(fresh.run.id).not.toBe(runId);
    expect(store.getRun(`r1~${runId}`)).toMatchObject({ id: runId, options: { samples: 5 } });
  });
});

describe('a rerun writes only what changed', () => {
  const rows = (file: string, runId: number) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT item_key AS k, score, value, updated_at AS at FROM results WHERE run_id = ? ORDER BY k').all(runId) as {
        k: string;
        score: number | null;
        value: string;
        at: string;
      }[];
    } finally {
      db.close();
    }
  };
  const result = (runId: number, itemKey: string, score: number, note: string) =>
    ({ runId, kind: 'image', itemKey, position: 0, status: 'ok', score, value: { score, note } });

  it('results: an unchanged row keeps its updated_at, in this process and the next; a changed one is written', () => {
    const file = tmp.path('rerun.db');
    const first = Store.open(file);
    const runId = seed(first);
    first.putResults([result(runId, 'a.png', 3, 'x'), result(runId, 'b.png', 4, 'y')], { deferred: true });
    first.putResults([result(runId, 'a.png', 3, 'x')], { deferred: true });
    first.close();
    const before = rows(file, runId);
    expect(before.map((r) => [r.k, r.score, JSON.parse(r.value)])).toEqual([['a.png', 3, { score: 3, note: 'x' }], ['b.png', 4, { score: 4, note: 'y' }]]);
    // Moved back so that any rewrite shows in updated_at.
    const db = new Database(file);
    db.prepare("UPDATE results SET updated_at = '2000-01-01T00:00:00.000Z'").run();
    db.close();

    const second = Store.open(file);
    second.putResults([result(runId, 'a.png', 3, 'x')], { deferred: true });
    second.putResults([result(runId, 'b.png', 4, 'z'), result(runId, 'c.png', 1, 'new')]);
    second.putResults([result(runId, 'b.png', 4, 'y')]);
    second.close();
    const after = rows(file, runId);
    expect(after.map((r) => [r.k, JSON.parse(r.value).note, r.at === '2000-01-01T00:00:00.000Z'])).toEqual([
      ['a.png', 'x', true],
      ['b.png', 'y', false],
      ['c.png', 'new', false],
    ]);
  });

  it('deferred results are written in batches as they come, not held until close, in a run that makes no calls', () => {
    const file = tmp.path('batches.db');
    const store = Store.open(file);
    const runId = seed(store);
    for (let i = 0; i < 200; i++) store.putResults([result(runId, `i${String(i).padStart(3, '0')}.png`, 3, 'x')], { deferred: true });
    // Another connection sees what was written so far: every full batch of 64 (or what a
    // second gathered on a slow machine), so at most the last 63 are still held.
    expect(rows(file, runId).length).toBeGreaterThanOrEqual(200 - 63);
    store.close();
    expect(rows(file, runId)).toHaveLength(200);
  });

  it('links: a cached call is linked to a run once, by this process or the next', () => {
    const file = tmp.path('links.db');
    const first = Store.open(file);
    const runId = seed(first);
    const [a, b] = first.recordCalls([call(runId, 'k1', 'ok', { parsed: { score: 2 } }), call(runId, 'k2', 'ok', { parsed: { score: 3 } })]);
    const second = first.openRun({ name: 'r2', command: 'score', args: [], options: {}, version: '0.1.0' }).run.id;
    first.linkCached(second, [a!]);
    first.linkCached(second, [a!]);
    first.close();
    const again = Store.open(file);
    again.linkCached(second, [a!, b!]);
    again.linkCached(runId, [a!]);
    expect(again.runCalls(second).map((c) => [c.cacheKey, c.cached])).toEqual([['k1', true], ['k2', true]]);
    // The run that made k1 keeps it as made, not cached.
    expect(again.runCalls(runId).map((c) => [c.cacheKey, c.cached])).toEqual([['k1', false], ['k2', false]]);
    again.close();
  });
});

describe('claims that ride with the next recorded call', () => {
  const owners = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT cache_key AS key FROM claims ORDER BY cache_key').pluck().all();
    } finally {
      db.close();
    }
  };

  it('a claim made with claimSoon is committed by the next recordCalls, before its promise resolves, without a commit of its own', async () => {
    vi.useFakeTimers();
    try {
      const file = tmp.path('ride.db');
      const store = Store.open(file);
      const runId = seed(store);
      store.claim(['k1'], 'mismatch');
      let settled = false;
      const soon = store.claimSoon(['k2', 'k1'], 'mismatch').then((c) => ((settled = true), c));
      await Promise.resolve();
      expect(settled).toBe(false);
      // Another connection does not see k2 claimed yet: nothing was committed for it.
      expect(owners(file)).toEqual(['k1']);
      store.recordCalls([call(runId, 'k1', 'ok', { raw: '<answer>3</answer>', parsed: { score: 3 } })]);
      // No timer ran (fake timers, not advanced): the claim rode with the call's commit.
      const claimed = await soon;
      expect([...claimed.mine]).toEqual(['k2']);
      // k1 was answered in the same transaction, before the claim looked: served, not claimed.
      expect([...claimed.done.keys()]).toEqual(['k1']);
      expect(owners(file)).toEqual(['k2']);
      store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a claim asked for after the others rode along gets its full wait for a call of its own to ride with', async () => {
    vi.useFakeTimers();
    try {
      const store = Store.open(tmp.path('wait.db'));
      const runId = seed(store);
      const first = store.claimSoon(['a'], 'mismatch');
      vi.advanceTimersByTime(15);
      store.recordCalls([call(runId, 'x1', 'ok')]);
      await first;
      let settled = false;
      const second = store.claimSoon(['b'], 'mismatch').then((c) => ((settled = true), c));
      // 25 ms after the first claim, 10 after the second: the first one's timer must not commit it alone.
      vi.advanceTimersByTime(10);
      await Promise.resolve();
      expect(settled).toBe(false);
      store.recordCalls([call(runId, 'x2', 'ok')]);
      expect([...(await second).mine]).toEqual(['b']);
      store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('with no call recorded, the claim is committed on its own after a moment; a closed store refuses the rest', async () => {
    const file = tmp.path('alone.db');
    const store = Store.open(file);
    seed(store);
    const claimed = await store.claimSoon(['k9'], 'mismatch');
    expect([...claimed.mine]).toEqual(['k9']);
    expect(owners(file)).toEqual(['k9']);
    const late = store.claimSoon(['k10'], 'mismatch');
    store.close();
    await expect(late).rejects.toThrow(/was closed before a claim was made/);
  });

  it('a recordCalls that fails rolls back its own rows; the claims that were riding with it are still made', async () => {
    const file = tmp.path('rollback.db');
    const store = Store.open(file);
    const runId = seed(store);
    const soon = store.claimSoon(['k5'], 'mismatch');
    // An unknown judge breaks the foreign key: the transaction rolls back.
    expect(() => store.recordCalls([call(runId, 'k4', 'ok', { judgeId: 'no-such-judge' })])).toThrow();
    expect(store.cachedCall('k4')).toBeUndefined();
    expect([...(await soon).mine]).toEqual(['k5']);
    expect(owners(file)).toEqual(['k5']);
    store.close();
  });
});
