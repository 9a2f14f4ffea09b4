/**
 * A run killed at any moment loses nothing it recorded, and the same command resumes
 * it: only the missing samples are asked for, none is stored twice, the database
 * stays intact. Ctrl-C stops issuing calls, lets those in flight finish and be recorded,
 * and exits 130.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';
import { answered, completions, parseScores, spread, tempDir, withDb, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-ant-test-resume';
let server: JudgeServer;
let tmp: TempDir;

beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await server?.close();
  await tmp.cleanup();
});

interface DbState {
  ok: number;
  rows: number;
  distinctKeys: number;
  duplicated: number;
  integrity: string;
  runStatus: string | undefined;
}

function dbState(file: string): DbState {
  return withDb(file, (db) => {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      ok: count("SELECT count(*) AS n FROM calls WHERE status = 'ok'"),
      rows: count('SELECT count(*) AS n FROM calls'),
      distinctKeys: count("SELECT count(DISTINCT cache_key) AS n FROM calls WHERE status = 'ok'"),
      duplicated: count("SELECT count(*) AS n FROM (SELECT cache_key FROM calls WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > 1)"),
      integrity: (db.pragma('integrity_check', { simple: true }) as string) ?? '',
      runStatus: (db.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').get() as { status: string } | undefined)?.status,
    };
  });
}

describe('a run of 24 images x 4 samples at concurrency 4', () => {
  const images = 24;
  const samples = 4;
  const total = images * samples;
  /** Answered calls to wait for before stopping the first process. */
  const killAt = 20;

  it('killed with SIGKILL, resumes to exactly one recorded sample per slot', async () => {
    server = await startAnthropicServer({ apiKey: KEY, latencyMs: 120 });
    await writeImages(tmp.images, spread(images));
    const db = tmp.path('quorum.db');
    const args = ['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--method', 'sample', '--samples', String(samples),
      '--concurrency', '4', '--db', db, '--format', 'json'];
    const env = { ANTHROPIC_API_KEY: KEY };

    const first = spawnQuorum(args, { env });
    await waitUntil(() => server.calls >= killAt, { what: `${killAt} answered calls` });
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    // Let the server read any request the process wrote just before it died, so that the
    // requests counted below are the rerun's alone.
    await new Promise((r) => setTimeout(r, 300));

    const atKill = dbState(db);
    expect(atKill.integrity).toBe('ok');
    expect(atKill.ok).toBeGreaterThan(0);
    expect(atKill.ok).toBeLessThan(total);
    expect(atKill.duplicated).toBe(0);

    const before = server.requests.length;
    const rerun = await runQuorum(args, { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/\(resumed\)/);

    // The rerun asked exactly for what was not recorded, once each.
    expect(completions(server, before)).toHaveLength(total - atKill.ok);
    const after = dbState(db);
    expect(after).toMatchObject({ ok: total, rows: total, distinctKeys: total, duplicated: 0, integrity: 'ok', runStatus: 'done' });

    const scores = parseScores(rerun.stdout);
    expect(scores).toHaveLength(images);
    expect(scores.every((s) => s.status === 'ok' && s.samples.length === samples)).toBe(true);
    expect(scores.reduce((sum, s) => sum + s.cached, 0)).toBe(atKill.ok);
  });

  it('interrupted with SIGINT, finishes the calls in flight, records them, exits 130, and resumes', async () => {
    server = await startAnthropicServer({ apiKey: KEY, latencyMs: 150 });
    await writeImages(tmp.images, spread(images));
    const db = tmp.path('quorum.db');
    const args = ['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--method', 'sample', '--samples', String(samples),
      '--concurrency', '4', '--db', db, '--format', 'json'];
    const env = { ANTHROPIC_API_KEY: KEY };

    const first = spawnQuorum(args, { env, timeoutMs: 30_000 });
    await waitUntil(() => server.calls >= killAt, { what: `${killAt} answered calls` });
    first.kill('SIGINT');
    const stopped = await first.exited;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted: finishing calls in flight/);
    expect(stopped.stderr).not.toMatch(/MaxListenersExceededWarning/);

    // Calls in flight at Ctrl-C were waited for, not abandoned: every request the server
    // received was answered, and every answer is in the database.
    const received = completions(server);
    expect(received.every((r) => r.status === 200)).toBe(true);
    const atStop = dbState(db);
    expect(atStop).toMatchObject({ ok: received.length, rows: received.length, duplicated: 0, integrity: 'ok', runStatus: 'interrupted' });
    expect(atStop.ok).toBeLessThan(total);
    // What was scored before the interrupt is still printed.
    expect(parseScores(stopped.stdout).length).toBeGreaterThan(0);

    const before = server.requests.length;
    const rerun = await runQuorum(args, { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(answered(server, before)).toHaveLength(total - atStop.ok);
    expect(dbState(db)).toMatchObject({ ok: total, rows: total, distinctKeys: total, duplicated: 0, integrity: 'ok', runStatus: 'done' });
    expect(parseScores(rerun.stdout).every((s) => s.status === 'ok')).toBe(true);
  });
});

it('a second Ctrl-C abandons the calls in flight: exit 130, nothing half-recorded, the rerun completes', async () => {
  const latencyMs = 1500;
  server = await startAnthropicServer({ apiKey: KEY, latencyMs });
  await writeImages(tmp.images, spread(6));
  const db = tmp.path('quorum.db');
  const args = ['score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', '1', '--concurrency', '3', '--db', db, '--format', 'json'];
  const env = { ANTHROPIC_API_KEY: KEY };

  const first = spawnQuorum(args, { env });
  await waitUntil(() => completions(server).length >= 3, { what: 'three requests in flight' });
  first.kill('SIGINT');
  await waitUntil(() => first.stderr.includes('interrupted: finishing calls in flight'), { what: 'the first interrupt noted' });
  first.kill('SIGINT');
  const stopped = await first.exited;
  expect(stopped.code, stopped.stderr).toBe(130);
  // The server would have answered by now: the abandoned requests' connections were closed.
  await new Promise((r) => setTimeout(r, latencyMs + 200));
  expect(server.calls).toBe(0);
  expect(dbState(db)).toMatchObject({ rows: 0, integrity: 'ok', runStatus: 'interrupted' });

  server.setOptions({ latencyMs: 0 });
  const rerun = await runQuorum(args, { env });
  expect(rerun.code, rerun.stderr).toBe(0);
  expect(dbState(db)).toMatchObject({ ok: 6, rows: 6, duplicated: 0, runStatus: 'done' });
});
