/**
 * A `--db` that Quorum cannot use is one line naming the file and the problem, never a
 * stack trace: random bytes, a Quorum database cut in half, another program's SQLite
 * file (left exactly as it was: same bytes, same journal mode, no `-wal` beside it), a
 * read-only file, a missing file or folder. `runs`, `show` and `judges` only read: they
 * never create a database that is not there, and they read one that cannot be written.
 *
 * Read-only files do not stop root, so when the tests run as root the CLI runs as
 * `nobody` over files root owns; otherwise the files are made read-only with chmod.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum, runQuorumReadOnly, type QuorumResult } from '../support/cli.js';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { completions, lines, spread, tempDir, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-ant-test-database';
const env = { ANTHROPIC_API_KEY: KEY };
let tmp: TempDir;
let server: JudgeServer;
/** A database a real `quorum score` run wrote (run `photos`). */
let real: string;

const scoreArgs = (db: string) => [
  'score', tmp.images, '--judge', 'anthropic:sim', '--base-url', server.url, '--method', 'sample', '--samples', '2', '--retries', '1',
  '--db', db, '--run', 'photos', '--format', 'json',
];

beforeAll(async () => {
  tmp = await tempDir();
  // Readable by every user (the read-only tests may run the CLI as `nobody`).
  await chmod(tmp.dir, 0o755);
  await writeImages(tmp.images, spread(4));
  server = await startAnthropicServer({ apiKey: KEY });
  real = tmp.path('real.db');
  const r = await runQuorum(scoreArgs(real), { env });
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

/**
 * Exit non-zero, nothing on stdout, one line on stderr that names the file, and no stack
 * frame. `score` checks its --db before any call, as a usage error: its line is followed
 * by the pointer to its help.
 */
function expectOneLine(r: QuorumResult, file: string, problem: RegExp): void {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const [line, ...more] = lines(r.stderr).filter((l) => l !== 'Run `quorum score --help` for usage.');
  expect(more, r.stderr).toEqual([]);
  expect(line).toContain(file);
  expect(line).toMatch(problem);
}

/** Every command that opens the database: the three that read it and one that judges. */
const commands = (db: string) => ({
  runs: ['runs', '--db', db],
  show: ['show', 'photos', '--db', db],
  judges: ['judges', '--db', db],
  score: scoreArgs(db),
});

describe.each([
  ['random bytes', 'corrupt.db', async (file: string) => writeFile(file, randomBytes(16_384)), /is not a SQLite database/],
  [
    'a Quorum database cut in half',
    'truncated.db',
    async (file: string) => {
      await copyFile(real, file);
      await truncate(file, Math.floor(statSync(file).size / 2));
    },
    /is corrupt or truncated/,
  ],
  [
    "another program's SQLite database",
    'foreign.db',
    async (file: string) => {
      const db = new Database(file);
      db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')");
      db.close();
    },
    /is a SQLite database of another program \(tables: notes\)/,
  ],
] as const)('%s', (_what, name, make, problem) => {
  let file: string;
  let bytes: Buffer;
  beforeAll(async () => {
    file = tmp.path(name);
    await make(file);
    bytes = await readFile(file);
  });

  it.each(['runs', 'show', 'judges', 'score'] as const)('quorum %s: one line naming the file and the problem, no request', async (command) => {
    const before = completions(server).length;
    const r = await runQuorum(commands(file)[command], { env });
    expectOneLine(r, file, problem);
    expect(completions(server).length).toBe(before);
    // Nothing was written to it, nor beside it.
    expect((await readFile(file)).equals(bytes)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(existsSync(`${file}-shm`)).toBe(false);
  });

  if (name === 'foreign.db') {
    it('keeps its journal mode', () => {
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
        expect(db.prepare('SELECT body FROM notes').pluck().all()).toEqual(['keep me']);
      } finally {
        db.close();
      }
    });
  }
});

describe('a database that is not there', () => {
  it.each(['runs', 'show', 'judges'] as const)('quorum %s --db missing.db says so and does not create it', async (command) => {
    const file = tmp.path('missing.db');
    const r = await runQuorum(commands(file)[command]);
    expectOneLine(r, file, /does not exist/);
    expect(existsSync(file)).toBe(false);
  });

  it.each(['runs', 'show', 'judges', 'score'] as const)('quorum %s --db in a missing folder: one line, nothing created', async (command) => {
    const file = tmp.path('no-such-dir', 'q.db');
    const before = completions(server).length;
    const r = await runQuorum(commands(file)[command], { env });
    expectOneLine(r, file, /does not exist/);
    expect(completions(server).length).toBe(before);
    expect(existsSync(tmp.path('no-such-dir'))).toBe(false);
  });
});

/** Runs the CLI as a user who cannot write `paths`. */
function runReadOnly(args: string[], paths: string[]): Promise<QuorumResult> {
  return runQuorumReadOnly(args, paths, { env });
}

describe('a read-only database', () => {
  /** A copy of the real database in its own folder; with `folderWritable`, one the CLI's user can write. */
  async function readOnlyCopy(folder: string, folderWritable: boolean): Promise<string> {
    const dir = tmp.path(folder);
    await mkdir(dir);
    // As root, the CLI runs as nobody: a writable folder is one everybody may write.
    await chmod(dir, folderWritable && process.getuid?.() === 0 ? 0o777 : 0o755);
    const file = tmp.path(folder, 'q.db');
    await copyFile(real, file);
    await chmod(file, 0o644);
    return file;
  }

  it('quorum score: one line naming the file and the problem, no request, the file unchanged', async () => {
    const file = await readOnlyCopy('ro-score', true);
    const bytes = await readFile(file);
    const before = completions(server).length;
    const r = await runReadOnly(scoreArgs(file), [file]);
    expectOneLine(r, file, /read-only/);
    expect(completions(server).length).toBe(before);
    expect((await readFile(file)).equals(bytes)).toBe(true);
  });

  it('quorum runs and show read it', async () => {
    const file = await readOnlyCopy('ro-read', true);
    const runs = await runReadOnly(['runs', '--db', file, '--format', 'json'], [file]);
    expect(runs.code, runs.stderr).toBe(0);
    expect((JSON.parse(runs.stdout) as { name: string; status: string }[]).map((r) => [r.name, r.status])).toEqual([['photos', 'done']]);
    const show = await runReadOnly(['show', 'photos', '--db', file, '--format', 'json'], [file]);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toHaveLength(4);
  });

  it('in a folder that cannot be written either: quorum runs says why it cannot read it, in one line', async () => {
    const file = await readOnlyCopy('ro-folder', false);
    const r = await runReadOnly(['runs', '--db', file], [file, tmp.path('ro-folder')]);
    expectOneLine(r, file, /: is in a folder that cannot be written/);
  });
});
