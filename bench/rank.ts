/**
 * Kendall tau against the number of judged comparisons, for the three ways `quorum rank`
 * can choose pairs: active (src/judges/active.ts), random pairs, and round-robin (all
 * pairs, scheduled in rounds so a partial budget still covers every item evenly).
 *
 *   npx tsx bench/rank.ts [--quick]
 *
 * Part 1: tau at N log2 N, 2 N log2 N and N(N-1) judged orders, N = 32, 128, 512 (--quick:
 * 32, 128). Part 2: milliseconds spent choosing each pair (fit + choice, amortised over a
 * batch of 8), the incremental `ActiveRanker` against the previous full refit
 * (`fitScores` with dense standard errors + `chooseActive` over every remaining pair),
 * each in a fresh process from the same seeded state, rounds alternating which goes first,
 * medians; then the incremental one alone at 1,000 items (whole 2 N log2 N budget) and
 * 10,000 items (a budget of 20,000 pairs). The load average is printed beside each figure.
 *
 * The judge is simulated in-process (the same Thurstone model with perception noise the
 * test servers use), so this measures the pair-choice strategies, not HTTP. Every pair is
 * judged in both orders (2 comparisons), as `quorum rank` does. Same seeds for every strategy.
 */
import { krcc } from '../src/aggregate/correlation.js';
import { normalCdf } from '../src/aggregate/normal.js';
import { createRandom, type Random } from '../src/aggregate/random.js';
import type { Comparison } from '../src/aggregate/comparison.js';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ActiveRanker, allPairsPool, chooseActive, fitScores, type Candidate } from '../src/judges/active.js';

const NOISE = 0.25; // perception noise per judgment, in quality units (test server default)
const SEEDS = [1, 2, 3];

function gaussian(r: Random): number {
  return Math.sqrt(-2 * Math.log(1 - r.uniform())) * Math.cos(2 * Math.PI * r.uniform());
}

/** Debiased soft preference P(a beats b) from two noisy perceptions, averaged over both orders. */
function judge(q: readonly number[], c: Candidate, r: Random): Comparison {
  let p = 0;
  for (let order = 0; order < 2; order++) {
    const d = (q[c.a] as number) + NOISE * gaussian(r) - ((q[c.b] as number) + NOISE * gaussian(r));
    p += normalCdf(d / 0.6) / 2;
  }
  return { a: c.a, b: c.b, outcome: p };
}

function roundRobinSchedule(n: number): Candidate[] {
  // Circle method: n-1 rounds in which every item plays once.
  const m = n % 2 === 0 ? n : n + 1;
  const ring = Array.from({ length: m }, (_, i) => i);
  const out: Candidate[] = [];
  for (let round = 0; round < m - 1; round++) {
    for (let k = 0; k < m / 2; k++) {
      const a = ring[k] as number;
      const b = ring[m - 1 - k] as number;
      if (a < n && b < n) out.push({ a: Math.min(a, b), b: Math.max(a, b) });
    }
    ring.splice(1, 0, ring.pop() as number);
  }
  return out;
}

type Strategy = 'active' | 'random' | 'round-robin';
const BATCH = 8;

