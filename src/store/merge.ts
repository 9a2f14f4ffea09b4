import type Database from 'better-sqlite3';
import { stableStringify } from '../core/stable-json.js';
import type { RunRow, Store } from './store.js';

/**
 * Merging databases written on several machines (sharded runs) into one. Everything is
 * content-addressed or named, so rows are matched, never renumbered blindly:
 * - images, image paths, prompts and judges by their hashes (identical by construction);
 * - calls by cache key: an answer already there with the same text is the same call
 *   (deduplicated); a different answer under the same key is a conflict, reported and
 *   not carried (the cache would otherwise start serving it silently);
 *   failed calls are history, carried once (matched by key and times);
 * - runs by name: the same name with the same command and options is one run judged on
 *   several machines (its calls and results are united); the same name with anything
 *   else is carried under `NAME@SOURCE` and reported;
 * - results by run and item: a different value for the same item (cache counts aside) is
 *   a conflict, kept as the target has it; judge facts likewise.
 * Claims and run leases are not carried: they belong to live processes.
 */

export interface MergeConflict {
  kind: 'call' | 'result' | 'run' | 'fact';
  /** What collided: a cache key, `run/kind/item`, a run name, `judge/fact`. */
  key: string;
  detail: string;
}

export interface MergeReport {
  source: string;
  runs: { added: number; joined: number; renamed: number };
  calls: { added: number; deduplicated: number };
  images: number;
  results: number;
  conflicts: MergeConflict[];
}

/**
 * A result as compared between databases: without how many of its samples were served
 * from the cache, which says how it was obtained (a rerun on a merged database serves
 * everything), not what it is.
 */
function resultIdentity(value: string): string {
  const parsed = JSON.parse(value) as unknown;
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const { cached: _cached, cachedCalls: _cachedCalls, ...rest } = parsed as Record<string, unknown>;
    return stableStringify(rest);
  }
  return stableStringify(parsed);
}

const columns = (db: Database.Database, table: string): string[] =>
  (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);

/**
 * Copies one source database (opened read-only, same schema) into `target`, in one
 * transaction: a merge that fails leaves the target as it was.
 */
