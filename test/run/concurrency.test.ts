/**
 * Several Quorum processes on one database. Processes released at the same instant (from
 * a named pipe) on a new or an existing `--db` never crash (`table images already
 * exists`, `database is locked`) and leave one intact database at the current schema.
 * Two `quorum score` commands on one database never ask the judge for the same sample
 * twice, whether they are the same command or overlapping runs, and print the same
 * scores; a process killed with SIGKILL while it holds claims does not block the other.
 */
import { spawn } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations.js';
import { REPO_ROOT, runQuorum, spawnQuorum, waitUntil, type QuorumResult } from '../support/cli.js';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { answered, byName, completions, parseScores, spread, tempDir, withDb, writeImages, type TempDir } from '../scoring/_support.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(() => tmp.cleanup());

const dist = (path: string) => pathToFileURL(join(REPO_ROOT, 'dist', path)).href;

/**
 * A child that loads the built store, says `ready`, blocks opening the pipe until the test
 * opens it for writing, then does what a judging run does to the store: open the database,
 * register judge and prompt, open its run and record calls one transaction at a time.
 */
const STORE_CHILD = `
import { closeSync, openSync } from 'node:fs';
const [storeUrl, fifo, db, runName, count] = process.argv.slice(2);
const { Store } = await import(storeUrl);
process.stdout.write('ready\\n');
closeSync(openSync(fifo, 'r'));
const store = Store.open(db);
store.putJudge({ id: 'j1', provider: 'openai', model: 'sim', identity: {} });
store.putPrompt({ hash: 'p1', id: 'quality-score', version: 1, kind: 'sample', text: '{}' });
const { run } = store.openRun({ name: runName, command: 'score', args: ['score'], options: { samples: 1 }, version: '0.0.0' });
for (let i = 0; i < Number(count); i++) {
  store.recordCalls([{
    cacheKey: runName + ':' + process.pid + ':' + i, runId: run.id, judgeId: 'j1', promptHash: 'p1', imageHashes: ['a'], sampleIndex: 0,
    params: {}, requestId: null, choiceIndex: 0, raw: '<answer>3</answer>', parsed: { score: 3 }, logprobs: null, status: 'ok',
    error: null, failure: null, inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 1, attempts: 1, meta: null,
    startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z',
  }]);
}
store.setRunStatus(run.id, 'done');
store.close();
`;

/** The real CLI's entry point, started once the pipe opens. */
const CLI_CHILD = `
import { closeSync, openSync } from 'node:fs';
const [mainUrl, fifo, ...args] = process.argv.slice(2);
const { main } = await import(mainUrl);
process.stderr.write('ready\\n');
closeSync(openSync(fifo, 'r'));
await main(args);
`;

interface Child {
  ready: Promise<void>;
  exited: Promise<QuorumResult>;
}

function startChild(script: string, args: string[], readyOn: 'stdout' | 'stderr'): Child {
  const child = spawn(process.execPath, [script, ...args], { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let ready!: () => void;
  const readyPromise = new Promise<void>((r) => (ready = r));
  const watch = () => {
    if ((readyOn === 'stdout' ? stdout : stderr).startsWith('ready\n')) ready();
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => ((stdout += c), watch()));
  child.stderr.setEncoding('utf8').on('data', (c: string) => ((stderr += c), watch()));
  const exited = new Promise<QuorumResult>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`child did not finish; stderr:\n${stderr}`))), 45_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { ready: readyPromise, exited };
}

/** Starts the children, waits until each has said `ready`, and releases them all at once by opening the pipe. */
async function releaseTogether(fifo: string, children: Child[]): Promise<QuorumResult[]> {
  await Promise.all(children.map((c) => c.ready));
  // Opening for writing wakes every reader blocked on the pipe; kept open until all have
  // exited, so a child that reaches its open a moment late does not block forever.
  const writer = await open(fifo, 'w');
  try {
    return await Promise.all(children.map((c) => c.exited));
  } finally {
    await writer.close();
  }
}

