/**
 * Bundles the compiled CLI (`dist/cli/`, and everything it imports from `dist/`) into
 * `dist/cli-bundle/`, which `bin/quorum.js` runs. Start-up is what this is for: a command
 * that loaded ~200 small ES modules spent most of its start in Node's module loader
 * (resolving, reading, compiling and linking each file). Each command is one CommonJS file
 * (`command-<name>.cjs`, required synchronously when it runs), `main.cjs` reads the
 * arguments and loads it; small pure-JavaScript dependencies (zod, citty, p-queue) are
 * inlined, the rest (native modules, the provider SDKs, engines, sharp, vega) stay in
 * node_modules and load only where a command needs them. Code a command reaches only
 * through `import()` stays in its file but is compiled and run only when reached.
 *
 * The modules whose identity or state `main` shares with the commands are files of their
 * own: the error classes it tells apart in `core.cjs`, which every bundle requires; the
 * decoding budget and sharp's settings it sets for image commands in `images.cjs`, which
 * `runs` and `show` never load. zod's trimmed runtime is another (`zod-runtime.cjs`),
 * loaded by the first schema used. The library (`dist/index.js`) is
 * not bundled.
 *
 *   node scripts/bundle-cli.mjs      (run by `npm run build`, after tsc)
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const out = join(dist, 'cli-bundle');
/** Dependencies small and pure enough to inline (with their own dependencies). */
const INLINE = new Set(['zod', 'citty', 'p-queue', 'eventemitter3', 'p-timeout', 'better-sqlite3']);
/**
 * Modules main and the commands must share one instance of, in two files: `core.cjs` (the
 * error classes, which every command needs) and `images.cjs` (the decoding budget and
 * sharp's settings, which only the commands that read images load).
 */
const SHARED = {
  core: ['core/errors.js'].map((f) => join(dist, f)),
  images: ['images/decode-budget.js', 'images/_sharp.js'].map((f) => join(dist, f)),
};
const sharedFileOf = (target) => Object.keys(SHARED).find((name) => SHARED[name].includes(target));
const ZOD_RUNTIME = join(dist, 'core', '_zod-runtime.js');
const COMMANDS = join(dist, 'cli', 'commands');
/**
 * Modules some command imports only for some of its runs (`show`'s printers of compare,
 * rank, hallucination, panel and endpoint runs): files of their own, so the runs that do
 * not need them do not compile them. Only pure printers belong here, no state or classes
 * that another file tells apart.
 */
const SPLIT = ['report/pairs.js', 'report/ranking.js', 'judges/pool/report.js', 'cli/panels/show.js', 'hallucination/stored.js'].map((f) =>
  join(dist, f),
);
const splitName = (file) => `lazy-${file.slice(dist.length + 1, -3).replaceAll('/', '-')}`;
const commands = readdirSync(COMMANDS).filter((f) => f.endsWith('.js')).map((f) => basename(f, '.js'));

const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Where a bundle finds what it does not inline: node_modules, core.cjs, images.cjs, zod-runtime.cjs, other commands. */
const linking = (own) => ({
  name: 'quorum-linking',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const spec = args.path;
      // The require() a lazy module below makes (written by this script).
      if (args.namespace === 'lazy') return { path: spec, external: true };
      if (spec.startsWith('node:')) return { external: true };
      if (!spec.startsWith('.') && !spec.startsWith('/')) return INLINE.has(packageOf(spec)) ? undefined : { external: true };
      if (args.importer.includes('node_modules')) return undefined;
      const target = resolve(args.resolveDir, spec);
      if (own.includes(target)) return undefined;
      const shared = sharedFileOf(target);
      const file = shared
        ? `./${shared}.cjs`
        : target === ZOD_RUNTIME
          ? './zod-runtime.cjs'
          : target.startsWith(COMMANDS + '/')
            ? `./command-${basename(target, '.js')}.cjs`
            : SPLIT.includes(target) && args.kind === 'dynamic-import'
              ? `./${splitName(target)}.cjs`
              : undefined;
      if (file === undefined) return undefined;
      // import() of another file: a module that requires it when the import() runs (esbuild
      // keeps an external import() as one, which would load the file as an ES module).
      return args.kind === 'dynamic-import' ? { path: file, namespace: 'lazy' } : { path: file, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
});

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // A CommonJS file's own URL, where the sources read import.meta.url.
  define: { 'import.meta.url': '__quorumModuleUrl' },
  banner: { js: "const __quorumModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
};

rmSync(out, { recursive: true, force: true });
const bundles = [
  ...Object.entries(SHARED).map(([name, files]) => ({ name, entry: null, files })),
  { name: 'zod-runtime', entry: ZOD_RUNTIME },
  { name: 'main', entry: join(dist, 'cli', 'main.js') },
  ...commands.map((c) => ({ name: `command-${c}`, entry: join(COMMANDS, `${c}.js`) })),
  ...SPLIT.map((f) => ({ name: splitName(f), entry: f })),
];
const metafile = { inputs: {}, outputs: {} };
await Promise.all(
  bundles.map(async ({ name, entry, files }) => {
    const result = await build({
      ...common,
      ...(entry
        ? { entryPoints: [entry] }
        : { stdin: { contents: files.map((f) => `export * from ${JSON.stringify(f)};`).join('\n'), resolveDir: dist, sourcefile: `${name}.js` } }),
      outfile: join(out, `${name}.cjs`),
      metafile: true,
      plugins: [linking(entry ? [entry] : files)],
    });
    Object.assign(metafile.inputs, result.metafile.inputs);
    Object.assign(metafile.outputs, result.metafile.outputs);
  }),
);
if (process.env['QUORUM_BUNDLE_META']) writeFileSync(process.env['QUORUM_BUNDLE_META'], JSON.stringify(metafile));
