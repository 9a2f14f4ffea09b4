/**
 * What Bradley-Terry and Thurstone fits take and return, and the shared driver.
 */
import type { Comparison, ItemId } from './comparison.js';
import { assertNoSeparation, tabulate } from './_pair-table.js';
import { newtonFit, type Link } from './_pairwise-fit.js';
import { assertInteger, assertPositive, fail } from './_validate.js';
import { normalCdf } from './normal.js';

export interface PairedFitOptions {
  /**
   * Gaussian prior N(0, sigma^2) on every score, turning the fit into a MAP estimate that
   * is unique and finite for any data (separation, disconnected graphs, lone items).
   * Omit for maximum likelihood.
   * @default undefined (no prior)
   * @example { prior: { sigma: 3 } }
   */
  prior?: { sigma: number };
  /**
   * Item ids in the order the result should list them. Lets items that were never
   * compared get a score (0 under the prior) and keeps bootstrap vectors aligned. Every
   * comparison must then name listed items.
   * @default order of first appearance in `comparisons`
   */
  items?: readonly ItemId[];
  /** @default 100 */
  maxIterations?: number;
  /** Stop when the largest Newton step is below `tolerance * (1 + max |score|)`. @default 1e-10 */
  tolerance?: number;
  /**
   * Standard errors (one dense n x n factorisation, O(n^3), about 0.25 s at 1,000 items):
   * computed the first time `standardErrors` is read, so a caller that only wants the
   * scores never pays for them.
   * @default true when there are at most 3000 items
   */
  standardErrors?: boolean;
}

export interface PairedFit {
  model: 'bradley-terry' | 'thurstone';
  /** Item ids; `scores[k]` and `standardErrors[k]` belong to `items[k]`. */
  items: ItemId[];
  /**
   * Latent scores. Bradley-Terry: `P(a beats b) = 1 / (1 + exp(-(s_a - s_b)))` (natural
   * log-odds; multiply by 400 / ln 10 for the Elo scale). Thurstone: `P = Phi(s_a - s_b)`.
   * Without a prior each connected component is centred to mean 0.
   */
  scores: number[];
  /**
   * Standard errors from the observed information at the optimum: the inverse Hessian
   * with a prior (posterior curvature), else its pseudo-inverse for the centred scores
   * of each component; NaN for an item alone in its component without a prior.
   * null when not asked for (`standardErrors: false`). Computed on first read.
   */
  standardErrors: number[] | null;
  /**
   * Connected components of the comparison graph, as item ids. Scores in different
   * components are not comparable without a prior (each is centred on its own).
   */
  components: ItemId[][];
  iterations: number;
  converged: boolean;
  /** Log-likelihood at the scores, prior term excluded. */
  logLikelihood: number;
}

export function fitPaired(
  model: 'bradley-terry' | 'thurstone',
  comparisons: readonly Comparison[],
  options: PairedFitOptions = {},
): PairedFit {
  const { prior, items } = options;
  if (prior !== undefined) {
    if (prior === null || typeof prior !== 'object') fail('options.prior', 'an object { sigma }', prior);
    assertPositive('options.prior.sigma', prior.sigma);
  }
  const maxIterations = options.maxIterations ?? 100;
  assertInteger('options.maxIterations', maxIterations, 1);
  const tolerance = options.tolerance ?? 1e-10;
  assertPositive('options.tolerance', tolerance);

  const table = tabulate(comparisons, items);
  if (prior === undefined) assertNoSeparation(table);
  const link: Link = model === 'bradley-terry' ? 'logistic' : 'probit';
  const n = table.items.length;
  const result = newtonFit(table, link, {
    sigma: prior?.sigma,
    maxIterations,
    tolerance,
    standardErrors: options.standardErrors ?? n <= 3000,
  });
  const fit: PairedFit = {
    model,
    items: table.items,
    scores: Array.from(result.scores),
    standardErrors: null,
    components: table.components.map((c) => c.map((i) => table.items[i] as ItemId)),
    iterations: result.iterations,
    converged: result.converged,
    logLikelihood: result.logLikelihood,
  };
  const compute = result.standardErrors;
  if (compute) lazyProperty(fit, 'standardErrors', () => Array.from(compute()));
  return fit;
}

/**
 * Makes `target[key]` an enumerable property computed on its first read (or replaced by
 * an assignment), then a plain data property: spreads, `JSON.stringify` and deep equality
 * see it like any other.
 */
function lazyProperty<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]) => Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      const value = compute();
      settle(value);
      return value;
    },
    set: settle,
  });
}

/**
 * Probability that `a` beats `b` under a fitted model: `sigmoid(s_a - s_b)` for
 * Bradley-Terry, `Phi(s_a - s_b)` for Thurstone. Unknown ids throw.
 * @example winProbability(bradleyTerry([{ a: 'x', b: 'y', outcome: 0.75 }]), 'x', 'y') // => 0.75
 */
export function winProbability(fit: PairedFit, a: ItemId, b: ItemId): number {
  const i = fit.items.indexOf(a);
  const j = fit.items.indexOf(b);
  if (i < 0) fail('a', 'an item of the fit', a);
  if (j < 0) fail('b', 'an item of the fit', b);
  const d = (fit.scores[i] as number) - (fit.scores[j] as number);
  return fit.model === 'bradley-terry' ? 1 / (1 + Math.exp(-d)) : normalCdf(d);
}
