import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { QuorumError, StoreError } from '../core/errors.js';
import { stableStringify } from '../core/stable-json.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrations } from './migrations.js';
import { BUSY_TIMEOUT_MS, checkDatabasePath, checkOwnSchema, databasePathProblem, migrate, sqliteReason } from './_open.js';
import { LEASE_MS, newOwner, ownerAlive } from './_owner.js';
import { IdSet } from './_id-set.js';
import { QUORUM_VERSION } from '../version.js';

/**
 * Runs `step`, again while SQLite answers that the database is busy, for at most the busy
 * timeout: for the statements SQLite will not wait on itself (see the WAL switch below).
 */
function whenUnlocked<T>(step: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return step();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(50, 2 + attempt * 3 + Math.random() * 5));
    }
  }
}

/**
 * better-sqlite3's compiled addon, handed to it (`nativeBinding`): where its build puts it,
 * or else wherever the `bindings` package finds it under better-sqlite3's own folder.
 * better-sqlite3's default lookup runs `bindings` from the file that calls it, which in
 * the CLI bundle is not better-sqlite3's folder, and costs ~2 ms of every start-up in a
 * stack trace and a dozen candidate paths. The first place looked at is Quorum's own
 * node_modules (this file is two folders down, in `src/`, `dist/` or the CLI bundle), the
 * one Node's resolution would find first; resolving the package costs another ~0.5 ms.
 */
let addon: { nativeBinding: string } | undefined;
function addonOption(): { nativeBinding: string } {
  if (addon === undefined) {
    const own = fileURLToPath(new URL('../../node_modules/better-sqlite3/build/Release/better_sqlite3.node', import.meta.url));
    if (existsSync(own)) return (addon = { nativeBinding: own });
    const manifest = createRequire(import.meta.url).resolve('better-sqlite3/package.json');
    const built = join(dirname(manifest), 'build', 'Release', 'better_sqlite3.node');
    addon = existsSync(built)
      ? { nativeBinding: built }
      : // The addon object itself, which better-sqlite3 takes too (its typings say a path).
        { nativeBinding: (createRequire(manifest)('bindings') as (o: object) => string)({ bindings: 'better_sqlite3.node', module_root: dirname(manifest) }) };
  }
  return addon;
}

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
  /** `running` only while a live process holds the run; a killed run reads `interrupted`. */
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

/**
 * Why an answered call did not parse. `mismatch`: the request did not fit the server (no
 * log-probabilities came back, fewer choices than asked): re-asked on the next run by
 * default. `answer`: the model answered and its answer did not parse: kept as the
 * judge's answer unless the run asks for `--retry-failed`.
 */
export type FailureKind = 'mismatch' | 'answer';

/** Which stored parse failures a run re-asks instead of serving from the cache. */
export type RetryFailed = 'none' | 'mismatch' | 'all';

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
  /** Set on `parse_error` calls. */
  failure: FailureKind | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  latencyMs: number | null;
  attempts: number;
  meta: Record<string, unknown> | null;
  startedAt: string;
  finishedAt: string;
  /** The replica of an endpoint pool that answered; absent or null for a judge on one server. */
  endpoint?: string | null;
}

export type NewCall = Omit<CallRecord, 'id'>;

/**
 * What claiming cache keys found: answered meanwhile (`done`), now this process's to send
 * (`mine`), or being asked by another live process (`theirs`).
 */
export interface Claimed {
  done: Map<string, StoredAnswer>;
  mine: Set<string>;
  theirs: Set<string>;
}

/**
 * What serving a stored sample from the cache needs (its key, index, status and parsed
 * answer): read without the raw text, tokens, timings and JSON columns no judging
 * strategy reads, which were most of a cached rerun's time.
 */
export type StoredAnswer = Pick<CallRecord, 'id' | 'cacheKey' | 'sampleIndex' | 'status' | 'error' | 'failure' | 'parsed'>;

export interface ResultRecord {
  runId: number;
  kind: string;
  itemKey: string;
  position: number;
  status: string;
  score: number | null;
  value: unknown;
  /**
   * What the value was computed from beyond the item itself, in a few characters (for a
   * score: the judge, prompt, sampling parameters and sample count), kept in the row's
   * fingerprint: see `Store.storedItem`.
   */
  basis?: string;
}

/** What a stored result's fingerprint says about it (`Store.storedItem`). */
export interface StoredItem {
  /**
   * The content hash its value names. A file that still hashes to it is known: its image
   * and path rows were written before, or with, the result row.
   */
  sha256: string | undefined;
  position: number;
  status: string;
  /** The `basis` it was written with, when this version of Quorum wrote it. */
  basis: string | undefined;
}

/** A stored `quorum eval`: its report and the scored items, for `eval --compare`. */
export interface EvaluationRecord {
  name: string;
  runId: number | null;
  /** `<kind>:<path>` with the split. */
  dataset: string;
  judge: string;
  prompt: string;
  method: string;
  report: unknown;
  /** Per image: key (dataset name), judge score, normalised human score. */
  items: { key: string; score: number; human: number }[];
}

/** A stored `quorum calibrate`: what it was fitted for and the fitted model. */
export interface CalibrationRecord {
  name: string;
  judge: string;
  prompt: string;
  method: string;
  dataset: string;
  model: unknown;
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
  failure: FailureKind | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  latency_ms: number | null;
  attempts: number;
  meta: string | null;
  started_at: string;
  finished_at: string;
  endpoint: string | null;
}

/** A `runs` row as SQLite returns it (also read by `merge.ts`). */
export interface RunRow {
  id: number;
  name: string;
  command: string;
  args: string;
  options: string;
  quorum_version: string;
  status: RunRecord['status'];
  created_at: string;
  updated_at: string;
  owner: string | null;
  heartbeat_at: number | null;
}

