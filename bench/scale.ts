/**
 * A dataset's worth of stored calls, through the CLI as a user runs it.
 *
 *   npx tsx bench/scale.ts [--calls N] [--samples K] [--dir FOLDER] [--keep]
 *
 * Writes N / K distinct 16 x 16 PNG test images (default 1,000,000 calls: 50,000 images x
 * 20 samples), starts the OpenAI test server in a child process with 1 ms latency
 * (bench/_judge-server.ts), and times fresh `quorum` processes (the built CLI in dist/,
 * under /usr/bin/time -v for the peak resident set):
 *   - `score` first run (every call made and stored through the normal path: claim, request,
 *     parse, record), stdout (jsonl) to a file;
 *   - `score` again: the cached rerun, every sample served from the database (checked: the
 *     output says each image's K samples were cached);
 *   - `show` in every format (table, json, jsonl, csv) and `show --calls`, to files (the line
 *     counts are checked), and `runs` (table, json).
 * With `--dir` the images and database are kept there and reused (the server then listens
 * on a fixed port, `--port`, default 47311: the base URL is part of the judge's identity
 * and so of every cache key): a database that already holds the run makes the "first run"
 * a second cached rerun (said in the output).
 *
 * Targets (issue 14): the cached rerun serves >= 50,000 samples/s; the peak RSS of the
 * cached rerun and of `show --calls` stays under 400 MB; every command exits 0.
 * Exit code 1 when a target fails.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assertBuilt, eachLine, load, startServer, timedQuorum, writeImages, type Timed } from './_cli.js';

const CACHED_PER_S = 50_000;
const PEAK_MB = 400;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '1000000' },
      samples: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '16' },
      dir: { type: 'string' },
      port: { type: 'string' },
      keep: { type: 'boolean' },
    },
  });
  const calls = Number(values.calls);
  const samples = Number(values.samples);
  if (!Number.isInteger(calls) || calls < 1) throw new Error(`Expected \`--calls\` to be an integer >= 1, got \`${values.calls}\``);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`Expected \`--samples\` to be an integer >= 1, got \`${values.samples}\``);
  const images = Math.ceil(calls / samples);
  const total = images * samples;
  assertBuilt();

  const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'quorum-bench-scale-')));
  mkdirSync(dir, { recursive: true });
  const folder = join(dir, 'images');
  const db = join(dir, 'scale.db');
  const hadRun = existsSync(db);
  console.log(
    `Quorum at dataset scale: ${images.toLocaleString('en')} PNG 16x16 x ${samples} samples = ${total.toLocaleString('en')} calls, ` +
      `concurrency ${values.concurrency}, test server latency 1 ms (child process); node ${process.version}, ${cpus().length} CPUs; folder ${dir}`,
  );
  let t = performance.now();
  await writeImages(folder, images);
  console.log(`images written in ${((performance.now() - t) / 1000).toFixed(1)} s; load average ${load()}`);

  const server = await startServer(1, Number(values.port ?? (values.dir ? 47311 : 0)));
  const rows: { step: string; timed: Timed; rate?: string; load: string }[] = [];
  const failures: string[] = [];
  const step = async (name: string, args: string[], outName: string, check: (file: string, timed: Timed) => Promise<string | undefined>) => {
    const file = join(dir, outName);
    const timed = await timedQuorum(args, file, { OPENAI_API_KEY: 'bench' });
    const l = load();
    if (timed.code !== 0) failures.push(`${name}: exit code ${timed.code}: ${timed.stderr.split('\n').slice(-6).join(' | ')}`);
    const rate = timed.code === 0 ? await check(file, timed) : undefined;
    rows.push({ step: name, timed, load: l, ...(rate ? { rate } : {}) });
    console.log(
      `  ${name}: ${timed.wallS.toFixed(1)} s (CPU ${timed.cpuS.toFixed(1)} s), peak RSS ${timed.peakMB.toFixed(0)} MB${rate ? `, ${rate}` : ''}; load average ${l}`,
    );
  };
  try {
    const score = ['score', folder, '--judge', 'openai:sim-judge', '--base-url', server.url, '--method', 'sample', '--samples', String(samples),
      '--concurrency', String(values.concurrency), '--db', db, '--run', 'scale', '--format', 'jsonl'];
    /** Checks every image is in the jsonl output, scored, with `cachedOf(image)` samples cached. */
    const scored = (cachedWanted: number | undefined) => async (file: string, timed: Timed) => {
      let bad = 0;
      const n = await eachLine(file, (line) => {
        const r = JSON.parse(line) as { status: string; cached: number };
        if (r.status !== 'ok' || (cachedWanted !== undefined && r.cached !== cachedWanted)) bad++;
      });
      if (n !== images || bad) failures.push(`${file}: ${n} lines for ${images} images, ${bad} not ok${cachedWanted ? ' or not all cached' : ''}`);
      // Per CPU second too: on a shared machine the wall clock counts other processes' turns.
      return `${Math.round(total / timed.wallS).toLocaleString('en')} samples/s (${Math.round(total / timed.cpuS).toLocaleString('en')} per CPU second)`;
    };
    await step(hadRun ? 'score (run existed: cached)' : 'score, first run', score, 'score-1.jsonl', scored(hadRun ? samples : undefined));
    await step('score, cached rerun', score, 'score-2.jsonl', scored(samples));
    const lines = (wanted: number) => async (file: string) => {
      const n = await eachLine(file);
      if (n !== wanted) failures.push(`${file}: ${n} lines, wanted ${wanted}`);
      return `${(statSync(file).size / 2 ** 20).toFixed(0)} MB out`;
    };
    const show = ['show', 'scale', '--db', db];
    await step('show (table)', show, 'show.txt', lines(images + 2));
    await step('show --format json', [...show, '--format', 'json'], 'show.json', async (file) => {
      // A JSON array of one object per image, pretty-printed: count the objects' first lines.
      let n = 0;
      await eachLine(file, (line) => void (line === '  {' && n++));
      if (n !== images) failures.push(`${file}: ${n} objects, wanted ${images}`);
      return `${(statSync(file).size / 2 ** 20).toFixed(0)} MB out`;
    });
    await step('show --format jsonl', [...show, '--format', 'jsonl'], 'show.jsonl', lines(images));
    await step('show --format csv', [...show, '--format', 'csv'], 'show.csv', lines(images + 1));
    // Both score runs link every call to the run: `show --calls` prints each call once.
    await step('show --calls', [...show, '--calls'], 'calls.jsonl', lines(total));
    await step('runs', ['runs', '--db', db], 'runs.txt', async (file) => {
      let listed = false;
      await eachLine(file, (line) => void (line.startsWith('scale ') && (listed = true)));
      if (!listed) failures.push(`${file}: the run \`scale\` is not listed`);
      return undefined;
    });
    await step('runs --format json', ['runs', '--db', db, '--format', 'json'], 'runs.json', async () => undefined);
  } finally {
    server.stop();
    if (!values.keep && !values.dir) await rm(dir, { recursive: true, force: true });
  }

  const cached = rows.find((r) => r.step === 'score, cached rerun')!;
  const callsRow = rows.find((r) => r.step === 'show --calls');
  const perS = total / cached.timed.wallS;
  const targets: [string, string, string, boolean][] = [
    ['cached rerun, samples/s', Math.round(perS).toLocaleString('en'), `>= ${CACHED_PER_S.toLocaleString('en')}`, perS >= CACHED_PER_S],
    ['cached rerun, peak RSS', `${cached.timed.peakMB.toFixed(0)} MB`, `< ${PEAK_MB} MB`, cached.timed.peakMB < PEAK_MB],
    ['show --calls, peak RSS', `${callsRow?.timed.peakMB.toFixed(0)} MB`, `< ${PEAK_MB} MB`, (callsRow?.timed.peakMB ?? Infinity) < PEAK_MB],
    ['every command exits 0, outputs complete', failures.length ? `${failures.length} failed` : 'yes', 'yes', failures.length === 0],
  ];
  console.log('');
  for (const f of failures) console.log(`FAILED ${f}`);
  for (const [name, value, wanted, pass] of targets) console.log(`${name.padEnd(42)}${value.padEnd(12)}${wanted.padEnd(12)}${pass ? 'PASS' : 'FAIL'}`);
  if (targets.some((x) => !x[3])) process.exitCode = 1;
}

await main();
