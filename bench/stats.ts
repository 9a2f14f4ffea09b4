/**
 * Speed of the statistics core, with plain gradient ascent on the same likelihood as the
 * baseline, in the same run.
 *
 *   npx tsx bench/stats.ts
 *
 * Targets (issue "Statistics core"): Bradley-Terry on 1,000 items / 100,000 comparisons
 * under 1 s; 200 bootstrap rounds on 100 items / 10,000 comparisons under 3 s.
 * Each timing is the best of a few runs (the machine is shared); data are seeded.
 */
import os from 'node:os';
import { bootstrapCI, bradleyTerry, createRandom, type Comparison } from '../src/aggregate/index.js';
import { tabulate, type PairTable } from '../src/aggregate/_pair-table.js';
import { logLikelihood } from '../src/aggregate/_pairwise-fit.js';

/** Comparisons from Bradley-Terry with qualities ~ N(0, 1). `local`: opponents within 10 ranks. */
function simulate(seed: number, n: number, m: number, design: 'uniform' | 'local'): Comparison[] {
  const random = createRandom(seed);
  const truth = Array.from({ length: n }, () => random.normal());
  if (design === 'local') truth.sort((a, b) => a - b);
  const out: Comparison[] = [];
  for (let c = 0; c < m; c++) {
    const a = random.integer(n);
    let b: number;
    if (design === 'uniform') {
      b = random.integer(n - 1);
      if (b >= a) b++;
    } else {
      do b = a + random.integer(21) - 10;
      while (b === a || b < 0 || b >= n);
    }
    const p = 1 / (1 + Math.exp(-(truth[a]! - truth[b]!)));
    out.push({ a: `item-${a}`, b: `item-${b}`, outcome: random.uniform() < p ? 1 : 0 });
  }
  return out;
}

/**
 * Plain gradient ascent on the Bradley-Terry log-likelihood of the pooled pairs, fixed
 * step 1 / L with L = max weighted degree / 2 (a bound on the Hessian's largest
 * eigenvalue), scores kept centred. Stops when the largest gradient entry is below
 * `gradientTolerance` or after `maxIterations`.
 */
function gradientAscent(table: PairTable, gradientTolerance: number, maxIterations: number): { scores: Float64Array; iterations: number; gradient: number } {
  const n = table.items.length;
  const { first, second, wins, losses } = table;
  const degree = new Float64Array(n);
  for (let k = 0; k < first.length; k++) {
    const w = wins[k]! + losses[k]!;
    degree[first[k]!] = degree[first[k]!]! + w;
    degree[second[k]!] = degree[second[k]!]! + w;
  }
  let maxDegree = 0;
  for (const d of degree) maxDegree = Math.max(maxDegree, d);
  const step = 2 / maxDegree;
  const s = new Float64Array(n);
  const g = new Float64Array(n);
  let gMax = Infinity;
  let it = 0;
  for (; it < maxIterations; it++) {
    g.fill(0);
    for (let k = 0; k < first.length; k++) {
      const d = s[first[k]!]! - s[second[k]!]!;
      const p = 1 / (1 + Math.exp(-d));
      const gk = wins[k]! * (1 - p) - losses[k]! * p;
      g[first[k]!] = g[first[k]!]! + gk;
      g[second[k]!] = g[second[k]!]! - gk;
    }
    gMax = 0;
    for (let i = 0; i < n; i++) gMax = Math.max(gMax, Math.abs(g[i]!));
    if (gMax <= gradientTolerance) break;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      s[i]! += step * g[i]!;
      mean += s[i]!;
    }
    mean /= n;
    for (let i = 0; i < n; i++) s[i]! -= mean;
  }
  return { scores: s, iterations: it, gradient: gMax };
}

/**
 * Best of `runs`: wall-clock and CPU (user + system) milliseconds. On a shared machine
 * the CPU time is the better guide to what the same code takes on an idle one.
 */
function best<T>(runs: number, f: () => T): { ms: number; cpu: number; value: T } {
  let ms = Infinity;
  let cpu = Infinity;
  let value: T | undefined;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    value = f();
    ms = Math.min(ms, performance.now() - t);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  return { ms, cpu, value: value as T };
}

const rows: Record<string, string | number>[] = [];
function row(
  task: string,
  method: string,
  timing: { ms: number; cpu: number },
  iterations: number | string,
  logLik: number | string,
  note = '',
): void {
  rows.push({
    task,
    method,
    'wall ms': Math.round(timing.ms),
    'cpu ms': Math.round(timing.cpu),
    iterations,
    'log-likelihood': typeof logLik === 'number' ? logLik.toFixed(4) : logLik,
    note,
  });
}

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load ${os.loadavg()[0]?.toFixed(2)}`);

// 1. Bradley-Terry, 1,000 items, 100,000 comparisons, two designs.
for (const design of ['uniform', 'local'] as const) {
  const comparisons = simulate(1, 1000, 100_000, design);
  const task = `BT 1000 items / 100k cmp (${design})`;
  const withSe = best(3, () => bradleyTerry(comparisons));
  row(task, 'Newton + standard errors', withSe, withSe.value.iterations, withSe.value.logLikelihood, withSe.value.converged ? 'converged' : 'NOT converged');
  const noSe = best(3, () => bradleyTerry(comparisons, { standardErrors: false }));
  row(task, 'Newton, scores only', noSe, noSe.value.iterations, noSe.value.logLikelihood);
  for (const tol of [1e-3, 1e-6]) {
    const gd = best(1, () => {
      const table = tabulate(comparisons);
      return { table, ...gradientAscent(table, tol, 20_000) };
    });
    const ll = logLikelihood(gd.value.table, 'logistic', gd.value.scores);
    row(
      task,
      `gradient ascent to |grad| <= ${tol}`,
      gd,
      gd.value.iterations,
      ll,
      `${gd.value.gradient <= tol ? 'reached' : `stopped at 20000, |grad| ${gd.value.gradient.toExponential(1)}`}; gap ${(noSe.value.logLikelihood - ll).toExponential(1)}`,
    );
    if (gd.value.gradient > tol) break; // a tighter tolerance would only stop at the cap again
  }
}

// 2. Bootstrap: 200 rounds, 100 items, 10,000 comparisons.
{
  const comparisons = simulate(2, 100, 10_000, 'uniform');
  const items = Array.from({ length: 100 }, (_, i) => `item-${i}`);
  const task = 'bootstrap 200 rounds, 100 items / 10k cmp';
  const newton = best(2, () =>
    bootstrapCI((s) => bradleyTerry(s, { items, standardErrors: false }).scores, comparisons, { rounds: 200, seed: 1 }),
  );
  const widths = newton.value.upper.map((u, k) => u - newton.value.lower[k]!);
  row(task, 'Newton fits', newton, 200, '-', `mean 95% width ${(widths.reduce((a, b) => a + b, 0) / widths.length).toFixed(3)}`);
  const gd = best(1, () =>
    bootstrapCI(
      (s) => {
        const table = tabulate(s, items);
        return Array.from(gradientAscent(table, 1e-6, 20_000).scores);
      },
      comparisons,
      { rounds: 200, seed: 1 },
    ),
  );
  let maxDiff = 0;
  gd.value.lower.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - newton.value.lower[k]!))));
  row(task, 'gradient-ascent fits (|grad| <= 1e-6)', gd, 200, '-', `max |lower bound diff| vs Newton ${maxDiff.toExponential(1)}`);
}

console.table(rows);
