import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { StoreError } from '../core/errors.js';
import { migrations } from './migrations.js';

/**
 * Opening a database file safely: one clear line for every way the file can be wrong,
 * nothing written to a file that is not Quorum's, and migrations that several processes
 * starting at once apply exactly once.
 */

/** How long a statement waits for another process's lock before failing. */
export const BUSY_TIMEOUT_MS = 15_000;

/** `PRAGMA application_id` of a Quorum database: "QRM1". */
export const APPLICATION_ID = 0x51524d31;

/** Tables every Quorum database has had since the first schema version. */
const OWN_TABLES = ['calls', 'images', 'runs'];

/**
 * Why a database cannot be created or written at `file`, as far as the file system says
 * now, or undefined: a missing folder, a file in the way of a folder, a folder where the
 * file should be, a read-only file or folder (SQLite keeps its `-wal` and `-shm` files
 * beside the database). The CLI asks this before any call; `Store.open` asks it too.
 */
export function databasePathProblem(file: string): string | undefined {
  const folder = dirname(resolve(file));
  let stat;
  try {
    stat = statSync(file);
  } catch {
    let parent;
    try {
      parent = statSync(folder);
    } catch {
      return `the folder ${folder} does not exist`;
    }
    if (!parent.isDirectory()) return `${folder} is not a folder`;
    return writable(folder) ? undefined : `the folder ${folder} is read-only`;
  }
  if (stat.isDirectory()) return 'it is a folder';
  if (!writable(file)) return 'the file is read-only';
  return writable(folder) ? undefined : `the folder ${folder} is read-only`;
}

/** `databasePathProblem` as a `StoreError`. */
export function checkDatabasePath(file: string): void {
  const problem = databasePathProblem(file);
  if (problem) throw new StoreError(file, problem);
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses another program's database before anything is written to it (even the journal
 * mode). A file is Quorum's when it carries Quorum's application id, is empty, or is an
 * early Quorum database (no application id yet, Quorum's tables).
 */
export function checkOwnSchema(db: Database.Database, file: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId === APPLICATION_ID) return;
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
    (t) => t.name,
  );
  if (tables.length === 0 && appId === 0) return;
  if (appId === 0 && OWN_TABLES.every((t) => tables.includes(t))) return;
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
  throw new StoreError(
    file,
    `is a SQLite database of another program (${appId ? `application id ${appId}` : `tables: ${shown}`}); it was left untouched, choose another --db`,
  );
}

/**
 * Applies the migrations this file lacks. The version is read inside the same IMMEDIATE
 * transaction that applies them, so of several processes opening a new database at
 * once, one migrates and the others wait and then find nothing to do.
 */
export function migrate(db: Database.Database, file: string): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const found = version();
  if (found > migrations.length) {
    throw new StoreError(file, `has schema version ${found}, newer than this Quorum understands (${migrations.length}); upgrade Quorum`);
  }
  if (found === migrations.length) return;
  db.transaction(() => {
    for (let v = version(); v < migrations.length; v++) {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
  }).immediate();
}

/** SQLite's failure in words a user can act on. */
export function sqliteReason(cause: unknown): string {
  const code = (cause as { code?: string }).code ?? '';
  const message = cause instanceof Error ? cause.message : String(cause);
  if (code === 'SQLITE_NOTADB') return 'is not a SQLite database';
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) return `is corrupt or truncated (${message})`;
  // Reading a WAL database needs its -shm file; SQLite cannot create it in a read-only folder.
  if (code === 'SQLITE_READONLY_DIRECTORY') {
    return 'is in a folder that cannot be written: SQLite needs to create its -shm file beside the database even to read it; make the folder writable or copy the database elsewhere';
  }
  if (code.startsWith('SQLITE_READONLY')) return `cannot be written (${message})`;
  if (code.startsWith('SQLITE_CANTOPEN')) return `cannot be opened (${message})`;
  if (code.startsWith('SQLITE_BUSY')) return `is locked by another process for too long (${message})`;
  return message;
}
