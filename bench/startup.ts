/**
 * What a short command costs: start-up, and a cached rerun against the least it could do.
 *
 *   npx tsx bench/startup.ts [--rounds N] [--images N]
 *
 * Setup (not timed): N distinct 16 x 16 PNGs (default 10,000) scored once with one sample
 * each against the OpenAI test server (child process, 1 ms latency), through the CLI, and
 * 20 of them into a second, small database (start-up is what `runs` and `show` are timed
 * for, not printing 10,000 rows).
 * Then each round runs every task below once in a fresh process, in an order that
 * rotates from round to round (so load drifts fall on all of them alike):
 *   - `node -e 0`: the floor for any Node program;
 *   - `quorum --help`, `quorum runs`, `quorum show RUN` (table, to a file);
 *   - the cached rerun: the same `quorum score` again, every sample served from the database;
 *   - its baseline, bench/_cache-baseline.mjs: plain JavaScript that hashes every image
 *     file, builds each sample's cache key and looks it up in the same database.
 * Wall-clock medians over rounds; ratios are medians of the per-round ratios; CPU (user +
 * system, GNU time, 10 ms resolution) is the median too. Load average printed per round.
 *
 * Targets (issue 14): `--help`, `runs` and `show` within 1.5x `node -e 0`; the cached
 * rerun within 2x its baseline. Exit code 1 when one fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { assertBuilt, load, median, startServer, timedNode, timedQuorum, writeImages, type Timed } from './_cli.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, images: { type: 'string', default: '10000' } } });
const rounds = Number(values.rounds);
const images = Number(values.images);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`Expected \`--rounds\` to be an integer >= 1, got \`${values.rounds}\``);
if (!Number.isInteger(images) || images < 1) throw new Error(`Expected \`--images\` to be an integer >= 1, got \`${values.images}\``);
assertBuilt();

const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-startup-'));
const folder = join(dir, 'images');
const db = join(dir, 'q.db');
const env = { OPENAI_API_KEY: 'bench' };
const server = await startServer(1);
try {
  await writeImages(folder, images);
  const score = ['score', folder, '--judge', 'openai:sim-judge', '--base-url', server.url, '--method', 'sample', '--samples', '1',
    '--concurrency', '16', '--db', db, '--run', 'cache', '--format', 'jsonl'];
  const first = await timedQuorum(score, join(dir, 'first.jsonl'), env);
  if (first.code !== 0) throw new Error(`the first score run failed: ${first.stderr}`);
  const small = join(dir, 'small.db');
  await writeImages(join(dir, 'small'), 20);
  const tiny = await timedQuorum([...score.slice(0, 1), join(dir, 'small'), ...score.slice(2).map((a) => (a === db ? small : a))], join(dir, 'tiny.jsonl'), env);
  if (tiny.code !== 0) throw new Error(`the small score run failed: ${tiny.stderr}`);
  console.log(
    `Start-up and cached rerun: ${images.toLocaleString('en')} images x 1 sample stored (first run ${first.wallS.toFixed(1)} s); ` +
      `${rounds} rounds of fresh processes, order rotating; node ${process.version}, ${cpus().length} CPUs; load average ${load()}`,
  );

  const tasks: { name: string; run: () => Promise<Timed>; check?: (t: Timed) => void }[] = [
    { name: 'node -e 0', run: () => timedNode(['-e', '0'], join(dir, 'node.out')) },
    { name: 'quorum --help', run: () => timedQuorum(['--help'], join(dir, 'help.out')) },
    { name: 'quorum runs', run: () => timedQuorum(['runs', '--db', small], join(dir, 'runs.out')) },
    { name: 'quorum show', run: () => timedQuorum(['show', 'cache', '--db', small], join(dir, 'show.out')) },
    {
      name: 'cached rerun',
      run: () => timedQuorum(score, join(dir, 'rerun.jsonl'), env),
      check: (t) => {
        if (!t.stderr.includes(` 0 requests, ${images} cached samples`)) {
          throw new Error(`the rerun was not served from the cache: ${t.stderr.slice(-400)}`);
        }
      },
    },
    {
      name: 'baseline: hash + lookup',
      run: () => timedNode(['bench/_cache-baseline.mjs', db, folder, '1'], join(dir, 'baseline.out')),
      check: () => {
        const found = Number(readFileSync(join(dir, 'baseline.out'), 'utf8'));
        if (found !== images) throw new Error(`the baseline found ${found} of ${images} keys`);
      },
    },
  ];
  const got = new Map<string, Timed[]>(tasks.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = tasks.map((_, i) => tasks[(i + round) % tasks.length]!);
    for (const task of order) {
      const timed = await task.run();
      if (timed.code !== 0) throw new Error(`${task.name} exited with ${timed.code}: ${timed.stderr.slice(-400)}`);
      task.check?.(timed);
      got.get(task.name)!.push(timed);
    }
    console.log(`  round ${round + 1}: ${tasks.map((t) => `${t.name} ${got.get(t.name)![round]!.wallS.toFixed(3)}`).join(', ')} s; load average ${load()}`);
  }

  const ratio = (a: string, b: string) => median(got.get(a)!.map((t, i) => t.wallS / got.get(b)![i]!.wallS));
  console.log('');
  console.log(`${'median over rounds'.padEnd(26)}${'wall s'.padEnd(9)}${'CPU s'.padEnd(8)}peak RSS MB`);
  for (const t of tasks) {
    const runs = got.get(t.name)!;
    console.log(
      `${t.name.padEnd(26)}${median(runs.map((r) => r.wallS)).toFixed(3).padEnd(9)}${median(runs.map((r) => r.cpuS)).toFixed(2).padEnd(8)}` +
        `${median(runs.map((r) => r.peakMB)).toFixed(0)}`,
    );
  }
  const targets: [string, number, number][] = [
    ['quorum --help / node -e 0', ratio('quorum --help', 'node -e 0'), 1.5],
    ['quorum runs / node -e 0', ratio('quorum runs', 'node -e 0'), 1.5],
    ['quorum show / node -e 0', ratio('quorum show', 'node -e 0'), 1.5],
    [`cached rerun (${images.toLocaleString('en')}) / baseline`, ratio('cached rerun', 'baseline: hash + lookup'), 2],
  ];
  console.log('');
  for (const [name, value, most] of targets) console.log(`${name.padEnd(36)}${value.toFixed(2).padEnd(8)}<= ${most}  ${value <= most ? 'PASS' : 'FAIL'}`);
  if (targets.some(([, value, most]) => value > most)) process.exitCode = 1;
} finally {
  server.stop();
  await rm(dir, { recursive: true, force: true });
}
