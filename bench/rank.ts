/**
 * Kendall tau against the number of judged comparisons, for the three ways `quorum rank`
 * can choose pairs: active (src/judges/active.ts), random pairs, and round-robin (all
 * pairs, scheduled in rounds so a partial budget still covers every item evenly).
 *
 *   npx tsx bench/rank.ts
 *
 * The judge is simulated in-process (the same Thurstone model with perception noise the
 * test servers use), so this measures the pair-choice strategies, not HTTP. Every pair is
 * judged in both orders (2 comparisons), as `quorum rank` does. Same seeds for every strategy.
 */
import { krcc } from '../src/aggregate/correlation.js';
import { normalCdf } from '../src/aggregate/normal.js';
import { createRandom, type Random } from '../src/aggregate/random.js';
import type { Comparison } from '../src/aggregate/comparison.js';
import { chooseActive, chooseRandom, fitScores, type Candidate } from '../src/judges/active.js';

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

function simulate(n: number, strategy: Strategy, checkpoints: number[], seed: number): number[] {
  const judgeRandom = createRandom(seed);
  const pickRandom = createRandom(seed + 1000);
  const q = Array.from({ length: n }, (_, i) => 1 + (4 * i) / (n - 1));
  const all: Candidate[] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) all.push({ a, b });
  const schedule = roundRobinSchedule(n);
  const remaining = new Set(all);
  const comparisons: Comparison[] = [];
  const taus: number[] = [];
  let orders = 0;
  const batch = 8;
  for (const target of checkpoints) {
    while (orders + 2 <= target && remaining.size > 0) {
      const room = Math.min(batch, Math.floor((target - orders) / 2));
      let chosen: Candidate[];
      if (strategy === 'round-robin') chosen = schedule.splice(0, room);
      else if (strategy === 'random' || comparisons.length === 0) chosen = chooseRandom([...remaining], room, pickRandom);
      else chosen = chooseActive(fitScores(n, comparisons), [...remaining], room, pickRandom);
      if (chosen.length === 0) break;
      for (const c of chosen) {
        remaining.delete([...remaining].find((x) => x.a === c.a && x.b === c.b) as Candidate);
        comparisons.push(judge(q, c, judgeRandom));
        orders += 2;
      }
    }
    const fit = fitScores(n, comparisons);
    taus.push(krcc(fit.scores, q));
  }
  return taus;
}

const rows: string[] = [];
for (const n of [16, 32, 64]) {
  const nlog = Math.round(n * Math.log2(n));
  const checkpoints = [nlog, 2 * nlog, n * (n - 1)].filter((c, i, a) => a.indexOf(c) === i);
  const started = performance.now();
  for (const strategy of ['active', 'random', 'round-robin'] as const) {
    const sums = checkpoints.map(() => 0);
    for (const seed of SEEDS) simulate(n, strategy, checkpoints, seed).forEach((t, i) => (sums[i] = (sums[i] as number) + t));
    rows.push(
      [`N=${n}`, strategy.padEnd(11), ...checkpoints.map((c, i) => `${String(c).padStart(5)}: ${((sums[i] as number) / SEEDS.length).toFixed(3)}`)].join('  '),
    );
  }
  rows.push(`       (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
console.log(`Kendall tau vs judged comparisons (orders), mean over seeds ${SEEDS.join(', ')}; noise ${NOISE}`);
console.log('columns: N log2 N, 2 N log2 N (the active budget), N(N-1) (round-robin in both orders)');
for (const r of rows) console.log(r);
