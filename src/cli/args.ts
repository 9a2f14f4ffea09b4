import { homedir } from 'node:os';
import type { ArgsDef } from 'citty';
import { expected, UsageError } from '../core/errors.js';

/** Parsed command-line options, and typed readers that fail with the usage-error template. */
export type Args = Record<string, unknown>;

/**
 * The largest value each numeric option accepts. Above these a typo (`--samples 1e9`)
 * would allocate gigabytes or wait for days before the first request; within them every
 * value is one somebody could mean. Options not listed stop at 2^53 - 1.
 */
export const optionLimits: Readonly<Record<string, number>> = {
  /** Samples per image or per pair order: each is stored, and K slots are built up front. */
  samples: 1000,
  /** Requests in flight (and twice as many images decoded ahead of them). */
  concurrency: 1024,
  /** Requests started per minute. */
  rpm: 1_000_000,
  /** Retries per request; with capped backoff, 100 retries already wait about an hour. */
  retries: 100,
  /** Seconds per request: one day (Node timers overflow past 24.8 days and fire at once). */
  timeout: 86_400,
  /** Pixels on the longest side sent to a judge (no judge reads more than 8k). */
  'max-side': 16_384,
  /** rank: judged orders; every planned pair is held in memory. */
  budget: 1_000_000,
  /** Seeds are unsigned 32-bit integers for every engine (llama.cpp, OpenAI, the bootstrap). */
  seed: 4_294_967_295,
  'bootstrap-seed': 4_294_967_295,
  /** llama: layers, threads, context and batch in tokens (2^20: beyond any model's context). */
  'gpu-layers': 10_000,
  threads: 1024,
  'context-size': 1_048_576,
  'batch-size': 1_048_576,
};

export function str(args: Args, name: string): string | undefined {
  const raw = args[name];
  // An option given several times holds every value (see `collectRepeated`); one-value options take the last.
  const v = Array.isArray(raw) ? (raw.at(-1) as unknown) : raw;
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

/** Every value of an option that may be given several times (`--base-url A --base-url B`), in order. */
export function strs(args: Args, name: string): string[] {
  const raw = args[name];
  const values = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  return values.map(String).filter((v) => v !== '');
}

/**
 * The values of string options given more than once, which the argument parser reduces to
 * the last one: `--base-url A --base-url=B` -> `{ 'base-url': ['A', 'B'] }`.
 */
export function collectRepeated(argv: readonly string[], names: ReadonlySet<string>): Record<string, string[]> {
  const seen: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
    if (!m || !names.has(m[1] as string)) continue;
    const value = m[2] ?? argv[++i];
    if (value !== undefined) (seen[m[1] as string] ??= []).push(value);
  }
  return Object.fromEntries(Object.entries(seen).filter(([, v]) => v.length > 1));
}

const bounds = (min: number, max: number, kind: string) =>
  max === Number.MAX_SAFE_INTEGER || max === Number.POSITIVE_INFINITY ? `${kind} >= ${min}` : `${kind} in [${min}, ${max}]`;

/** A decimal integer in [min, max]; `max` defaults to the option's entry in `optionLimits`. */
export function intArg(args: Args, name: string, min: number, max = optionLimits[name] ?? Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  // Digits only: `1e9`, `0x10` and ` 5` are typos or tricks, not counts.
  const n = /^[+-]?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(expected(name, bounds(min, max, 'an integer'), v));
  return n;
}

/** A finite number in [min, max]; `max` defaults to the option's entry in `optionLimits`. */
export function numArg(args: Args, name: string, min: number, max = optionLimits[name] ?? Number.POSITIVE_INFINITY): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(expected(name, bounds(min, max, 'a number'), v));
  return n;
}

export function enumArg<T extends string>(args: Args, name: string, values: readonly T[], fallback: T): T {
  const v = str(args, name) ?? fallback;
  if (!values.includes(v as T)) throw new UsageError(expected(name, `one of ${values.join(', ')}`, v));
  return v as T;
}

/**
 * `~` and `~/...` at the start of a path name the home folder, as in a shell. A shell
 * leaves them alone when quoted or after `=` (`--db=~/q.db`), so Quorum expands them.
 * `~user/` forms are left as they are.
 */
export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  return `${env['HOME'] || homedir()}${path.slice(1)}`;
}

/** A path option, with `~` expanded. */
export function pathArg(args: Args, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const v = str(args, name);
  return v === undefined ? undefined : expandHome(v, env);
}

/**
 * An http(s) URL option (`--base-url`): anything else (`localhost:8080`, `ftp://x`,
 * `http//x`, no host) would fail on every request instead of once, here.
 */
export function urlArg(args: Args, name: string): string | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new UsageError(expected(name, 'an http(s) URL such as http://127.0.0.1:8080/v1', v));
  }
  return v;
}

/** The database option every command that reads or writes the store takes. */
export const dbArg = {
  db: { type: 'string', valueHint: 'file', description: 'SQLite database (env QUORUM_DB, default ./quorum.db); for judging runs, checked writable before any call' },
} as const satisfies ArgsDef;

export function dbPath(args: Args, env: NodeJS.ProcessEnv): string {
  return expandHome(str(args, 'db') ?? env['QUORUM_DB'] ?? 'quorum.db', env);
}

/**
 * `io` with `extra` added, its getters kept as getters: spreading would read `stdin`,
 * which creates the stream (and loads Node's stream modules) for commands that never ask.
 */
export function withIO<I extends object, T extends object>(io: I, extra: T): Omit<I, keyof T> & T {
  return Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(io), ...Object.getOwnPropertyDescriptors(extra) }) as Omit<I, keyof T> & T;
}
