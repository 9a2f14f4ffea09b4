import type { ArgsDef } from 'citty';
import { expected, UsageError } from '../core/errors.js';

/** Parsed command-line options, and typed readers that fail with the usage-error template. */
export type Args = Record<string, unknown>;

export function str(args: Args, name: string): string | undefined {
  const v = args[name];
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

export function intArg(args: Args, name: string, min: number): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(expected(name, `an integer >= ${min}`, v));
  return n;
}

export function numArg(args: Args, name: string, min: number, max = Number.POSITIVE_INFINITY): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(expected(name, max === Number.POSITIVE_INFINITY ? `a number >= ${min}` : `a number in [${min}, ${max}]`, v));
  }
  return n;
}

export function enumArg<T extends string>(args: Args, name: string, values: readonly T[], fallback: T): T {
  const v = str(args, name) ?? fallback;
  if (!values.includes(v as T)) throw new UsageError(expected(name, `one of ${values.join(', ')}`, v));
  return v as T;
}

/** The database option every command that reads or writes the store takes. */
export const dbArg = {
  db: { type: 'string', valueHint: 'file', description: 'SQLite database (env QUORUM_DB, default ./quorum.db)' },
} as const satisfies ArgsDef;

export function dbPath(args: Args, env: NodeJS.ProcessEnv): string {
  return str(args, 'db') ?? env['QUORUM_DB'] ?? 'quorum.db';
}