/**
 * A result row in a few bytes: equal fingerprints mean the upsert would change nothing.
 * The value's JSON is folded into 53 bits (two multiplicative 32-bit lanes, as in
 * cyrb53), a fraction of a sha256's cost; a changed row that kept its fingerprint would
 * need a 2^-53 coincidence. It starts with the content hash the value names (`sha256`,
 * 64 hex digits, or nothing) and ends with the version of Quorum that wrote the row and
 * the record's `basis`: see `Store.storedItem`.
 */
function resultPrint(position: number, status: string, score: number | null, value: string, basis = ''): string {
  const at = value.indexOf('"sha256":"');
  const sha = at >= 0 && value.charCodeAt(at + 74) === 34 ? value.slice(at + 10, at + 74) : '';
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${sha}|${position}|${status}|${score}|${value.length}|${4294967296 * (2097151 & h2) + (h1 >>> 0)}|${QUORUM_VERSION}|${basis}`;
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
    failure: row.failure,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    latencyMs: row.latency_ms,
    attempts: row.attempts,
    meta: parseJson(row.meta) as Record<string, unknown> | null,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    endpoint: row.endpoint,
  };
}

/**
 * The latest answer for a key, by `--retry-failed` rule: which stored parse failures count
 * as answers. Newest first from the (cache_key, id) index, without a sort.
 */
function cachedQueries(db: BetterSqlite3.Database, columns: string, raw = false) {
  return {
    none: db.prepare(`SELECT ${columns} FROM calls WHERE cache_key = ? AND status IN ('ok', 'parse_error') ORDER BY id DESC LIMIT 1`).raw(raw),
    mismatch: db
      .prepare(
        `SELECT ${columns} FROM calls WHERE cache_key = ? AND (status = 'ok' OR (status = 'parse_error' AND failure IS NOT 'mismatch')) ORDER BY id DESC LIMIT 1`,
      )
      .raw(raw),
    all: db.prepare(`SELECT ${columns} FROM calls WHERE cache_key = ? AND status = 'ok' ORDER BY id DESC LIMIT 1`).raw(raw),
  };
}

/**
 * An object whose members are made on first use: a statement is prepared when a command
 * first runs it, not every statement at every open (`runs` uses four of forty).
 */
function lazily<T extends Record<string, () => unknown>>(makers: T): { [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const name of Object.keys(makers) as (keyof T)[]) {
    Object.defineProperty(out, name, {
      configurable: true,
      enumerable: true,
      get() {
        const value = makers[name]!() as ReturnType<T[typeof name]>;
        Object.defineProperty(out, name, { value, enumerable: true });
        return value;
      },
    });
  }
  return out;
}

/** What makes a run's configuration, named for the refusal message. */
const CONFIG_KEYS: Record<string, string> = {
  judge: 'judge',
  baseURL: 'base URL',
  engine: 'engine options',
  method: 'method',
  prompt: 'prompt',
  samples: 'samples',
  temperature: 'temperature',
  inputs: 'inputs',
  dirs: 'folders',
  systems: 'systems',
  items: 'items',
};

/** Lookups from which `cachedAnswers` holds one read transaction for them all (BEGIN and COMMIT cost about two). */
const READ_BATCH_MIN = 3;
/**
 * How long a claim made with `claimSoon` waits for a call's transaction to ride with before
 * it is committed on its own: a request waiting for a slot waits for an answer, and answers
 * come every few milliseconds when the queue is full.
 */
const CLAIM_RIDE_MS = 20;

/** Deferred rows gathered before they ride with a call's transaction. */
const DEFERRED_BATCH = 64;

/** Options a resumed run may change: a larger rank budget judges more pairs of the same ranking. */
const RESUMABLE_CHANGES = new Set(['budget']);

/** How a stored run differs from a new invocation: command, then each option that changed. */
function runDifferences(existing: RunRow, input: { command: string; options: Record<string, unknown> }): string[] {
  if (existing.command !== input.command) return [`a \`quorum ${existing.command}\` run`];
  const old = JSON.parse(existing.options) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(old), ...Object.keys(input.options)])].sort();
  const show = (v: unknown) => {
    const p = v as { id?: string; version?: number } | undefined;
    const text = p && typeof p === 'object' && typeof p.id === 'string' ? `${p.id}@${p.version ?? '?'}` : JSON.stringify(v) ?? 'none';
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  };
  return keys
    .filter((k) => !RESUMABLE_CHANGES.has(k) && stableStringify(old[k]) !== stableStringify(input.options[k]))
    .map((k) => `${CONFIG_KEYS[k] ?? k} ${show(old[k])} (now ${show(input.options[k])})`);
}

