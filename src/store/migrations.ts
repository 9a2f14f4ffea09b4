/**
 * Schema migrations, applied in order inside one transaction each. `PRAGMA user_version`
 * records how many have run. Never edit a shipped migration: add a new one.
 */
export const migrations: readonly string[] = [
  /* 1: the scoring path */ `
  CREATE TABLE images (
    sha256      TEXT PRIMARY KEY,
    bytes       INTEGER NOT NULL,
    format      TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    first_path  TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE image_paths (
    sha256 TEXT NOT NULL REFERENCES images(sha256),
    path   TEXT NOT NULL,
    PRIMARY KEY (sha256, path)
  ) WITHOUT ROWID;
  CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    command         TEXT NOT NULL,
    args            TEXT NOT NULL,
    options         TEXT NOT NULL,
    quorum_version  TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'running',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE prompts (
    hash     TEXT PRIMARY KEY,
    id       TEXT NOT NULL,
    version  INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    text     TEXT NOT NULL
  );
  CREATE TABLE judges (
    id        TEXT PRIMARY KEY,
    provider  TEXT NOT NULL,
    model     TEXT NOT NULL,
    base_url  TEXT,
    identity  TEXT NOT NULL
  );
  CREATE TABLE calls (
    id             INTEGER PRIMARY KEY,
    cache_key      TEXT NOT NULL,
    run_id         INTEGER NOT NULL REFERENCES runs(id),
    judge_id       TEXT NOT NULL REFERENCES judges(id),
    prompt_hash    TEXT NOT NULL REFERENCES prompts(hash),
    image_hashes   TEXT NOT NULL,
    sample_index   INTEGER NOT NULL,
    params         TEXT NOT NULL,
    request_id     TEXT,
    choice_index   INTEGER NOT NULL DEFAULT 0,
    raw            TEXT,
    parsed         TEXT,
    logprobs       TEXT,
    status         TEXT NOT NULL CHECK (status IN ('ok', 'parse_error', 'error')),
    error          TEXT,
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    cost_usd       REAL,
    latency_ms     REAL,
    attempts       INTEGER NOT NULL DEFAULT 1,
    meta           TEXT,
    started_at     TEXT NOT NULL,
    finished_at    TEXT NOT NULL
  );
  CREATE INDEX calls_cache_key ON calls(cache_key, status);
  CREATE INDEX calls_run ON calls(run_id);
  CREATE TABLE run_calls (
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    call_id  INTEGER NOT NULL REFERENCES calls(id),
    cached   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, call_id)
  ) WITHOUT ROWID;
  CREATE TABLE results (
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    kind          TEXT NOT NULL,
    item_key      TEXT NOT NULL,
    position      INTEGER NOT NULL,
    status        TEXT NOT NULL,
    score         REAL,
    value         TEXT NOT NULL,
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (run_id, kind, item_key)
  ) WITHOUT ROWID;
  `,
  /* 2: run machinery: stored-failure kinds, call claims across processes, judge facts, run owners */ `
  ALTER TABLE calls ADD COLUMN failure TEXT;
  UPDATE calls SET failure = CASE
      WHEN error LIKE 'the provider returned % choices for % samples%' OR error LIKE '%carried no log-probabilities%' THEN 'mismatch'
      ELSE 'answer' END
    WHERE status = 'parse_error';
  CREATE TABLE claims (
    cache_key   TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX claims_owner ON claims(owner);
  CREATE TABLE judge_facts (
    judge_id    TEXT NOT NULL,
    fact        TEXT NOT NULL,
    value       TEXT NOT NULL,
    evidence    TEXT,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (judge_id, fact)
  ) WITHOUT ROWID;
  ALTER TABLE runs ADD COLUMN owner TEXT;
  ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
  `,
  /* 3: the cache lookup reads a key's calls newest first from the index, without a sort (it replaces (cache_key, status)) */ `
  CREATE INDEX calls_key_id ON calls(cache_key, id);
  DROP INDEX calls_cache_key;
  `,
  /* evaluations against human labels (quorum eval) and calibrations (quorum calibrate) */ `
  CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    run_id      INTEGER REFERENCES runs(id),
    dataset     TEXT NOT NULL,
    judge       TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    method      TEXT NOT NULL,
    report      TEXT NOT NULL,
    items       TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE calibrations (
    name        TEXT PRIMARY KEY,
    judge       TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    method      TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    model       TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  ) WITHOUT ROWID;
  `,
  /* endpoint pools: the replica that answered each call (NULL for a judge on one server) */ `
  ALTER TABLE calls ADD COLUMN endpoint TEXT;
  `,
  /* hallucination: the elements a judge found in SR outputs, in SR pixels, one row per merged box */ `
  CREATE TABLE hallucination_findings (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    item_key   TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL,
    x0         REAL NOT NULL,
    y0         REAL NOT NULL,
    x1         REAL NOT NULL,
    y1         REAL NOT NULL,
    support    INTEGER NOT NULL,
    PRIMARY KEY (run_id, item_key, idx)
  ) WITHOUT ROWID;
  `,
  /* provider batches (--batch): each submitted batch at once, and which planned calls each request answers */ `
  CREATE TABLE batches (
    id            INTEGER PRIMARY KEY,
    provider      TEXT NOT NULL,
    judge_id      TEXT NOT NULL,
    run_id        INTEGER REFERENCES runs(id),
    remote_id     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('in_progress', 'ended', 'failed', 'collected')),
    requests      INTEGER NOT NULL,
    succeeded     INTEGER NOT NULL DEFAULT 0,
    errored       INTEGER NOT NULL DEFAULT 0,
    expired       INTEGER NOT NULL DEFAULT 0,
    canceled      INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL,
    error         TEXT,
    cwd           TEXT,
    submitted_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    finished_at   TEXT
  );
  CREATE INDEX batches_status ON batches(status);
  CREATE TABLE batch_items (
    batch_id    INTEGER NOT NULL REFERENCES batches(id),
    custom_id   TEXT NOT NULL,
    cache_keys  TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'submitted' CHECK (state IN ('submitted', 'succeeded', 'errored', 'expired', 'canceled', 'missing')),
    PRIMARY KEY (batch_id, custom_id)
  ) WITHOUT ROWID;
  CREATE INDEX batch_items_custom ON batch_items(custom_id);
  `,
  /* judge panels: every neuron's review (panel, layer, neuron, role, its calls) and whether the item's verdict used it; agreement per item and per run ('' item) */ `
  CREATE TABLE panel_reviews (
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    item_key  TEXT NOT NULL,
    panel     TEXT NOT NULL,
    layer     INTEGER NOT NULL,
    neuron    INTEGER NOT NULL,
    role      TEXT NOT NULL,
    judge_id  TEXT NOT NULL,
    call_ids  TEXT NOT NULL,
    status    TEXT NOT NULL,
    score     REAL,
    used      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, item_key, layer, neuron)
  ) WITHOUT ROWID;
  CREATE TABLE panel_agreement (
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    item_key  TEXT NOT NULL,
    alpha     REAL,
    spread    REAL,
    neurons   INTEGER NOT NULL,
    PRIMARY KEY (run_id, item_key)
  ) WITHOUT ROWID;
  `,
  /* results: each row's fingerprint (see resultPrint in store.ts), so a rerun reads a few bytes per row instead of every value */ `
  ALTER TABLE results ADD COLUMN print TEXT;
  `,
  /* fewer pages per call's commit: the claims table holds only calls in flight (a scan by owner is cheap), and only failed calls are looked up by run */ `
  DROP INDEX claims_owner;
  DROP INDEX calls_run;
  CREATE INDEX calls_run_errors ON calls(run_id, id) WHERE status = 'error';
  `,
];
