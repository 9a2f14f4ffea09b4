import Database from 'better-sqlite3';
import { QuorumError } from '../core/errors.js';
import { migrations } from './migrations.js';

export interface ImageRecord {
  sha256: string;
  bytes: number;
  format: string;
  width: number;
  height: number;
  path: string;
}

export interface RunRecord {
  id: number;
  name: string;
  command: string;
  args: string[];
  options: Record<string, unknown>;
  quorumVersion: string;
  status: 'running' | 'done' | 'interrupted' | 'failed';
  createdAt: string;
  updatedAt: string;
}

export interface PromptRecord {
  hash: string;
  id: string;
  version: number;
  kind: string;
  text: string;
}

export interface JudgeRecord {
  id: string;
  provider: string;
  model: string;
  baseURL?: string | undefined;
  /** Everything that identifies the judge (never keys). */
  identity: Record<string, unknown>;
}

export type CallStatus = 'ok' | 'parse_error' | 'error';

/** One sample's call as stored. JSON columns are parsed on the way out. */
export interface CallRecord {
  id: number;
  cacheKey: string;
  runId: number;
  judgeId: string;
  promptHash: string;
  imageHashes: string[];
  sampleIndex: number;
  params: Record<string, unknown>;
  requestId: string | null;
  choiceIndex: number;
  raw: string | null;
  parsed: unknown;
  logprobs: unknown;
  status: CallStatus;
  error: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  latencyMs: number | null;
  attempts: number;
  meta: Record<string, unknown> | null;
  startedAt: string;
  finishedAt: string;
}

export type NewCall = Omit<CallRecord, 'id'>;

export interface ResultRecord {
  runId: number;
  kind: string;
  itemKey: string;
  position: number;
  status: string;
  score: number | null;
  value: unknown;
}

export interface JudgeParseRate {
  judgeId: string;
  provider: string;
  model: string;
  calls: number;
  parseFailures: number;
  errors: number;
  parseFailureRate: number;
}

interface CallRow {
  id: number;
  cache_key: string;
  run_id: number;
  judge_id: string;
  prompt_hash: string;
  image_hashes: string;
  sample_index: number;
  params: string;
  request_id: string | null;
  choice_index: number;
  raw: string | null;
  parsed: string | null;
  logprobs: string | null;
  status: CallStatus;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  latency_ms: number | null;
  attempts: number;
  meta: string | null;
  started_at: string;
  finished_at: string;
}

interface RunRow {
  id: number;
  name: string;
  command: string;
  args: string;
  options: string;
  quorum_version: string;
  status: RunRecord['status'];
  created_at: string;
  updated_at: string;
}

const parseJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const toJson = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