export function mergeInto(target: Store, source: Store, label = source.file): MergeReport {
  const t = target.db;
  const s = source.db;
  const report: MergeReport = { source: label, runs: { added: 0, joined: 0, renamed: 0 }, calls: { added: 0, deduplicated: 0 }, images: 0, results: 0, conflicts: [] };
  const callColumns = columns(s, 'calls').filter((c) => c !== 'id' && c !== 'run_id');
  const insertCall = t.prepare(
    `INSERT INTO calls (run_id, ${callColumns.join(', ')}) VALUES (@run_id, ${callColumns.map((c) => `@${c}`).join(', ')})`,
  );
  const answerOf = t.prepare("SELECT id, raw FROM calls WHERE cache_key = ? AND status != 'error' ORDER BY id DESC LIMIT 1");
  const sameError = t.prepare("SELECT id FROM calls WHERE cache_key = ? AND status = 'error' AND started_at = ? AND finished_at = ?");
  const runByName = t.prepare('SELECT * FROM runs WHERE name = ?');
  const insertRun = t.prepare(
    'INSERT INTO runs (name, command, args, options, quorum_version, status, created_at, updated_at) VALUES (@name, @command, @args, @options, @quorum_version, @status, @created_at, @updated_at)',
  );
  const linkCall = t.prepare('INSERT OR IGNORE INTO run_calls (run_id, call_id, cached) VALUES (?, ?, ?)');
  const resultOf = t.prepare('SELECT value FROM results WHERE run_id = ? AND kind = ? AND item_key = ?');
  const insertResult = t.prepare(
    'INSERT INTO results (run_id, kind, item_key, position, status, score, value, updated_at) VALUES (@run_id, @kind, @item_key, @position, @status, @score, @value, @updated_at)',
  );
  const factOf = t.prepare('SELECT value FROM judge_facts WHERE judge_id = ? AND fact = ?');
  const insertFact = t.prepare('INSERT INTO judge_facts (judge_id, fact, value, evidence, updated_at) VALUES (@judge_id, @fact, @value, @evidence, @updated_at)');

  t.transaction(() => {
    /** Copies a content-addressed table; returns the rows that were new. */
    const copyAll = (table: string) => {
      const cols = columns(s, table);
      const insert = t.prepare(`INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
      let added = 0;
      for (const row of s.prepare(`SELECT * FROM ${table}`).iterate() as IterableIterator<Record<string, unknown>>) added += insert.run(row).changes;
      return added;
    };
    report.images = copyAll('images');
    copyAll('image_paths');
    copyAll('prompts');
    copyAll('judges');
    for (const f of s.prepare('SELECT * FROM judge_facts').iterate() as IterableIterator<{ judge_id: string; fact: string; value: string }>) {
      const have = factOf.get(f.judge_id, f.fact) as { value: string } | undefined;
      if (!have) insertFact.run(f);
      else if (have.value !== f.value) {
        report.conflicts.push({ kind: 'fact', key: `${f.judge_id.slice(0, 12)}/${f.fact}`, detail: `kept ${have.value}, not ${f.value}` });
      }
    }

    // Runs: the same name and configuration is one run; anything else under that name is carried renamed.
    const runIds = new Map<number, number>();
    for (const r of s.prepare('SELECT * FROM runs ORDER BY id').all() as RunRow[]) {
      const have = runByName.get(r.name) as RunRow | undefined;
      // A run still marked running in a copied file has no live owner here.
      const status = r.status === 'running' ? 'interrupted' : r.status;
      if (have && have.command === r.command && stableStringify(JSON.parse(have.options)) === stableStringify(JSON.parse(r.options))) {
        runIds.set(r.id, have.id);
        report.runs.joined++;
        continue;
      }
      let name = r.name;
      if (have) {
        name = `${r.name}@${label.replace(/^.*[\\/]/, '')}`;
        for (let k = 2; runByName.get(name); k++) name = `${r.name}@${label.replace(/^.*[\\/]/, '')}~${k}`;
        report.conflicts.push({ kind: 'run', key: r.name, detail: `another run of that name with a different command or options is in the target; carried as ${name}` });
        report.runs.renamed++;
      } else report.runs.added++;
      runIds.set(r.id, Number(insertRun.run({ ...r, name, status }).lastInsertRowid));
    }

    // Calls: matched by cache key; answers compared by their text.
    const callIds = new Map<number, number>();
    for (const c of s.prepare('SELECT * FROM calls ORDER BY id').iterate() as IterableIterator<Record<string, unknown> & { id: number; run_id: number; cache_key: string; status: string; raw: string | null; started_at: string; finished_at: string }>) {
      const runId = runIds.get(c.run_id) as number;
      if (c.status === 'error') {
        const same = sameError.get(c.cache_key, c.started_at, c.finished_at) as { id: number } | undefined;
        if (same) {
          callIds.set(c.id, same.id);
          report.calls.deduplicated++;
        } else {
          callIds.set(c.id, Number(insertCall.run({ ...c, run_id: runId }).lastInsertRowid));
          report.calls.added++;
        }
        continue;
      }
      const have = answerOf.get(c.cache_key) as { id: number; raw: string | null } | undefined;
      if (have) {
        callIds.set(c.id, have.id);
        if (have.raw === c.raw) report.calls.deduplicated++;
        else report.conflicts.push({ kind: 'call', key: c.cache_key, detail: `another answer for this sample is already stored (call ${have.id}); kept it` });
        continue;
      }
      callIds.set(c.id, Number(insertCall.run({ ...c, run_id: runId }).lastInsertRowid));
      report.calls.added++;
    }
    for (const l of s.prepare('SELECT * FROM run_calls').iterate() as IterableIterator<{ run_id: number; call_id: number; cached: number }>) {
      linkCall.run(runIds.get(l.run_id), callIds.get(l.call_id), l.cached);
    }

    for (const r of s.prepare('SELECT * FROM results').iterate() as IterableIterator<Record<string, unknown> & { run_id: number; kind: string; item_key: string; value: string }>) {
      const runId = runIds.get(r.run_id) as number;
      const have = resultOf.get(runId, r.kind, r.item_key) as { value: string } | undefined;
      if (!have) {
        insertResult.run({ ...r, run_id: runId });
        report.results++;
      } else if (resultIdentity(have.value) !== resultIdentity(r.value)) {
        report.conflicts.push({ kind: 'result', key: `${runId}/${r.kind}/${r.item_key}`, detail: 'a different result for this item is already stored; kept it' });
      }
    }
  }).immediate();
  return report;
}