function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    name: row.name,
    command: row.command,
    args: JSON.parse(row.args) as string[],
    options: JSON.parse(row.options) as Record<string, unknown>,
    quorumVersion: row.quorum_version,
    status: row.status === 'running' && !ownerAlive(row.owner, row.heartbeat_at) ? 'interrupted' : row.status,
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
  readonly db: BetterSqlite3.Database;
  readonly file: string;
  readonly #stmt: ReturnType<Store['prepareAll']>;
  /**
   * Image and result rows waiting to be written. They can always be rebuilt (an image is
   * re-read, a result re-aggregated from its calls), so they ride along with the next
   * call transaction, or `flush()`, instead of paying for a commit each; calls, which
   * cost money, are always committed at once.
   */
  readonly #deferred: (() => void)[] = [];
  /** Claims waiting to ride with the next call's transaction (`claimSoon`). */
  readonly #claimsDue: { keys: readonly string[]; retry: RetryFailed; resolve: (c: Claimed) => void; reject: (e: unknown) => void }[] = [];
  #claimTimer: NodeJS.Timeout | undefined;
  /** One transaction wrapper for every `#write` and batched read: making one per call costs more than its statements. */
  readonly #transaction: BetterSqlite3.Transaction<(fn: () => unknown) => unknown>;
  #deferredSince = Date.now();
  /**
   * What this process knows a run holds, so that a rerun does not ask SQLite again for each
   * row it would leave unchanged: the calls linked to each run (read once per run, then
   * kept in step; links are never deleted), and a fingerprint of each result row
   * (position, status, score and a 53-bit hash of the value's JSON), read once
   * per run and kind.
   */
  readonly #linked = new Map<number, IdSet>();
  readonly #resultPrints = new Map<string, Map<string, string>>();
  /** This process's name on runs it holds and calls it has claimed (`host:pid:nonce`). */
  get owner(): string {
    return (this.#owner ??= newOwner());
  }
  #owner: string | undefined;

  private constructor(file: string, db: BetterSqlite3.Database) {
    this.file = file;
    this.db = db;
    this.#stmt = this.prepareAll();
    this.#transaction = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Opens (creating if needed) a Quorum database; `:memory:` for a throwaway store.
   * Every problem with the file is one `StoreError` line naming it: a missing folder,
   * a file that is not SQLite, a corrupt or truncated one, another program's database
   * (left untouched: nothing is written to a file Quorum did not create), a read-only
   * file, a schema newer than this Quorum.
   */
  static open(file: string, options: { readOnly?: boolean } = {}): Store {
    if (file === ':memory:') return Store.#connect(file, false);
    if (options.readOnly) {
      if (!existsSync(file)) throw new StoreError(file, 'does not exist (give the --db that the run used, or set QUORUM_DB)');
      // An archived database that cannot be written is read as it is.
      return Store.#connect(file, databasePathProblem(file) !== undefined);
    }
    checkDatabasePath(file);
    return Store.#connect(file, false);
  }

  /**
   * Opens the file and checks it is Quorum's before anything is written. Read-write: WAL,
   * then the migrations it lacks. Read-only: the schema must already be this Quorum's.
   * Every failure is one `StoreError` naming the file.
   */
  static #connect(file: string, readonly: boolean): Store {
    let db: BetterSqlite3.Database | undefined;
    try {
      db = readonly ? new Database(file, { readonly: true, fileMustExist: true, ...addonOption() }) : new Database(file, addonOption());
      // Set first: every later statement, the schema check included, waits for other
      // processes' locks instead of failing with `database is locked`.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      checkOwnSchema(db, file);
      if (readonly) {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version !== migrations.length) {
          throw new StoreError(file, `is read-only and has schema version ${version}; this Quorum needs ${migrations.length}: make it writable once to upgrade it`);
        }
      } else {
        // Turning a new database to WAL needs it alone for a moment; SQLite answers BUSY at once,
        // without waiting, when processes opening it at the same instant hold it (a deadlock
        // it will not wait out), so the switch is retried within the busy timeout.
        whenUnlocked(() => db!.pragma('journal_mode = WAL'));
        // NORMAL is durable against a killed process (not against power loss) and much faster.
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
        migrate(db, file);
      }
      return new Store(file, db);
    } catch (cause) {
      db?.close();
      throw cause instanceof StoreError ? cause : new StoreError(file, sqliteReason(cause), { cause });
    }
  }

  close(): void {
    if (!this.db.open) return;
    clearTimeout(this.#claimTimer);
    this.#claimTimer = undefined;
    for (const d of this.#claimsDue.splice(0)) d.reject(new StoreError(this.file, 'was closed before a claim was made'));
    this.flush();
    this.db.close();
  }

  /** Writes deferred image and result rows now, in one transaction. */
  flush(): void {
    if (this.#deferred.length === 0) return;
    this.#write(() => this.#runDeferred());
  }

  /**
   * A write transaction that takes the write lock at BEGIN (IMMEDIATE), so another
   * process's lock is waited for under `busy_timeout`. A deferred transaction that reads
   * first and writes later fails at once with SQLITE_BUSY instead.
   */
  #write<T>(fn: () => T): T {
    return this.#transaction.immediate(fn) as T;
  }

  /**
   * A write for later: with the next call's transaction, or on its own once enough have
   * gathered or a second has passed (a run that makes no calls, such as a cached rerun
   * rewriting its result rows, would otherwise hold every row until it closes).
   */
  #defer(write: () => void): void {
    this.#deferred.push(write);
    if (this.#deferredDue() && !this.db.inTransaction) this.flush();
  }

  #runDeferred(): void {
    this.#deferredSince = Date.now();
    for (const write of this.#deferred.splice(0)) write();
  }

  /**
   * Deferred rows ride with a call's transaction once enough have gathered (or a second
   * has passed): written in one go, they touch each table's pages once instead of once
   * per call, which is most of what a call's commit costs.
   */
  #deferredDue(): boolean {
    return this.#deferred.length >= DEFERRED_BATCH || Date.now() - this.#deferredSince >= 1000;
  }

  private prepareAll() {
    const db = this.db;
    return lazily({
      getImage: () => db.prepare('SELECT sha256, bytes, format, width, height, first_path AS path FROM images WHERE sha256 = ?'),
      insertImage: () => db.prepare(
        'INSERT INTO images (sha256, bytes, format, width, height, first_path) VALUES (@sha256, @bytes, @format, @width, @height, @path) ON CONFLICT(sha256) DO NOTHING',
      ),
      insertImagePath: () => db.prepare('INSERT OR IGNORE INTO image_paths (sha256, path) VALUES (?, ?)'),
      insertRun: () => db.prepare(
        'INSERT INTO runs (name, command, args, options, quorum_version, owner, heartbeat_at) VALUES (@name, @command, @args, @options, @version, @owner, @heartbeat)',
      ),
      renameRun: () => db.prepare('UPDATE runs SET name = ? WHERE id = ?'),
      runByName: () => db.prepare('SELECT * FROM runs WHERE name = ?'),
      runById: () => db.prepare('SELECT * FROM runs WHERE id = ?'),
      listRuns: () => db.prepare('SELECT * FROM runs ORDER BY id'),
      setRunStatus: () => db.prepare(
        "UPDATE runs SET status = ?, heartbeat_at = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
      ),
      updateRunInvocation: () => db.prepare(
        "UPDATE runs SET args = ?, options = ?, quorum_version = ?, status = 'running', owner = ?, heartbeat_at = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
      ),
      runHeartbeat: () => db.prepare('UPDATE runs SET heartbeat_at = ? WHERE owner = ? AND status = \'running\''),
      claimHeartbeat: () => db.prepare('UPDATE claims SET expires_at = ? WHERE owner = ?'),
      claimOf: () => db.prepare('SELECT owner, expires_at FROM claims WHERE cache_key = ?'),
      putClaim: () => db.prepare('INSERT INTO claims (cache_key, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT(cache_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at'),
      releaseClaim: () => db.prepare('DELETE FROM claims WHERE cache_key = ? AND owner = ?'),
      releaseClaims: () => db.prepare('DELETE FROM claims WHERE owner = ?'),
      getFact: () => db.prepare('SELECT value FROM judge_facts WHERE judge_id = ? AND fact = ?'),
      putFact: () => db.prepare(`INSERT INTO judge_facts (judge_id, fact, value, evidence) VALUES (?, ?, ?, ?)
        ON CONFLICT(judge_id, fact) DO UPDATE SET value = excluded.value, evidence = excluded.evidence,
          updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`),
      // Only a sample's latest call in the run counts: a failure asked again since is history.
      storedFailures: () => db.prepare(`SELECT c.failure AS failure, count(*) AS n FROM run_calls rc JOIN calls c ON c.id = rc.call_id
        WHERE rc.run_id = @runId AND c.status = 'parse_error' AND NOT EXISTS (
          SELECT 1 FROM run_calls rl JOIN calls l ON l.id = rl.call_id
          WHERE rl.run_id = @runId AND l.cache_key = c.cache_key AND l.id > c.id)
        GROUP BY c.failure`),
      insertPrompt: () => db.prepare(
        'INSERT OR IGNORE INTO prompts (hash, id, version, kind, text) VALUES (@hash, @id, @version, @kind, @text)',
      ),
      getJudge: () => db.prepare('SELECT id, provider, model, base_url AS baseURL, identity FROM judges WHERE id = ?'),
      insertJudge: () => db.prepare(
        'INSERT OR IGNORE INTO judges (id, provider, model, base_url, identity) VALUES (@id, @provider, @model, @baseURL, @identity)',
      ),
      cachedCall: () => cachedQueries(db, '*'),
      cachedAnswer: () => cachedQueries(db, 'id, cache_key, sample_index, status, error, failure, parsed', true),
      insertCall: () => db.prepare(`INSERT INTO calls (cache_key, run_id, judge_id, prompt_hash, image_hashes, sample_index,
          params, request_id, choice_index, raw, parsed, logprobs, status, error, failure, input_tokens, output_tokens, cost_usd,
          latency_ms, attempts, meta, started_at, finished_at, endpoint)
        VALUES (@cacheKey, @runId, @judgeId, @promptHash, @imageHashes, @sampleIndex, @params, @requestId, @choiceIndex,
          @raw, @parsed, @logprobs, @status, @error, @failure, @inputTokens, @outputTokens, @costUsd, @latencyMs, @attempts, @meta,
          @startedAt, @finishedAt, @endpoint)`),
      linkCall: () => db.prepare('INSERT OR IGNORE INTO run_calls (run_id, call_id, cached) VALUES (?, ?, ?)'),
      runCallIds: () => db.prepare('SELECT call_id FROM run_calls WHERE run_id = ?'),
      // A row's fingerprint is stored with it; rows written without one (by `quorum merge`, or
      // before the column existed) have it computed from their value.
      resultPrints: () =>
        db.prepare('SELECT item_key, print, position, status, score, CASE WHEN print IS NULL THEN value END FROM results WHERE run_id = ? AND kind = ?'),
      runCalls: () => db.prepare(
        'SELECT c.*, rc.cached AS cached FROM run_calls rc JOIN calls c ON c.id = rc.call_id WHERE rc.run_id = ? ORDER BY c.id',
      ),
      runErrorCalls: () => db.prepare("SELECT * FROM calls WHERE run_id = ? AND status = 'error' ORDER BY id"),
      // A rerun writes the same results again: a row is only rewritten (and its updated_at
      // moved) when something in it changed.
      upsertResult: () => db.prepare(`INSERT INTO results (run_id, kind, item_key, position, status, score, value, print)
        VALUES (@runId, @kind, @itemKey, @position, @status, @score, @value, @print)
        ON CONFLICT(run_id, kind, item_key) DO UPDATE SET position = excluded.position, status = excluded.status,
          score = excluded.score, value = excluded.value, print = excluded.print, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
        WHERE position IS NOT excluded.position OR status IS NOT excluded.status OR score IS NOT excluded.score
          OR value IS NOT excluded.value OR print IS NOT excluded.print`),
      resultValue: () => db.prepare('SELECT value FROM results WHERE run_id = ? AND kind = ? AND item_key = ?'),
      setResultPrint: () => db.prepare('UPDATE results SET print = ? WHERE run_id = ? AND kind = ? AND item_key = ?'),
      results: () => db.prepare('SELECT * FROM results WHERE run_id = ? AND (? IS NULL OR kind = ?) ORDER BY kind, position'),
      resultCounts: () => db.prepare('SELECT kind, count(*) AS n FROM results WHERE run_id = ? GROUP BY kind'),
      deleteFindings: () => db.prepare('DELETE FROM hallucination_findings WHERE run_id = ? AND item_key = ?'),
      insertFinding: () => db.prepare(`INSERT INTO hallucination_findings (run_id, item_key, idx, kind, severity, x0, y0, x1, y1, support)
        VALUES (@runId, @itemKey, @idx, @kind, @severity, @x0, @y0, @x1, @y1, @support)`),
      findings: () => db.prepare('SELECT * FROM hallucination_findings WHERE run_id = ? ORDER BY item_key, idx'),
      runTotals: () => db.prepare(`SELECT count(*) AS calls, sum(rc.cached) AS cached,
          sum(CASE WHEN c.status = 'ok' THEN 1 ELSE 0 END) AS ok,
          sum(CASE WHEN c.status = 'parse_error' THEN 1 ELSE 0 END) AS parse_errors,
          sum(CASE WHEN rc.cached = 0 THEN coalesce(c.cost_usd, 0) ELSE 0 END) AS cost_usd,
          (SELECT count(*) FROM results r WHERE r.run_id = @runId) AS results
        FROM run_calls rc JOIN calls c ON c.id = rc.call_id WHERE rc.run_id = @runId`),
      parseRates: () => db.prepare(`SELECT j.id AS judgeId, j.provider, j.model, count(*) AS calls,
          sum(CASE WHEN c.status = 'parse_error' THEN 1 ELSE 0 END) AS parseFailures,
          sum(CASE WHEN c.status = 'error' THEN 1 ELSE 0 END) AS errors
        FROM calls c JOIN judges j ON j.id = c.judge_id GROUP BY j.id ORDER BY j.provider, j.model`),
    });
  }

  // ---- images -------------------------------------------------------------------------

  getImage(sha256: string): ImageRecord | undefined {
    return this.#stmt.getImage.get(sha256) as ImageRecord | undefined;
  }

  /**
   * Records an image (once per content hash) and the path it was seen under. With
   * `deferred`, the row is written with the next call transaction or `flush()`; with
   * `known`, only the path (the image was found by `getImage`).
   */
  putImage(image: ImageRecord, options: { deferred?: boolean; known?: boolean; knownPath?: string } = {}): void {
    // `known`: the image row is there (read with getImage), its first path with it (one
    // transaction wrote both), so only another path is new.
    if (options.known && options.knownPath === image.path) return;
    const write = () => {
      if (!options.known) this.#stmt.insertImage.run(image);
      this.#stmt.insertImagePath.run(image.sha256, image.path);
    };
    if (options.deferred) this.#defer(write);
    else this.#write(write);
  }

  // ---- runs ---------------------------------------------------------------------------

  /**
   * Starts a run, or resumes the run of that name when it holds the same command and
   * configuration (`options`): a resumed run keeps its id, so its calls and results
   * accumulate in one place. A run of that name with anything else is refused, so two
   * configurations never mix in one run; with `fresh`, the old run is kept under
   * `NAME~ID` and a new one takes the name.
   */
  openRun(input: {
    name: string;
    command: string;
    args: readonly string[];
    options: Record<string, unknown>;
    version: string;
    fresh?: boolean;
  }): { run: RunRecord; resumed: boolean; renamed?: string } {
    return this.#write(() => {
      const existing = this.#stmt.runByName.get(input.name) as RunRow | undefined;
      const args = JSON.stringify(input.args);
      const options = JSON.stringify(input.options);
      const now = Date.now() + LEASE_MS;
      let renamed: string | undefined;
      if (existing && input.fresh) {
        renamed = `${input.name}~${existing.id}`;
        this.#stmt.renameRun.run(renamed, existing.id);
      } else if (existing) {
        const differences = runDifferences(existing, input);
        if (differences.length > 0) {
          throw new QuorumError(
            `Run \`${input.name}\` already holds ${differences.join('; ')}. ` +
              `Use --run ${input.name} --new to start it afresh (the old run is kept as ${input.name}~${existing.id}), or another --run name.`,
          );
        }
        this.#stmt.updateRunInvocation.run(args, options, input.version, this.owner, now, existing.id);
        return { run: this.getRun(existing.id) as RunRecord, resumed: true };
      }
      const info = this.#stmt.insertRun.run({
        name: input.name,
        command: input.command,
        args,
        options,
        version: input.version,
        owner: this.owner,
        heartbeat: now,
      });
      return { run: this.getRun(Number(info.lastInsertRowid)) as RunRecord, resumed: false, ...(renamed ? { renamed } : {}) };
    });
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

  /**
   * Settles a run this process worked on. A run resumed by a second process belongs to the
   * last one that opened it: while that one lives, only it settles the status; once it is
   * gone (killed with `kill -9`), a process that finished the run settles it, or the run
   * would read `interrupted` although it is complete.
   */
  setRunStatus(runId: number, status: RunRecord['status']): void {
    this.flush();
    this.#write(() => {
      const row = this.#stmt.runById.get(runId) as RunRow | undefined;
      if (row?.owner && row.owner !== this.owner && ownerAlive(row.owner, row.heartbeat_at)) return;
      this.#stmt.setRunStatus.run(status, runId);
    });
  }

  /**
   * Renews this process's leases: the runs it holds stay `running` and its claimed calls
   * stay claimed. Called every few seconds while a run works.
   */
  heartbeat(): void {
    const until = Date.now() + LEASE_MS;
    this.#write(() => {
      this.#stmt.runHeartbeat.run(until, this.owner);
      this.#stmt.claimHeartbeat.run(until, this.owner);
    });
  }

  runTotals(runId: number): { calls: number; cached: number; ok: number; parseErrors: number; costUsd: number; results: number } {
    this.flush(); // reads see the links and rows this process deferred
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

  getJudge(id: string): JudgeRecord | undefined {
    const row = this.#stmt.getJudge.get(id) as (Omit<JudgeRecord, 'identity'> & { identity: string; baseURL: string | null }) | undefined;
    return row ? { ...row, baseURL: row.baseURL ?? undefined, identity: JSON.parse(row.identity) as Record<string, unknown> } : undefined;
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

  /**
   * The latest answer stored for a cache key. Errors never count; parse failures count
   * unless `retry` says to ask them again (default: those from a method/server mismatch).
   */
  cachedCall(cacheKey: string, retry: RetryFailed = 'mismatch'): CallRecord | undefined {
    const row = this.#stmt.cachedCall[retry].get(cacheKey) as CallRow | undefined;
    return row ? callFromRow(row) : undefined;
  }

  /** The latest answer stored for a cache key, as `cachedCall` finds it, with only what serving it needs. */
  cachedAnswer(cacheKey: string, retry: RetryFailed = 'mismatch'): StoredAnswer | undefined {
    // Columns by position (the query's order): no row object per lookup.
    const row = this.#stmt.cachedAnswer[retry].get(cacheKey) as
      | [CallRow['id'], CallRow['cache_key'], CallRow['sample_index'], CallRow['status'], CallRow['error'], CallRow['failure'], CallRow['parsed']]
      | undefined;
    if (!row) return undefined;
    return { id: row[0], cacheKey: row[1], sampleIndex: row[2], status: row[3], error: row[4], failure: row[5], parsed: parseJson(row[6]) };
  }

  /**
   * `cachedAnswer` for several keys (a question's samples) in one read transaction: each
   * lookup outside one opens and closes its own, which is half of what it costs. Reads
   * only, so it never waits for or blocks a writer.
   */
  cachedAnswers(cacheKeys: readonly string[], retry: RetryFailed = 'mismatch'): (StoredAnswer | undefined)[] {
    const all = () => cacheKeys.map((key) => this.cachedAnswer(key, retry));
    return cacheKeys.length < READ_BATCH_MIN || this.db.inTransaction ? all() : (this.#transaction.deferred(all) as (StoredAnswer | undefined)[]);
  }

  /**
   * Marks cached calls as used by a run. The links ride with the next write (or `flush()`,
   * or a second from now), like image and result rows: a link lost to a kill is made
   * again when the rerun serves the call again, and a cached rerun of a million samples
   * does not pay a commit per image.
   */
  linkCached(runId: number, callIds: readonly number[]): void {
    let linked = this.#linked.get(runId);
    if (!linked) {
      this.flush();
      linked = new IdSet(this.#stmt.runCallIds.pluck().all(runId) as number[]);
      this.#linked.set(runId, linked);
    }
    const fresh = callIds.filter((id) => !linked.has(id));
    if (fresh.length === 0) return;
    for (const id of fresh) linked.add(id);
    this.#defer(() => {
      for (const id of fresh) this.#stmt.linkCall.run(runId, id, 1);
    });
  }

  /**
   * Claims cache keys for this process before their calls are sent, so that two processes
   * on one database never pay for the same sample. In one IMMEDIATE transaction, each key
   * is `done` (answered meanwhile, by anyone), `mine` (now claimed by this process: send
   * it), or `theirs` (claimed by another live process: wait for its answer). Claims of
   * dead processes (expired lease, or a vanished pid on this host) are taken over.
   */
  claim(keys: readonly string[], retry: RetryFailed): Claimed {
    return this.#write(() => this.#claimIn(keys, retry));
  }

  /**
   * `claim`, committed with the next call's transaction (`recordCalls`) instead of one of
   * its own, or on its own after `CLAIM_RIDE_MS` if no call is recorded by then. For a
   * request that would wait for a free slot anyway: a slot frees when an answer is
   * recorded, so the claim rides with that commit and costs no time. Resolves once the
   * claim is committed, so it holds before the request is sent, as `claim`'s does.
   */
  claimSoon(keys: readonly string[], retry: RetryFailed): Promise<Claimed> {
    return new Promise((resolve, reject) => {
      this.#claimsDue.push({ keys, retry, resolve, reject });
      this.#claimsLater(CLAIM_RIDE_MS);
    });
  }

  #claimsLater(ms: number): void {
    this.#claimTimer ??= setTimeout(() => {
      this.#claimTimer = undefined;
      this.#claimDue();
    }, ms);
  }

  /** The claims waiting to ride with a call's transaction, in one transaction of their own. */
  #claimDue(): void {
    const due = this.#claimsDue.splice(0);
    if (due.length === 0) return;
    let claimed: Claimed[];
    try {
      claimed = this.#write(() => due.map((d) => this.#claimIn(d.keys, d.retry)));
    } catch (error) {
      for (const d of due) d.reject(error);
      return;
    }
    due.forEach((d, i) => d.resolve(claimed[i] as Claimed));
  }

  #claimIn(keys: readonly string[], retry: RetryFailed): Claimed {
    const done = new Map<string, StoredAnswer>();
    const mine = new Set<string>();
    const theirs = new Set<string>();
    const now = Date.now();
    for (const key of keys) {
      const hit = this.cachedAnswer(key, retry);
      if (hit) {
        done.set(key, hit);
        continue;
      }
      const held = this.#stmt.claimOf.get(key) as { owner: string; expires_at: number } | undefined;
      if (held && held.owner !== this.owner && ownerAlive(held.owner, held.expires_at, now)) {
        theirs.add(key);
        continue;
      }
      this.#stmt.putClaim.run(key, this.owner, now + LEASE_MS);
      mine.add(key);
    }
    return { done, mine, theirs };
  }

  /** Gives up claims without answers (a failed request; a run that stopped). All of them without `keys`. */
  releaseClaims(keys?: readonly string[]): void {
    this.#write(() => {
      if (!keys) this.#stmt.releaseClaims.run(this.owner);
      else for (const key of keys) this.#stmt.releaseClaim.run(key, this.owner);
    });
  }

  /**
   * Writes the calls of one request (all its samples) atomically and links them to the
   * run: after a kill, either all of them are there or none is.
   */
  recordCalls(calls: readonly NewCall[]): number[] {
    // Claims waiting for a free slot ride along (`claimSoon`): one commit for both. Not
    // inside a caller's transaction, which could still roll them back after they resolved.
    const due = this.db.inTransaction ? [] : this.#claimsDue.splice(0);
    let claimed: Claimed[] = [];
    let ids: number[];
    try {
      ids = this.#write(() => {
        const made = this.#insertCalls(calls);
        claimed = due.map((d) => this.#claimIn(d.keys, d.retry));
        return made;
      });
    } catch (error) {
      // Rolled back with the calls: the claims are still due, on their own.
      if (due.length) {
        this.#claimsDue.unshift(...due);
        this.#claimsLater(0);
      }
      throw error;
    }
    if (due.length && this.#claimsDue.length === 0) {
      // Nothing left for the timer: a claim asked for next waits its full time for a call to ride with.
      clearTimeout(this.#claimTimer);
      this.#claimTimer = undefined;
    }
    due.forEach((d, i) => d.resolve(claimed[i] as Claimed));
    return ids;
  }

  #insertCalls(calls: readonly NewCall[]): number[] {
    if (this.#deferredDue()) this.#runDeferred();
    const ids: number[] = [];
    for (const call of calls) {
      const info = this.#stmt.insertCall.run({
        ...call,
        imageHashes: JSON.stringify(call.imageHashes),
        params: JSON.stringify(call.params),
        parsed: toJson(call.parsed),
        logprobs: toJson(call.logprobs),
        meta: toJson(call.meta),
        endpoint: call.endpoint ?? null,
      });
      const id = Number(info.lastInsertRowid);
      if (call.status !== 'error') {
        this.#stmt.linkCall.run(call.runId, id, 0);
        this.#linked.get(call.runId)?.add(id);
      }
      // Answered or failed, the key is free again: a failed one may be asked by anyone.
      this.#stmt.releaseClaim.run(call.cacheKey, this.owner);
      ids.push(id);
    }
    return ids;
  }

  /** Calls a run used (made or served from cache), oldest first, with `cached` set. */
  runCalls(runId: number): (CallRecord & { cached: boolean })[] {
    this.flush(); // reads see the links and rows this process deferred
    return (this.#stmt.runCalls.all(runId) as (CallRow & { cached: number })[]).map((row) => ({
      ...callFromRow(row),
      cached: row.cached === 1,
    }));
  }

  /** Failed provider calls made by a run (kept for inspection, never served from cache). */
  runErrorCalls(runId: number): CallRecord[] {
    return (this.#stmt.runErrorCalls.all(runId) as CallRow[]).map(callFromRow);
  }

  /**
   * A run's calls one at a time (used ones, then failed requests), for output that must not
   * hold a large run in memory (`show --calls` of a million calls).
   */
  *eachRunCall(runId: number): Generator<CallRecord & { cached?: boolean }> {
    this.flush(); // reads see the links and rows this process deferred
    for (const row of this.#stmt.runCalls.iterate(runId) as IterableIterator<CallRow & { cached: number }>) {
      yield { ...callFromRow(row), cached: row.cached === 1 };
    }
    for (const row of this.#stmt.runErrorCalls.iterate(runId) as IterableIterator<CallRow>) yield callFromRow(row);
  }

  /** Per judge: how many answered calls did not parse. */
  parseFailureRates(): JudgeParseRate[] {
    return (this.#stmt.parseRates.all() as Omit<JudgeParseRate, 'parseFailureRate'>[]).map((r) => {
      const answered = r.calls - r.errors;
      return { ...r, parseFailureRate: answered > 0 ? r.parseFailures / answered : 0 };
    });
  }

  /**
   * Parse failures a run holds as its samples' answers, by kind (see `FailureKind`);
   * failures that a later call of the run replaced are not counted.
   */
  storedFailures(runId: number): { mismatch: number; answer: number } {
    this.flush(); // reads see the links and rows this process deferred
    const out = { mismatch: 0, answer: 0 };
    for (const r of this.#stmt.storedFailures.all({ runId }) as { failure: FailureKind | null; n: number }[]) {
      out[r.failure ?? 'answer'] += r.n;
    }
    return out;
  }

  // ---- judge facts --------------------------------------------------------------------

  /**
   * What a judge proved it can or cannot do (returns log-probabilities, honours `n`),
   * learned once from its answers and remembered across runs.
   */
  judgeFact<T>(judgeId: string, fact: string): T | undefined {
    const row = this.#stmt.getFact.get(judgeId, fact) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  putJudgeFact(judgeId: string, fact: string, value: unknown, evidence?: unknown): void {
    this.#write(() => this.#stmt.putFact.run(judgeId, fact, JSON.stringify(value), evidence === undefined ? null : JSON.stringify(evidence)));
  }

  // ---- results ------------------------------------------------------------------------

  /** Upserts results; with `deferred`, they are written with the next call transaction or `flush()`. */
  putResults(results: readonly ResultRecord[], options: { deferred?: boolean } = {}): void {
    const rows: (Omit<ResultRecord, 'value'> & { value: string; print: string })[] = [];
    for (const r of results) {
      const value = JSON.stringify(r.value);
      const prints = this.#resultPrintsOf(r.runId, r.kind);
      const print = resultPrint(r.position, r.status, r.score, value, r.basis);
      // A rerun's unchanged row is left alone (as the upsert's WHERE would), without asking SQLite.
      if (prints.get(r.itemKey) === print) continue;
      prints.set(r.itemKey, print);
      rows.push({ runId: r.runId, kind: r.kind, itemKey: r.itemKey, position: r.position, status: r.status, score: r.score, value, print });
    }
    if (rows.length === 0) return;
    const write = () => {
      for (const row of rows) this.#stmt.upsertResult.run(row);
    };
    if (options.deferred) this.#defer(write);
    else this.#write(write);
  }

  /**
   * What the fingerprint of the run's stored result for an item says, without reading the
   * row: the content hash its value names (or undefined), its position and status, and
   * the `basis` it was written with, when this version of Quorum wrote it (undefined for
   * a row of another version, or one older than fingerprints with a version).
   */
  storedItem(runId: number, kind: string, itemKey: string): StoredItem | undefined {
    const print = this.#resultPrintsOf(runId, kind).get(itemKey);
    if (print === undefined) return undefined;
    const fields = print.split('|');
    const [sha, position, status] = fields as [string, string, string];
    const thisVersion = fields.length === 8 && fields[6] === QUORUM_VERSION;
    return { sha256: sha === '' ? undefined : sha, position: Number(position), status, basis: thisVersion ? fields[7] : undefined };
  }

  /** The value of the run's stored result for an item, parsed, or undefined. */
  storedValue(runId: number, kind: string, itemKey: string): unknown {
    const value = this.#stmt.resultValue.pluck().get(runId, kind, itemKey) as string | null | undefined;
    return value === undefined || value === null ? undefined : (JSON.parse(value) as unknown);
  }

  /** The fingerprints of a run's stored results of one kind, read on first use. */
  #resultPrintsOf(runId: number, kind: string): Map<string, string> {
    const at = `${runId}\u0000${kind}`;
    let prints = this.#resultPrints.get(at);
    if (!prints) {
      this.flush();
      prints = new Map();
      const unprinted: [string, string][] = [];
      for (const [key, print, position, status, score, value] of this.#stmt.resultPrints.raw().iterate(runId, kind) as IterableIterator<
        [string, string | null, number, string, number | null, string | null]
      >) {
        if (print !== null) prints.set(key, print);
        else {
          const computed = resultPrint(position, status, score, value ?? '');
          prints.set(key, computed);
          unprinted.push([computed, key]);
        }
      }
      // Rows without a stored fingerprint get one, with the next write: read once, never again.
      if (unprinted.length) {
        this.#defer(() => {
          for (const [print, key] of unprinted) this.#stmt.setResultPrint.run(print, runId, kind, key);
        });
      }
      this.#resultPrints.set(at, prints);
    }
    return prints;
  }

  /**
   * Replaces the hallucination findings of one item (`quorum hallucination`): boxes in SR
   * pixels. Written with the next call transaction or `flush()`, as deferred results are.
   */
  putFindings(
    runId: number,
    itemKey: string,
    findings: readonly { kind: string; severity: string; box: { x0: number; y0: number; x1: number; y1: number }; support: number }[],
  ): void {
    this.#defer(() => {
      this.#stmt.deleteFindings.run(runId, itemKey);
      findings.forEach((f, idx) => this.#stmt.insertFinding.run({ runId, itemKey, idx, kind: f.kind, severity: f.severity, ...f.box, support: f.support }));
    });
  }

  /** A run's hallucination findings, item by item. */
  findings(runId: number): { itemKey: string; kind: string; severity: string; box: { x0: number; y0: number; x1: number; y1: number }; support: number }[] {
    return (this.#stmt.findings.all(runId) as { item_key: string; kind: string; severity: string; x0: number; y0: number; x1: number; y1: number; support: number }[]).map(
      (r) => ({ itemKey: r.item_key, kind: r.kind, severity: r.severity, box: { x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1 }, support: r.support }),
    );
  }

  /** How many results of each kind (`image`, `pair`, `rank`, `summary`) a run holds, counted in SQL. */
  resultCounts(runId: number): Record<string, number> {
    this.flush(); // reads see the links and rows this process deferred
    const rows = this.#stmt.resultCounts.all(runId) as { kind: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  results(runId: number, kind?: string): ResultRecord[] {
    this.flush(); // reads see the links and rows this process deferred
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

  // ---- evaluations and calibrations (quorum eval, quorum calibrate) ----------------------

  /** Stores an evaluation under `name`, replacing one of that name. */
  putEvaluation(e: EvaluationRecord): void {
    this.#write(() =>
      this.db
        .prepare(
          `INSERT INTO evaluations (name, run_id, dataset, judge, prompt, method, report, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET run_id = excluded.run_id, dataset = excluded.dataset, judge = excluded.judge,
             prompt = excluded.prompt, method = excluded.method, report = excluded.report, items = excluded.items,
             created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
        )
        .run(e.name, e.runId, e.dataset, e.judge, e.prompt, e.method, JSON.stringify(e.report), JSON.stringify(e.items)),
    );
  }

  getEvaluation(name: string): EvaluationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM evaluations WHERE name = ?').get(name) as Record<string, string | number | null> | undefined;
    if (!row) return undefined;
    return {
      name: String(row['name']),
      runId: row['run_id'] as number | null,
      dataset: String(row['dataset']),
      judge: String(row['judge']),
      prompt: String(row['prompt']),
      method: String(row['method']),
      report: JSON.parse(String(row['report'])) as unknown,
      items: JSON.parse(String(row['items'])) as EvaluationRecord['items'],
    };
  }

  putCalibration(c: CalibrationRecord): void {
    this.#write(() =>
      this.db
        .prepare('INSERT OR REPLACE INTO calibrations (name, judge, prompt, method, dataset, model) VALUES (?, ?, ?, ?, ?, ?)')
        .run(c.name, c.judge, c.prompt, c.method, c.dataset, JSON.stringify(c.model)),
    );
  }

  getCalibration(name: string): CalibrationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM calibrations WHERE name = ?').get(name) as Record<string, string> | undefined;
    if (!row) return undefined;
    const { judge = '', prompt = '', method = '', dataset = '' } = row;
    return { name, judge, prompt, method, dataset, model: JSON.parse(row['model'] ?? 'null') as unknown };
  }
}
