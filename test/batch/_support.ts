/**
 * Shared by the batch tests: the batches a database holds, and a config whose panel has a
 * judge without a batch API (a local llama model, generated for the test).
 */
import { writeFile } from 'node:fs/promises';
import type { JudgeServer } from '../support/judge-server/index.js';
import { writeTinyProjector, writeTinyTextModel } from '../support/gguf/index.js';
import { panelConfig, withDb, type TempDir } from '../scoring/_support.js';

export interface BatchRow {
  judge_id: string;
  provider: string;
  status: string;
  requests: number;
  succeeded: number;
  run_id: number;
}

/** The batches stored in `db`, in submission order. */
export const batchRows = (db: string): BatchRow[] =>
  withDb(db, (d) => d.prepare('SELECT judge_id, provider, status, requests, succeeded, run_id FROM batches ORDER BY id').all() as BatchRow[]);

/** Cache keys of the answered calls in `db`: a batch run's must be a live run's. */
export const okKeys = (db: string): string[] =>
  withDb(db, (d) => (d.prepare("SELECT cache_key FROM calls WHERE status = 'ok' ORDER BY cache_key").all() as { cache_key: string }[]).map((r) => r.cache_key));

/** The results rows stored in `db` (each pair, item or summary with its status and score). */
export const storedResults = (db: string): unknown[] =>
  withDb(db, (d) => d.prepare('SELECT kind, item_key, status, score FROM results ORDER BY kind, item_key').all());

/** Batches submitted to each server so far. */
export const created = (servers: readonly JudgeServer[]): number[] => servers.map((s) => s.batches.created);

/**
 * Writes `quorum.config.yaml` in `tmp` with panel `duo` of neurons `sim1` (the first
 * server) and `local`, a llama judge that has no batch API. Returns the file.
 */
export async function configWithLocalNeuron(tmp: TempDir, servers: readonly JudgeServer[]): Promise<string> {
  const model = writeTinyTextModel(tmp.path('tiny.gguf'));
  const mmproj = writeTinyProjector(tmp.path('tiny-mmproj.gguf'));
  const file = tmp.path('quorum.config.yaml');
  const local = ['  local:', `    judge: llama:${model}`, `    options: { mmproj: ${mmproj} }`, 'panels:'].join('\n');
  await writeFile(file, panelConfig(servers, 'duo', ['samples: 1', 'neurons:', '  - judge: sim1', '  - judge: local']).replace('panels:', local));
  return file;
}

/** The usage line a panel with a local neuron gets under `--batch`. */
export const NO_BATCH_API = /--batch needs every judge of panels\.duo to have a batch API \(openai, anthropic\); neuron 2 \(llama:.*tiny\.gguf\) has none/;
