/**
 * Bundles the compiled CLI (`dist/cli/main.js` and everything it imports from `dist/`)
 * into `dist/cli-bundle/`, which `bin/quorum.js` runs. Start-up is what this is for: a
 * command that loads ~200 small modules spends most of its start in Node's module
 * loader (resolving, reading and compiling each file); one chunk per command, with
 * the code they share in common chunks, keeps every command's imports lazy and the files
 * few. Small pure-JavaScript dependencies (zod, citty, p-queue) are inlined; the rest
 * (native modules, the provider SDKs, engines, sharp, vega) stay in node_modules and load
 * only where a command needs them. The library (`dist/index.js`) is not bundled.
 *
 *   node scripts/bundle-cli.mjs      (run by `npm run build`, after tsc)
 */
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Dependencies small and pure enough to inline (with their own dependencies). */
const INLINE = new Set(['zod', 'citty', 'p-queue', 'eventemitter3', 'p-timeout']);
const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

const out = `${root}dist/cli-bundle`;
rmSync(out, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/cli/main.js' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
  plugins: [
    {
      name: 'external-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('node:')) return { external: true };
          // Inlined packages import their own files by relative path; only bare names are decided here.
          return INLINE.has(packageOf(args.path)) ? undefined : { external: true };
        });
      },
    },
  ],
});
if (process.env['QUORUM_BUNDLE_META']) writeFileSync(process.env['QUORUM_BUNDLE_META'], JSON.stringify(result.metafile));