function mkfifo(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    spawn('mkfifo', [path], { stdio: 'inherit' }).once('error', reject).once('close', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo exited ${code}`))));
  });
}

function dbFacts(file: string) {
  return withDb(file, (db) => ({
    integrity: db.pragma('integrity_check', { simple: true }),
    version: db.pragma('user_version', { simple: true }),
    runs: (db.prepare('SELECT name FROM runs ORDER BY name').pluck().all() as string[]),
    calls: (db.prepare('SELECT count(*) FROM calls').pluck().get() as number),
  }));
}

describe('processes released at the same instant', () => {
  it('on a new and then an existing --db: none crashes, the database is whole and at the current schema', async () => {
    const storeChild = tmp.path('store-child.mjs');
    const cliChild = tmp.path('cli-child.mjs');
    await writeFile(storeChild, STORE_CHILD);
    await writeFile(cliChild, CLI_CHILD);
    const perChild = 5;

    for (const round of [1, 2]) {
      const db = tmp.path(`round-${round}.db`);
      const expectedRuns = new Set<string>();
      let expectedCalls = 0;
      // First on a new file, then on the file the first release made.
      for (const phase of ['new', 'existing'] as const) {
        const fifo = tmp.path(`go-${round}-${phase}-${expectedCalls}`);
        await mkfifo(fifo);
        const children: Child[] = [];
        for (let i = 0; i < 6; i++) {
          // Half of them resume one shared run, the others each open their own.
          const runName = i % 2 === 0 ? 'shared' : `own-${phase}-${expectedCalls}-${i}`;
          expectedRuns.add(runName);
          expectedCalls += perChild;
          children.push(startChild(storeChild, [dist('store/store.js'), fifo, db, runName, String(perChild)], 'stdout'));
        }
        // On an existing database, `quorum runs` reads it while the others write.
        const readers = phase === 'existing' ? 2 : 0;
        for (let i = 0; i < readers; i++) {
          children.push(startChild(cliChild, [dist('cli/main.js'), fifo, 'runs', '--db', db, '--format', 'json'], 'stderr'));
        }
        const results = await releaseTogether(fifo, children);
        for (const r of results) {
          expect(r.code, `a process failed in round ${round} (${phase} database):\n${r.stderr}`).toBe(0);
          expect(r.stderr).not.toMatch(/already exists|database is locked|SqliteError/);
        }
        for (const r of results.slice(children.length - readers)) {
          const listed = JSON.parse(r.stdout) as { name: string; status: string }[];
          expect(Array.isArray(listed)).toBe(true);
        }
        expect(dbFacts(db)).toEqual({ integrity: 'ok', version: migrations.length, runs: [...expectedRuns].sort(), calls: expectedCalls });
      }
    }
  });
});

describe('two quorum score processes on one --db', () => {
  const KEY = 'sk-ant-test-concurrency';
  const env = { ANTHROPIC_API_KEY: KEY };
  let server: JudgeServer;
  afterEach(async () => {
    await server?.close();
  });

  const scoreArgs = (db: string, samples: number) => [
    'score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--method', 'sample', '--samples', String(samples),
    '--concurrency', '4', '--retries', '1', '--db', db, '--format', 'json',
  ];

  function stored(db: string) {
    return withDb(db, (d) => ({
      ok: d.prepare("SELECT count(*) FROM calls WHERE status = 'ok'").pluck().get() as number,
      duplicated: d.prepare("SELECT count(*) FROM (SELECT cache_key FROM calls WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > 1)").pluck().get() as number,
      claims: d.prepare('SELECT count(*) FROM claims').pluck().get() as number,
      integrity: d.pragma('integrity_check', { simple: true }),
    }));
  }

  /** Samples a process has claimed and not yet recorded. */
  function claimsOf(db: string, pid: number): number {
    try {
      return withDb(db, (d) => d.prepare('SELECT count(*) FROM claims WHERE owner LIKE ?').pluck().get(`%:${pid}:%`) as number);
    } catch {
      return 0; // not created yet
    }
  }

  it('the same command twice at once: every sample asked once, both print the same scores', async () => {
    const images = 12;
    const samples = 3;
    server = await startAnthropicServer({ apiKey: KEY, latencyMs: 120 });
    await writeImages(tmp.images, spread(images));
    const db = tmp.path('twice.db');
    const [a, b] = await Promise.all([runQuorum(scoreArgs(db, samples), { env }), runQuorum(scoreArgs(db, samples), { env })]);
    expect(a!.code, a!.stderr).toBe(0);
    expect(b!.code, b!.stderr).toBe(0);

    // One request is one sample on the Anthropic wire: the judge was asked each sample once.
    expect(completions(server)).toHaveLength(images * samples);
    expect(answered(server)).toHaveLength(images * samples);
    expect(stored(db)).toEqual({ ok: images * samples, duplicated: 0, claims: 0, integrity: 'ok' });

    const first = byName(parseScores(a!.stdout));
    const second = byName(parseScores(b!.stdout));
    expect(first.size).toBe(images);
    for (const [name, s] of first) {
      expect(s.status, name).toBe('ok');
      expect(s.samples).toHaveLength(samples);
      expect(second.get(name)?.score, name).toBe(s.score);
      expect([...second.get(name)!.samples].sort(), name).toEqual([...s.samples].sort());
    }
  });

  it('overlapping runs (3 and 5 samples of the same images) at once: the shared samples are paid once', async () => {
    const images = 8;
    server = await startAnthropicServer({ apiKey: KEY, latencyMs: 120 });
    await writeImages(tmp.images, spread(images));
    const db = tmp.path('overlap.db');
    const [three, five] = await Promise.all([runQuorum(scoreArgs(db, 3), { env }), runQuorum(scoreArgs(db, 5), { env })]);
    expect(three!.code, three!.stderr).toBe(0);
    expect(five!.code, five!.stderr).toBe(0);

    // Samples 0-2 of each image serve both runs; 3-4 only the larger one.
    expect(completions(server)).toHaveLength(images * 5);
    expect(stored(db)).toEqual({ ok: images * 5, duplicated: 0, claims: 0, integrity: 'ok' });
    const small = byName(parseScores(three!.stdout));
    const large = byName(parseScores(five!.stdout));
    for (const [name, s] of small) {
      expect(s.samples, name).toHaveLength(3);
      expect(large.get(name)?.samples, name).toHaveLength(5);
      // The three samples the runs share are the same answers.
      expect(large.get(name)!.samples, name).toEqual(expect.arrayContaining(s.samples));
    }
  });

  it('a process killed with SIGKILL while it holds claims does not block the other, which finishes the run', async () => {
    const images = 12;
    const samples = 3;
    const concurrency = 4;
    // Slow while both processes start and claim, fast once the first is gone.
    server = await startAnthropicServer({ apiKey: KEY, latencyMs: 400 });
    await writeImages(tmp.images, spread(images));
    const db = tmp.path('killed.db');
    // The victim claims the samples it is about to ask; the survivor waits for them while
    // the victim lives, and must take them over as soon as it is dead, long before their
    // 30 s lease would expire (hence the survivor's short time limit).
    const victim = spawnQuorum(scoreArgs(db, samples), { env });
    await waitUntil(() => claimsOf(db, victim.pid) > 0 && server.calls >= 1, { what: 'the first process to claim samples', intervalMs: 50 });
    const survivor = spawnQuorum(scoreArgs(db, samples), { env, timeoutMs: 20_000 });
    await waitUntil(() => survivor.stderr.includes('another quorum process is asking'), { what: 'the second process to wait for the first' });
    victim.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(claimsOf(db, victim.pid)).toBeGreaterThan(0);
    server.setOptions({ latencyMs: 20 });

    const done = await survivor.exited;
    expect(done.code, done.stderr).toBe(0);
    const scores = parseScores(done.stdout);
    expect(scores).toHaveLength(images);
    expect(scores.every((s) => s.status === 'ok' && s.samples.length === samples)).toBe(true);
    expect(stored(db)).toEqual({ ok: images * samples, duplicated: 0, claims: 0, integrity: 'ok' });
    // Asked twice: at most the victim's requests in flight when it died (answered, never recorded).
    expect(completions(server).length).toBeLessThanOrEqual(images * samples + concurrency);

    const runs = await runQuorum(['runs', '--db', db, '--format', 'json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect((JSON.parse(runs.stdout) as { status: string }[]).map((r) => r.status)).toEqual(['done']);
  });
});