function simulate(n: number, strategy: Strategy, checkpoints: number[], seed: number): number[] {
  const judgeRandom = createRandom(seed);
  const pickRandom = createRandom(seed + 1000);
  const q = Array.from({ length: n }, (_, i) => 1 + (4 * i) / (n - 1));
  const schedule = strategy === 'round-robin' ? roundRobinSchedule(n) : [];
  const pool = allPairsPool(n);
  const ranker = new ActiveRanker(n);
  const taus: number[] = [];
  let orders = 0;
  for (const target of checkpoints) {
    while (orders + 2 <= target && pool.size > 0) {
      const room = Math.min(BATCH, Math.floor((target - orders) / 2));
      let chosen: Candidate[] = [];
      if (strategy === 'round-robin') chosen = schedule.splice(0, room);
      else if (strategy === 'random' || ranker.comparisons.length === 0) {
        for (let k = 0; k < room; k++) {
          const c = pool.takeRandom(pickRandom);
          if (c) chosen.push(c);
        }
      } else chosen = ranker.choose(pool, room, pickRandom);
      if (chosen.length === 0) break;
      const judged = chosen.map((c) => judge(q, c, judgeRandom));
      if (strategy === 'active') ranker.add(judged);
      else ranker.comparisons.push(...judged);
      orders += 2 * chosen.length;
    }
    taus.push(krcc(fitScores(n, ranker.comparisons).scores, q));
  }
  return taus;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? (s[s.length >> 1] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/**
 * ms per chosen pair for one way of choosing, in this (fresh) process: `n` items, random
 * pairs up to `start` comparisons (the same for both ways: seed 7), then `batches` batches
 * chosen, judged and added; the median over batches of (fit + choice) / batch size.
 * `dense` is the previous way (full Newton fit with dense standard errors, every remaining
 * pair scored and sorted); `incremental` is `ActiveRanker`.
 */
function timeChoice(way: 'dense' | 'incremental', n: number, start: number, batches: number): number {
  const r = createRandom(7);
  const q = Array.from({ length: n }, (_, i) => 1 + (4 * i) / (n - 1));
  const pool = allPairsPool(n);
  const ranker = new ActiveRanker(n);
  const first: Comparison[] = [];
  for (let k = 0; k < start; k++) first.push(judge(q, pool.takeRandom(r) as Candidate, r));
  ranker.add(first);
  const times: number[] = [];
  let pending: Comparison[] = [];
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    let chosen: Candidate[];
    if (way === 'dense') {
      ranker.comparisons.push(...pending);
      const remaining: Candidate[] = [];
      for (let a = 0; a < n; a++) for (let c = a + 1; c < n; c++) if (pool.available(a, c)) remaining.push({ a, b: c });
      chosen = chooseActive(fitScores(n, ranker.comparisons), remaining, BATCH, r);
      for (const c of chosen) pool.take(c.a, c.b);
    } else {
      ranker.add(pending);
      chosen = ranker.choose(pool, BATCH, r);
    }
    times.push((performance.now() - t) / BATCH);
    pending = chosen.map((c) => judge(q, c, r));
  }
  return median(times);
}

/** Runs `timeChoice` in a fresh process (node start-up not timed). */
function timeInChild(way: 'dense' | 'incremental', n: number, start: number, batches: number): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--child', way, String(n), String(start), String(batches)], {
    encoding: 'utf8',
  });
  return Number(out.trim());
}

/** Amortised ms per chosen pair over a whole run of `pairs` pairs (first batch random), and the exact fit's tau. */
function amortised(n: number, pairs: number): { per: number; pairs: number; tau: number | null } {
  const r = createRandom(11);
  const q = Array.from({ length: n }, (_, i) => 1 + (4 * i) / (n - 1));
  const pool = allPairsPool(n);
  const ranker = new ActiveRanker(n);
  let spent = 0;
  let pending: Comparison[] = [];
  for (let k = 0; k < BATCH; k++) pending.push(judge(q, pool.takeRandom(r) as Candidate, r));
  let chosenCount = BATCH;
  while (chosenCount < pairs) {
    const t = performance.now();
    ranker.add(pending);
    const chosen = ranker.choose(pool, Math.min(BATCH, pairs - chosenCount), r);
    spent += performance.now() - t;
    if (chosen.length === 0) break;
    chosenCount += chosen.length;
    pending = chosen.map((c) => judge(q, c, r));
  }
  ranker.add(pending);
  const tau = n <= 1000 ? krcc(fitScores(n, ranker.comparisons).scores, q) : null;
  return { per: spent / chosenCount, pairs: chosenCount, tau };
}

