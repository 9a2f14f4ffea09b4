/**
 * `--out` and `--db` are checked before the first paid call: a missing folder, a folder
 * where a file should be, or a read-only file or folder is one line naming the option,
 * the path and the reason (exit 2, like any bad option value), and the judge server sees
 * no completion request. If the output cannot be written at the very end anyway, nothing
 * is lost: the error names the `quorum show` command that prints the stored run again.
 *
 * Read-only paths do not stop root, so when the tests run as root the CLI runs as
 * `nobody` over files root owns; otherwise the files are made read-only with chmod.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { runQuorum, runQuorumReadOnly, spawnQuorum, waitUntil, type QuorumResult } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { completions, lines, parseScores, spread, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-outputs';
const env = { OPENAI_API_KEY: KEY };
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(3));
  // Readable by every user (the read-only tests may run the CLI as `nobody`).
  await chmod(tmp.dir, 0o755);
  server = await startOpenAIServer({ apiKey: KEY, latencyMs: 200 });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

const judge = () => ['--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '1'];

/** The whole stderr of an output error: its one line, then the pointer to --help. */
function expectOutputError(r: QuorumResult, line: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toEqual([line, 'Run `quorum score --help` for usage.']);
}

describe('checked before any call', () => {
  it.each([
    ['--out in a missing folder', () => ['--out', tmp.path('no-such-dir', 'scores.json')], () => `error: Cannot write --out ${tmp.path('no-such-dir', 'scores.json')}: the folder ${tmp.path('no-such-dir')} does not exist`],
    ['--out naming a folder', () => ['--out', tmp.images], () => `error: Cannot write --out ${tmp.images}: it is a folder`],
    ['--db in a missing folder', () => ['--db', tmp.path('no-such-dir', 'q.db')], () => `error: Cannot use --db ${tmp.path('no-such-dir', 'q.db')}: the folder ${tmp.path('no-such-dir')} does not exist`],
    ['--db below a file', () => ['--db', tmp.path('images', 'img-00.png', 'q.db')], () => `error: Cannot use --db ${tmp.path('images', 'img-00.png', 'q.db')}: ${tmp.path('images', 'img-00.png')} is not a folder`],
  ] as [string, () => string[], () => string][])('%s: one line, exit 2, no request', async (_what, option, line) => {
    const before = completions(server).length;
    const r = await runQuorum(['score', tmp.images, ...judge(), '--db', tmp.path('checked.db'), ...option()], { env });
    expectOutputError(r, line());
    expect(completions(server).length).toBe(before);
  });
});

/** Runs the CLI as a user who cannot write `paths`. */
function runReadOnly(args: string[], paths: string[]): Promise<QuorumResult> {
  return runQuorumReadOnly(args, paths, { env });
}

describe('read-only outputs', () => {
  it('a read-only --out file: one line, exit 2, no request, the file untouched', async () => {
    const out = tmp.path('ro-scores.json');
    await writeFile(out, 'keep me');
    const before = completions(server).length;
    const r = await runReadOnly(['score', tmp.images, ...judge(), '--db', ':memory:', '--out', out], [out]);
    expectOutputError(r, `error: Cannot write --out ${out}: the file is read-only`);
    expect(completions(server).length).toBe(before);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });

  it('a read-only --db file: one line, exit 2, no request', async () => {
    const db = tmp.path('ro.db');
    Store.open(db).close(); // an empty Quorum database
    const before = completions(server).length;
    const r = await runReadOnly(['score', tmp.images, ...judge(), '--db', db], [db]);
    expectOutputError(r, `error: Cannot use --db ${db}: the file is read-only`);
    expect(completions(server).length).toBe(before);
  });

  it('a --db in a read-only folder (SQLite keeps its journal beside the file): one line, exit 2, no request', async () => {
    const dir = tmp.path('ro-dir');
    await mkdir(dir);
    await chmod(dir, 0o755);
    const db = tmp.path('ro-dir', 'q.db');
    const before = completions(server).length;
    const r = await runReadOnly(['score', tmp.images, ...judge(), '--db', db], [dir]);
    expectOutputError(r, `error: Cannot use --db ${db}: the folder ${dir} is read-only`);
    expect(completions(server).length).toBe(before);
    expect(existsSync(db)).toBe(false);
  });
});

it('an --out that fails at the end loses nothing: the error names the command that prints the stored run', async () => {
  const outDir = tmp.path('vanishing');
  await mkdir(outDir);
  const out = tmp.path('vanishing', 'scores.json');
  const db = tmp.path('late.db');
  const before = completions(server).length;
  const proc = spawnQuorum(['score', tmp.images, ...judge(), '--db', db, '--format', 'json', '--out', out], { env });
  // The folder passes the check, then disappears while the judge is still answering.
  await waitUntil(() => completions(server, before).length >= 1, { what: 'the first request' });
  await rm(outDir, { recursive: true });
  const r = await proc.exited;
  expect(r.code, r.stderr).toBe(1);
  const error = lines(r.stderr).filter((l) => l.startsWith('error: '));
  expect(error).toHaveLength(1);
  const m = new RegExp(
    `^error: Cannot write --out ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT: .*; nothing is lost: \`(quorum show (\\S+) --db (\\S+) --format json) > FILE\` prints it again$`,
  ).exec(error[0]!);
  expect(m, error[0]).not.toBeNull();
  expect(m![3]).toBe(db);
  const made = completions(server).length;
  expect(made - before).toBe(3);

  const shown = await runQuorum(['show', m![2]!, '--db', db, '--format', 'json']);
  expect(shown.code, shown.stderr).toBe(0);
  const scores = parseScores(shown.stdout);
  expect(scores.map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
  expect(completions(server).length).toBe(made);
});
