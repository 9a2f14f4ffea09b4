/**
 * zod loads only when a schema is used: `--help`, `runs`, `show` and a score run served
 * entirely from the database never load it (not its files in node_modules, not the CLI
 * bundle's chunk of it); a live structured answer and a config file still go through it,
 * with the same messages. Each CLI process lists what it loaded (`_loaded-files.mjs`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, runQuorum, type QuorumResult } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { completions, messagesOf, parseScores, runNameOf, spread, tempDir, textOf, writeImages, type TempDir } from '../scoring/_support.js';

const PROBE = fileURLToPath(new URL('./_loaded-files.mjs', import.meta.url));
const KEY = 'sk-test-zod-loading';
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(3));
  server = await startOpenAIServer({ apiKey: KEY, models: ['sim'] });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

/** Runs the CLI with the probe; returns its result and the files it loaded. */
async function quorum(args: string[], cwd?: string): Promise<QuorumResult & { loaded: string[] }> {
  const r = await runQuorum(args, { env: { OPENAI_API_KEY: KEY, NODE_OPTIONS: `--import ${PROBE}` }, ...(cwd ? { cwd } : {}) });
  const loaded = r.stderr.split('\n').flatMap((l) => (l.startsWith('loaded ') ? [l.slice('loaded '.length)] : []));
  expect(loaded.some((f) => f.endsWith('bin/quorum.js')), 'the probe saw the CLI load').toBe(true);
  return { ...r, loaded };
}

/** zod's files among `loaded`: the package's own, or a bundle chunk built from it. */
function zodFiles(loaded: readonly string[]): string[] {
  return loaded.filter((f) => f.includes('/node_modules/zod/') || (f.includes('/cli-bundle/') && readFileSync(f, 'utf8').includes('node_modules/zod/')));
}

/** zod was loaded, ahead of its use (`loadZod`): the bundle's trimmed chunk, not the package from node_modules as well. */
function expectBundledZod(loaded: readonly string[]): void {
  const files = zodFiles(loaded);
  expect(files.length).toBeGreaterThan(0);
  expect(files.filter((f) => !f.includes('/cli-bundle/'))).toEqual([]);
}

const scoreArgs = (db: string) => [
  'score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--prompt', 'quality-report', '--samples', '1', '--db', tmp.path(db), '--format', 'json',
];

it('--help, runs and show never load zod; a live report run validates its answers with it, its cached rerun does not load it', async () => {
  const help = await quorum(['--help']);
  expect(help.code).toBe(0);
  expect(zodFiles(help.loaded)).toEqual([]);

  // One answer breaks the report schema (score 9 of 1-5): the judge is asked again with zod's message.
  server.failNext({ kind: 'say', text: JSON.stringify({ score: 9, distortions: [], reasoning: 'too good' }) });
  const live = await quorum(scoreArgs('report.db'));
  expect(live.code, live.stderr).toBe(0);
  expect(parseScores(live.stdout).map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
  expectBundledZod(live.loaded);
  const asked = completions(server);
  expect(asked).toHaveLength(4);
  const reask = asked.map((r) => textOf(messagesOf(r).at(-1)?.content)).filter((t) => t.startsWith('Your answer could not be read'));
  expect(reask).toEqual([expect.stringMatching(/^Your answer could not be read: score: Too big: expected number to be <=5\./)]);

  const rerun = await quorum(scoreArgs('report.db'));
  expect(completions(server)).toHaveLength(4);
  expect(rerun.code).toBe(0);
  expect(parseScores(rerun.stdout)).toEqual(parseScores(live.stdout).map((s) => ({ ...s, cached: 1 })));
  expect(zodFiles(rerun.loaded)).toEqual([]);

  const runs = await quorum(['runs', '--db', tmp.path('report.db')]);
  expect(runs.code).toBe(0);
  expect(zodFiles(runs.loaded)).toEqual([]);
  const show = await quorum(['show', runNameOf(rerun.stderr), '--db', tmp.path('report.db'), '--format', 'json']);
  expect(show.code).toBe(0);
  expect(zodFiles(show.loaded)).toEqual([]);
});

it('a config file is validated with zod (the bundle\'s chunk of it), with the same messages', async () => {
  const dir = tmp.path('config');
  await mkdir(dir);
  await writeImages(dir, spread(1));
  await writeFile(`${dir}/quorum.config.yaml`, `judges:\n  sim:\n    judge: openai:sim\n    baseUrl: ${server.url}\n    samples: 0\n`);
  const bad = await quorum(['score', dir, '--judge', 'sim', '--db', tmp.path('config.db')], dir);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('quorum.config.yaml:5: judges.sim.samples: expected at least 1, got number 0');
  expectBundledZod(bad.loaded);
});

it('no module but core/zod.ts (and the runtime list it loads) reaches zod\'s runtime (a second way in would load a second copy)', () => {
  const src = `${REPO_ROOT}src/`;
  const runtime = /^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+['"]zod(?:\/[^'"]*)?['"]|\b(?:import|require)\(\s*['"]zod/m;
  const offenders = (readdirSync(src, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && runtime.test(readFileSync(`${src}${f}`, 'utf8')))
    .sort();
  expect(offenders).toEqual(['core/_zod-runtime.ts', 'core/zod.ts']);
});