const SELF = fileURLToPath(import.meta.url);
const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const [way, n, start, batches] = process.argv.slice(childAt + 1);
  if (way === 'amortised') console.log(JSON.stringify(amortised(Number(n), Number(start))));
  else console.log(timeChoice(way as 'dense' | 'incremental', Number(n), Number(start), Number(batches)));
  process.exit(0);
}

const quick = process.argv.includes('--quick');
console.log(`load average ${load()}`);
console.log(`Kendall tau vs judged comparisons (orders), mean over seeds ${SEEDS.join(', ')}; noise ${NOISE}`);
console.log('columns: N log2 N, 2 N log2 N (the active budget), N(N-1) (round-robin in both orders; 4 N log2 N past N = 128)');
for (const n of quick ? [32, 128] : [32, 128, 512]) {
  const nlog = Math.round(n * Math.log2(n));
  // Past N = 128 the last column is 4 N log2 N: at N(N-1) every strategy has judged every pair.
  const last = n <= 128 ? n * (n - 1) : 4 * nlog;
  const checkpoints = [nlog, 2 * nlog, last].filter((c, i, a) => a.indexOf(c) === i);
  const started = performance.now();
  for (const strategy of ['active', 'random', 'round-robin'] as const) {
    const sums = checkpoints.map(() => 0);
    for (const seed of SEEDS) simulate(n, strategy, checkpoints, seed).forEach((t, i) => (sums[i] = (sums[i] as number) + t));
    const at = (sums[1] as number) / SEEDS.length;
    const verdict = strategy === 'active' ? (at >= 0.9 ? '  PASS (>= 0.9 at 2 N log2 N)' : '  FAIL (< 0.9 at 2 N log2 N)') : '';
    console.log(
      [`N=${n}`, strategy.padEnd(11), ...checkpoints.map((c, i) => `${String(c).padStart(6)}: ${((sums[i] as number) / SEEDS.length).toFixed(3)}`)].join('  ') + verdict,
    );
  }
  console.log(`       (${((performance.now() - started) / 1000).toFixed(1)} s, load average ${load()})`);
}

const ROUNDS = 3;
console.log(
  `\nms choosing each pair (fit + choice, batch of ${BATCH}, per pair): each way in its own fresh process, ` +
    `${ROUNDS} rounds alternating which goes first; median over batches within a process, median over rounds`,
);
for (const [n, start, batches] of quick ? ([[128, 448, 20], [512, 2304, 6]] as const) : ([[128, 448, 40], [512, 2304, 12], [1000, 5000, 4]] as const)) {
  const dense: number[] = [];
  const incremental: number[] = [];
  const loads: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const ways = round % 2 ? (['incremental', 'dense'] as const) : (['dense', 'incremental'] as const);
    for (const way of ways) (way === 'dense' ? dense : incremental).push(timeInChild(way, n, start, batches));
    loads.push(loadavg()[0]?.toFixed(2) ?? '?');
  }
  console.log(
    `N=${n} after ${start} pairs: dense refit ${median(dense).toFixed(2)} ms/pair (rounds ${dense.map((x) => x.toFixed(2)).join(', ')}), ` +
      `incremental ${median(incremental).toFixed(3)} ms/pair (rounds ${incremental.map((x) => x.toFixed(3)).join(', ')}); load average ${loads.join(', ')}`,
  );
}
for (const [n, pairs] of quick ? ([[1000, 2000]] as const) : ([[1000, Math.ceil(1000 * Math.log2(1000))], [10000, 20000]] as const)) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--child', 'amortised', String(n), String(pairs), '0'], { encoding: 'utf8' });
  const { per, pairs: judged, tau } = JSON.parse(out) as { per: number; pairs: number; tau: number | null };
  console.log(
    `N=${n}, ${judged} pairs (${2 * judged} orders), fresh process: incremental ${per.toFixed(3)} ms/pair amortised ${per < 5 ? 'PASS' : 'FAIL'} (< 5 ms); ` +
      `tau of the exact fit ${tau === null ? 'n/a' : tau.toFixed(3)} (load average ${load()})`,
  );
}