function callFromRow(row: CallRow): CallRecord {
  return {
    id: row.id,
    cacheKey: row.cache_key,
    runId: row.run_id,
    judgeId: row.judge_id,
    promptHash: row.prompt_hash,
    imageHashes: JSON.parse(row.image_hashes) as string[],
    sampleIndex: row.sample_index,
    params: JSON.parse(row.params) as Record<string, unknown>,
    requestId: row.request_id,
    choiceIndex: row.choice_index,
    raw: row.raw,
    parsed: parseJson(row.parsed),
    logprobs: parseJson(row.logprobs),
    status: row.status,
    error: row.error,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    latencyMs: row.latency_ms,
    attempts: row.attempts,
    meta: parseJson(row.meta) as Record<string, unknown> | null,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    name: row.name,
    command: row.command,
    args: JSON.parse(row.args) as string[],
    options: JSON.parse(row.options) as Record<string, unknown>,
    quorumVersion: row.quorum_version,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The one owner of Quorum's SQLite database. WAL journal, statements prepared once,
 * every write a short synchronous transaction, so a process killed at any moment
 * leaves only whole rows behind.
 */
export class Store {
  readonly db: Database.Database;
  readonly file: string;
  readonly #stmt: ReturnType<Store['prepareAll']>;
  /**
   * Image and result rows waiting to be written. They can always be rebuilt (an image is
   * re-read, a result re-aggregated from its calls), so they ride along with the next
   * call transaction, or `flush()`, instead of paying for a commit each; calls, which
   * cost money, are always committed at once.
   */
  readonly #deferred: (() => void)[] = [];

  private constructor(file: string) {
    this.file = file;
    try {
      this.db = new Database(file);
    } catch (cause) {
      throw new QuorumError(`Cannot open database ${file}: ${(cause as Error).message}`, { cause });
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable against a killed process (not against power loss) and much faster.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.#stmt = this.prepareAll();
  }

  /** Opens (creating if needed) a database file; `:memory:` for a throwaway store. */
  static open(file: string): Store {
    return new Store(file);
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }

  /** Writes deferred image and result rows now, in one transaction. */
  flush(): void {
    if (this.#deferred.length === 0) return;
    this.db.transaction(() => this.#runDeferred())();
  }

  #runDeferred(): void {
    for (const write of this.#deferred.splice(0)) write();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new QuorumError(
        `Database ${this.file} has schema version ${current}, newer than this Quorum understands (${migrations.length}); upgrade Quorum.`,
      );
    }
    for (let v = current; v < migrations.length; v++) {
      const sql = migrations[v] as string;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  private prepareAll() {
    const db = this.db;
    return {
      getImage: db.prepare('SELECT sha256, bytes, format, width, height, first_path AS path FROM images WHERE sha256 = ?'),
      insertImage: db.prepare(
        'INSERT INTO images (sha256, bytes, format, width, height, first_path) VALUES (@sha256, @bytes, @format, @width, @height, @path) ON CONFLICT(sha256) DO NOTHING',
      ),
      insertImagePath: db.prepare('INSERT OR IGNORE INTO image_paths (sha256, path) VALUES (?, ?)'),
      insertRun: db.prepare(
        'INSERT INTO runs (name, command, args, options, quorum_version) VALUES (@name, @command, @args, @options, @version)',
      ),
      runByName: db.prepare('SELECT * FROM runs WHERE name = ?'),
      runById: db.prepare('SELECT * FROM runs WHERE id = ?'),
      listRuns: db.prepare('SELECT * FROM runs ORDER BY id'),
      setRunStatus: db.prepare(
        "UPDATE runs SET status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
      ),
      updateRunInvocation: db.prepare(
        "UPDATE runs SET args = ?, options = ?, quorum_version = ?, status = 'running', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
      ),
      insertPrompt: db.prepare(
        'INSERT OR IGNORE INTO prompts (hash, id, version, kind, text) VALUES (@hash, @id, @version, @kind, @text)',
      ),
      insertJudge: db.prepare(
        'INSERT OR IGNORE INTO judges (id, provider, model, base_url, identity) VALUES (@id, @provider, @model, @baseURL, @identity)',
      ),
      cachedCall: db.prepare(
        "SELECT * FROM calls WHERE cache_key = ? AND status IN ('ok', 'parse_error') ORDER BY id DESC LIMIT 1",
      ),
      insertCall: db.prepare(`INSERT INTO calls (cache_key, run_id, judge_id, prompt_hash, image_hashes, sample_index,
          params, request_id, choice_index, raw, parsed, logprobs, status, error, input_tokens, output_tokens, cost_usd,
          latency_ms, attempts, meta, started_at, finished_at)
        VALUES (@cacheKey, @runId, @judgeId, @promptHash, @imageHashes, @sampleIndex, @params, @requestId, @choiceIndex,
          @raw, @parsed, @logprobs, @status, @error, @inputTokens, @outputTokens, @costUsd, @latencyMs, @attempts, @meta,
          @startedAt, @finishedAt)`),
      linkCall: db.prepare('INSERT OR IGNORE INTO run_calls (run_id, call_id, cached) VALUES (?, ?, ?)'),
      runCalls: db.prepare(
        'SELECT c.*, rc.cached AS cached FROM run_calls rc JOIN calls c ON c.id = rc.call_id WHERE rc.run_id = ? ORDER BY c.id',
      ),
      runErrorCalls: db.prepare("SELECT * FROM calls WHERE run_id = ? AND status = 'error' ORDER BY id"),
      upsertResult: db.prepare(`INSERT INTO results (run_id, kind, item_key, position, status, score, value)
        VALUES (@runId, @kind, @itemKey, @position, @status, @score, @value)
        ON CONFLICT(run_id, kind, item_key) DO UPDATE SET position = excluded.position, status = excluded.status,
          score = excluded.score, value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`),
      results: db.prepare('SELECT * FROM results WHERE run_id = ? AND (? IS NULL OR kind = ?) ORDER BY kind, position'),
      resultCounts: db.prepare('SELECT kind, count(*) AS n FROM results WHERE run_id = ? GROUP BY kind'),
      runTotals: db.prepare(`SELECT count(*) AS calls, sum(rc.cached) AS cached,
          sum(CASE WHEN c.status = 'ok' THEN 1 ELSE 0 END) AS ok,
          sum(CASE WHEN c.status = 'parse_error' THEN 1 ELSE 0 END) AS parse_errors,
          sum(CASE WHEN rc.cached = 0 THEN coalesce(c.cost_usd, 0) ELSE 0 END) AS cost_usd,
          (SELECT count(*) FROM results r WHERE r.run_id = @runId) AS results
        FROM run_calls rc JOIN calls c ON c.id = rc.call_id WHERE rc.run_id = @runId`),
      parseRates: db.prepare(`SELECT j.id AS judgeId, j.provider, j.model, count(*) AS calls,
          sum(CASE WHEN c.status = 'parse_error' THEN 1 ELSE 0 END) AS parseFailures,
          sum(CASE WHEN c.status = 'error' THEN 1 ELSE 0 END) AS errors
        FROM calls c JOIN judges j ON j.id = c.judge_id GROUP BY j.id ORDER BY j.provider, j.model`),
    };
  }

  // ---- images -------------------------------------------------------------------------

  getImage(sha256: string): ImageRecord | undefined {
    return this.#stmt.getImage.get(sha256) as ImageRecord | undefined;
  }

  /**
   * Records an image (once per content hash) and the path it was seen under. With
   * `deferred`, the row is written with the next call transaction or `flush()`.
   */
  putImage(image: ImageRecord, options: { deferred?: boolean } = {}): void {
    const write = () => {
      this.#stmt.insertImage.run(image);
      this.#stmt.insertImagePath.run(image.sha256, image.path);
    };
    if (options.deferred) this.#deferred.push(write);
    else this.db.transaction(write)();
  }

  // ---- runs ---------------------------------------------------------------------------

  /**
   * Starts a run, or resumes the run of that name when it exists for the same command:
   * a resumed run keeps its id, so its calls and results accumulate in one place.
   */
  openRun(input: {
    name: string;
    command: string;
    args: readonly string[];
    options: Record<string, unknown>;
    version: string;
  }): { run: RunRecord; resumed: boolean } {
    return this.db.transaction(() => {
      const existing = this.#stmt.runByName.get(input.name) as RunRow | undefined;
      const args = JSON.stringify(input.args);
      const options = JSON.stringify(input.options);
      if (existing) {
        if (existing.command !== input.command) {
          throw new QuorumError(
            `Run \`${input.name}\` already exists for \`quorum ${existing.command}\`; choose another --run name.`,
          );
        }
        this.#stmt.updateRunInvocation.run(args, options, input.version, existing.id);
        return { run: this.getRun(existing.id) as RunRecord, resumed: true };
      }
      const info = this.#stmt.insertRun.run({ name: input.name, command: input.command, args, options, version: input.version });
      return { run: this.getRun(Number(info.lastInsertRowid)) as RunRecord, resumed: false };
    })();
  }

  getRun(nameOrId: string | number): RunRecord | undefined {
    const row =
      typeof nameOrId === 'number'
        ? (this.#stmt.runById.get(nameOrId) as RunRow | undefined)
        : ((this.#stmt.runByName.get(nameOrId) as RunRow | undefined) ??
          (/^\d+$/.test(nameOrId) ? (this.#stmt.runById.get(Number(nameOrId)) as RunRow | undefined) : undefined));
    return row ? runFromRow(row) : undefined;
  }

  listRuns(): RunRecord[] {
    return (this.#stmt.listRuns.all() as RunRow[]).map(runFromRow);
  }

  setRunStatus(runId: number, status: RunRecord['status']): void {
    this.flush();
    this.#stmt.setRunStatus.run(status, runId);
  }

  runTotals(runId: number): { calls: number; cached: number; ok: number; parseErrors: number; costUsd: number; results: number } {
    const row = this.#stmt.runTotals.get({ runId }) as {
      results: number;
      calls: number;
      cached: number | null;
      ok: number | null;
      parse_errors: number | null;
      cost_usd: number | null;
    };
    return {
      calls: row.calls,
      results: row.results,
      cached: row.cached ?? 0,
      ok: row.ok ?? 0,
      parseErrors: row.parse_errors ?? 0,
      costUsd: row.cost_usd ?? 0,
    };
  }

  // ---- prompts and judges -------------------------------------------------------------

  putPrompt(prompt: PromptRecord): void {
    this.#stmt.insertPrompt.run(prompt);
  }

  putJudge(judge: JudgeRecord): void {
    this.#stmt.insertJudge.run({
      id: judge.id,
      provider: judge.provider,
      model: judge.model,
      baseURL: judge.baseURL ?? null,
      identity: JSON.stringify(judge.identity),
    });
  }

  // ---- calls --------------------------------------------------------------------------

  /** The latest completed call (answered, parsed or not) for a cache key. Errors never count. */
  cachedCall(cacheKey: string): CallRecord | undefined {
    const row = this.#stmt.cachedCall.get(cacheKey) as CallRow | undefined;
    return row ? callFromRow(row) : undefined;
  }

  /** Marks cached calls as used by a run, in one transaction. */
  linkCached(runId: number, callIds: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of callIds) this.#stmt.linkCall.run(runId, id, 1);
    })();
  }

  /**
   * Writes the calls of one request (all its samples) atomically and links them to the
   * run: after a kill, either all of them are there or none is.
   */
  recordCalls(calls: readonly NewCall[]): number[] {
    return this.db.transaction(() => {
      this.#runDeferred();
      const ids: number[] = [];
      for (const call of calls) {
        const info = this.#stmt.insertCall.run({
          ...call,
          imageHashes: JSON.stringify(call.imageHashes),
          params: JSON.stringify(call.params),
          parsed: toJson(call.parsed),
          logprobs: toJson(call.logprobs),
          meta: toJson(call.meta),
        });
        const id = Number(info.lastInsertRowid);
        if (call.status !== 'error') this.#stmt.linkCall.run(call.runId, id, 0);
        ids.push(id);
      }
      return ids;
    })();
  }

  /** Calls a run used (made or served from cache), oldest first, with `cached` set. */
  runCalls(runId: number): (CallRecord & { cached: boolean })[] {
    return (this.#stmt.runCalls.all(runId) as (CallRow & { cached: number })[]).map((row) => ({
      ...callFromRow(row),
      cached: row.cached === 1,
    }));
  }

  /** Failed provider calls made by a run (kept for inspection, never served from cache). */
  runErrorCalls(runId: number): CallRecord[] {
    return (this.#stmt.runErrorCalls.all(runId) as CallRow[]).map(callFromRow);
  }

  /** Per judge: how many answered calls did not parse. */
  parseFailureRates(): JudgeParseRate[] {
    return (this.#stmt.parseRates.all() as Omit<JudgeParseRate, 'parseFailureRate'>[]).map((r) => {
      const answered = r.calls - r.errors;
      return { ...r, parseFailureRate: answered > 0 ? r.parseFailures / answered : 0 };
    });
  }

  // ---- results ------------------------------------------------------------------------

  /** Upserts results; with `deferred`, they are written with the next call transaction or `flush()`. */
  putResults(results: readonly ResultRecord[], options: { deferred?: boolean } = {}): void {
    const write = () => {
      for (const r of results) this.#stmt.upsertResult.run({ ...r, value: JSON.stringify(r.value) });
    };
    if (options.deferred) this.#deferred.push(write);
    else this.db.transaction(write)();
  }

  /** How many results of each kind (`image`, `pair`, `rank`, `summary`) a run holds, counted in SQL. */
  resultCounts(runId: number): Record<string, number> {
    const rows = this.#stmt.resultCounts.all(runId) as { kind: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  results(runId: number, kind?: string): ResultRecord[] {
    const k = kind ?? null;
    return (
      this.#stmt.results.all(runId, k, k) as {
        run_id: number;
        kind: string;
        item_key: string;
        position: number;
        status: string;
        score: number | null;
        value: string;
      }[]
    ).map((row) => ({
      runId: row.run_id,
      kind: row.kind,
      itemKey: row.item_key,
      position: row.position,
      status: row.status,
      score: row.score,
      value: JSON.parse(row.value) as unknown,
    }));
  }
}
