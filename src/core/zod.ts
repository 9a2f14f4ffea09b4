import { createRequire } from 'node:module';

/**
 * zod, loaded the first time a schema is used rather than when a module is imported: a
 * command that validates nothing (a rerun served from the database, `runs`, `show`,
 * `--help`) never loads or initialises it. Schemas are built by `lazySchema` builders;
 * types come from them (`z.infer<ReturnType<typeof QualityReport>>`) with `import type`.
 *
 * One copy per process: this module is the only way to zod's runtime
 * (`_zod-runtime.ts` aside, which it loads). Code that can wait loads it with
 * `await loadZod()` first (in the CLI bundle that is a chunk of zod trimmed to what
 * Quorum uses, ~12 ms); a synchronous first use, such as parsing a judge's structured
 * answer, falls back to `require('zod')` from node_modules (the whole package with its
 * locales, ~60 ms, once). Whichever arrives first is the one every schema is built with.
 */
export type Zod = typeof import('./_zod-runtime.js');

let loaded: Zod | undefined;
let loading: Promise<Zod> | undefined;

/** zod's functions, loaded synchronously if no `loadZod()` has finished yet. */
export function zod(): Zod {
  return (loaded ??= createRequire(import.meta.url)('zod') as Zod);
}

/** Loads zod ahead of a synchronous use, without blocking the event loop on it. */
export function loadZod(): Promise<Zod> {
  if (loaded) return Promise.resolve(loaded);
  return (loading ??= import('./_zod-runtime.js').then((z) => (loaded ??= z)));
}

/**
 * A schema built on first use, then kept.
 * @example
 * export const Point = lazySchema((z) => z.object({ x: z.number(), y: z.number() }));
 * export type Point = z.infer<ReturnType<typeof Point>>;
 * Point().parse({ x: 1, y: 2 }); // => { x: 1, y: 2 }
 */
export function lazySchema<T>(build: (z: Zod) => T): () => T {
  let schema: { value: T } | undefined;
  return () => (schema ??= { value: build(zod()) }).value;
}
