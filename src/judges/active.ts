import { bradleyTerry } from '../aggregate/bradley-terry.js';
import type { Comparison } from '../aggregate/comparison.js';
import type { PairedFit } from '../aggregate/paired-fit.js';
import type { Random } from '../aggregate/random.js';

/**
 * Choosing which pairs to judge next, from the current estimates. Pure: no I/O, so the
 * same code drives `quorum rank --strategy active` and the simulations in `bench/rank.ts`.
 */

/** A pair that could be judged: two item indices (and, for systems, the content it is about). */
export interface Candidate {
  a: number;
  b: number;
  /** Content key (systems mode) so several contents of one system pair stay distinct. */
  content?: string;
}

/** Prior on Bradley-Terry scores while ranking: keeps early fits finite (separation, lone items). */
export const RANK_PRIOR = { sigma: 2 } as const;

export function fitScores(itemCount: number, comparisons: readonly Comparison[]): PairedFit {
  const items = Array.from({ length: itemCount }, (_, i) => i);
  return bradleyTerry(comparisons, { items, prior: RANK_PRIOR });
}

/**
 * The exhaustive choice (every candidate scored, sorted): the reference `ActiveRanker.choose`
 * samples from, kept for small candidate lists and as the baseline `bench/rank.ts` times.
 *
 * Picks up to `count` candidates with the largest expected information: p(1-p), the
 * Fisher information of one Bradley-Terry comparison at the current estimates, times the
 * combined standard error of the two scores (uncertain, close pairs first). Each item
 * appears at most `perItem` times in one batch so a batch spreads over the ranking; ties
 * are broken by the seeded `random` stream.
 */
export function chooseActive(
  fit: PairedFit,
  candidates: readonly Candidate[],
  count: number,
  random: Random,
  perItem = 2,
): Candidate[] {
  const se = fit.standardErrors ?? fit.scores.map(() => 1);
  const scored = candidates.map((c) => {
    const d = (fit.scores[c.a] as number) - (fit.scores[c.b] as number);
    const p = 1 / (1 + Math.exp(-d));
    const spread = Math.sqrt((se[c.a] as number) ** 2 + (se[c.b] as number) ** 2);
    return { c, u: p * (1 - p) * spread, tie: random.uniform() };
  });
  scored.sort((x, y) => y.u - x.u || x.tie - y.tie);
  const used = new Map<number, number>();
  const chosen: Candidate[] = [];
  for (const { c } of scored) {
    if (chosen.length >= count) break;
    if ((used.get(c.a) ?? 0) >= perItem || (used.get(c.b) ?? 0) >= perItem) continue;
    used.set(c.a, (used.get(c.a) ?? 0) + 1);
    used.set(c.b, (used.get(c.b) ?? 0) + 1);
    chosen.push(c);
  }
  return chosen;
}

/** Picks `count` candidates uniformly at random (the baseline active choice is measured against). */
export function chooseRandom(candidates: readonly Candidate[], count: number, random: Random): Candidate[] {
  const pool = [...candidates];
  const chosen: Candidate[] = [];
  while (chosen.length < count && pool.length > 0) {
    const k = Math.floor(random.uniform() * pool.length);
    chosen.push(pool[k] as Candidate);
    pool[k] = pool[pool.length - 1] as Candidate;
    pool.pop();
  }
  return chosen;
}

/**
 * The order is settled when every two neighbours in the current ranking are separated by
 * more than `z` combined standard errors (z = 1.96: 95% two-sided).
 */
export function isSettled(fit: PairedFit, z = 1.96): boolean {
  if (!fit.standardErrors) return false;
  const order = fit.scores.map((s, i) => ({ s, i })).sort((x, y) => y.s - x.s);
  for (let k = 0; k + 1 < order.length; k++) {
    const hi = order[k] as { s: number; i: number };
    const lo = order[k + 1] as { s: number; i: number };
    const se = Math.hypot(fit.standardErrors[hi.i] as number, fit.standardErrors[lo.i] as number);
    if (!(hi.s - lo.s > z * se)) return false;
  }
  return true;
}

/** The default budget of judged orders for active ranking: 2 N log2 N. */
export function activeBudget(items: number): number {
  return Math.ceil(2 * items * Math.log2(Math.max(2, items)));
}
/**
 * An incremental Bradley-Terry state for choosing pairs while ranking: scores are
 * warm-started from the previous batch and refined by coordinate Newton sweeps (each
 * O(comparisons)), and each item's standard error is the diagonal (Laplace) approximation
 * `1 / sqrt(H_ii)`, `H_ii = sum w p (1 - p) + 1 / sigma^2`. No dense inverse: choosing a
 * batch costs O(N + comparisons), not O(N^3 + N^2 log N). These scores only steer the
 * choice; the reported ranking is the exact fit (`fitScores`).
 *
 * The diagonal standard errors are smaller than the exact ones (`(H^-1)_ii >= 1 / H_ii`),
 * so `settled()` uses them only to rule settling out, and confirms with the exact fit.
 */
export class ActiveRanker {
  readonly itemCount: number;
  readonly scores: Float64Array;
  /** Curvature H_ii at the current scores, prior included (per item, log-odds^-2). */
  readonly curvature: Float64Array;
  readonly comparisons: Comparison[] = [];
  private readonly adjacency: number[][];
  private readonly ca: number[] = [];
  private readonly cb: number[] = [];
  private readonly outcome: number[] = [];
  private readonly weight: number[] = [];
  private readonly order: Uint32Array;
  private readonly position: Uint32Array;
  private readonly precision: number;
  /** Comparison count at which the exact settling check may run again. */
  private nextExactCheck = 0;

  constructor(itemCount: number, sigma: number = RANK_PRIOR.sigma) {
    this.itemCount = itemCount;
    this.precision = 1 / (sigma * sigma);
    this.scores = new Float64Array(itemCount);
    this.curvature = new Float64Array(itemCount).fill(this.precision);
    this.adjacency = Array.from({ length: itemCount }, () => []);
    this.order = Uint32Array.from({ length: itemCount }, (_, i) => i);
    this.position = Uint32Array.from({ length: itemCount }, (_, i) => i);
  }

  /** Adds judged comparisons (`a`, `b` item indices) and refits: `sweeps` coordinate Newton passes over every item. */
  add(comparisons: readonly Comparison[], sweeps = 2): void {
    for (const c of comparisons) {
      const k = this.ca.length;
      this.comparisons.push(c);
      this.ca.push(c.a as number);
      this.cb.push(c.b as number);
      this.outcome.push(c.outcome);
      this.weight.push(c.weight ?? 1);
      (this.adjacency[c.a as number] as number[]).push(k);
      (this.adjacency[c.b as number] as number[]).push(k);
    }
    for (let s = 0; s < sweeps; s++) this.sweep();
    this.reorder();
  }

  /** One Gauss-Seidel pass: each score takes a damped Newton step with the others fixed. */
  private sweep(): void {
    const { scores, curvature, ca, outcome, weight } = this;
    for (let i = 0; i < this.itemCount; i++) {
      const adj = this.adjacency[i] as number[];
      const si = scores[i] as number;
      let g = -si * this.precision;
      let h = this.precision;
      for (let t = 0; t < adj.length; t++) {
        const k = adj[t] as number;
        const w = weight[k] as number;
        const first = ca[k] === i;
        const j = (first ? this.cb[k] : ca[k]) as number;
        const y = first ? (outcome[k] as number) : 1 - (outcome[k] as number);
        const p = 1 / (1 + Math.exp((scores[j] as number) - si));
        g += w * (y - p);
        h += w * p * (1 - p);
      }
      // A step of at most 2 log-odds keeps a lone early win from throwing the score far.
      const step = Math.max(-2, Math.min(2, g / h));
      scores[i] = si + step;
      curvature[i] = h;
    }
  }

  /** Insertion sort of the previous order by the new scores: O(N + moves), nearly sorted after a sweep. */
  private reorder(): void {
    const { order, scores, position } = this;
    for (let k = 1; k < order.length; k++) {
      const item = order[k] as number;
      const s = scores[item] as number;
      let m = k - 1;
      while (m >= 0 && (scores[order[m] as number] as number) < s) {
        order[m + 1] = order[m] as number;
        m--;
      }
      order[m + 1] = item;
    }
    for (let k = 0; k < order.length; k++) position[order[k] as number] = k;
  }

  /** Approximate standard error of item `i`'s score (diagonal Laplace). */
  standardError(i: number): number {
    return 1 / Math.sqrt(this.curvature[i] as number);
  }

  /**
   * Picks up to `count` pairs from `pool`, removing them from it: the same criterion as
   * `chooseActive` (p(1-p) times the combined standard error, each item at most `perItem`
   * times a batch) over a sample of candidates instead of every pair. Anchors are the
   * `4 * count` items with the largest standard errors (ties broken by `random`); each is
   * scored against the `window` items either side of it in the current order and
   * `far` random partners, so the cost is O(N log count + count * window), whatever N.
   */
  choose(pool: PairPool, count: number, random: Random, perItem = 2, window = 6, far = 4): Candidate[] {
    const n = this.itemCount;
    if (count <= 0 || pool.size === 0) return [];
    const anchors = this.anchors(Math.min(n, 4 * count), random, pool);
    const scored: { a: number; b: number; u: number; tie: number }[] = [];
    const seen = new Set<number>();
    const consider = (x: number, y: number) => {
      if (x === y) return;
      const a = Math.min(x, y);
      const b = Math.max(x, y);
      const key = a * n + b;
      if (seen.has(key) || !pool.available(a, b)) return;
      seen.add(key);
      const d = (this.scores[a] as number) - (this.scores[b] as number);
      const p = 1 / (1 + Math.exp(-d));
      const spread = Math.sqrt(1 / (this.curvature[a] as number) + 1 / (this.curvature[b] as number));
      scored.push({ a, b, u: p * (1 - p) * spread, tie: random.uniform() });
    };
    for (const a of anchors) {
      const r = this.position[a] as number;
      for (let o = 1; o <= window; o++) {
        if (r - o >= 0) consider(a, this.order[r - o] as number);
        if (r + o < n) consider(a, this.order[r + o] as number);
      }
      for (let f = 0; f < far; f++) consider(a, random.integer(n));
    }
    scored.sort((x, y) => y.u - x.u || x.tie - y.tie);
    const used = new Map<number, number>();
    const chosen: Candidate[] = [];
    for (const { a, b } of scored) {
      if (chosen.length >= count) break;
      if ((used.get(a) ?? 0) >= perItem || (used.get(b) ?? 0) >= perItem) continue;
      const c = pool.take(a, b);
      if (c === undefined) continue;
      used.set(a, (used.get(a) ?? 0) + 1);
      used.set(b, (used.get(b) ?? 0) + 1);
      chosen.push(c);
    }
    // Nothing near the anchors is left (late in a small ranking): fall back to random pairs.
    while (chosen.length < count) {
      const c = pool.takeRandom(random);
      if (c === undefined) break;
      chosen.push(c);
    }
    return chosen;
  }

  /** The `m` items with the least curvature (largest standard error) that still have a partner in `pool`. */
  private anchors(m: number, random: Random, pool: PairPool): number[] {
    // Bounded max-heap on key = curvature with a random tie-break in the last bits.
    const keys: number[] = [];
    const items: number[] = [];
    const swap = (x: number, y: number) => {
      [keys[x], keys[y]] = [keys[y] as number, keys[x] as number];
      [items[x], items[y]] = [items[y] as number, items[x] as number];
    };
    for (let i = 0; i < this.itemCount; i++) {
      if (!pool.hasPartner(i)) continue;
      const key = (this.curvature[i] as number) * (1 + 1e-9 * random.uniform());
      if (keys.length < m) {
        keys.push(key);
        items.push(i);
        for (let c = keys.length - 1; c > 0; ) {
          const parent = (c - 1) >> 1;
          if ((keys[parent] as number) >= (keys[c] as number)) break;
          swap(parent, c);
          c = parent;
        }
      } else if (key < (keys[0] as number)) {
        keys[0] = key;
        items[0] = i;
        for (let c = 0; ; ) {
          const l = 2 * c + 1;
          const r = l + 1;
          let big = c;
          if (l < m && (keys[l] as number) > (keys[big] as number)) big = l;
          if (r < m && (keys[r] as number) > (keys[big] as number)) big = r;
          if (big === c) break;
          swap(big, c);
          c = big;
        }
      }
    }
    return items;
  }

  /**
   * Whether every two neighbours in the order are separated by more than `z` combined
   * standard errors (see `isSettled`). The diagonal errors can only rule this out; when they
   * do not, the exact fit decides, at most once per `itemCount / 8` new comparisons.
   */
  settled(z = 1.96): boolean {
    const { order, scores } = this;
    for (let k = 0; k + 1 < order.length; k++) {
      const hi = order[k] as number;
      const lo = order[k + 1] as number;
      const se = Math.sqrt(1 / (this.curvature[hi] as number) + 1 / (this.curvature[lo] as number));
      if (!((scores[hi] as number) - (scores[lo] as number) > z * se)) return false;
    }
    if (this.comparisons.length < this.nextExactCheck) return false;
    this.nextExactCheck = this.comparisons.length + Math.max(1, Math.ceil(this.itemCount / 8));
    return isSettled(fitScores(this.itemCount, this.comparisons), z);
  }
}

/**
 * The pairs not yet judged, without holding them all: `quorum rank` on 10,000 items has
 * 50 million. `a < b` throughout.
 */
export interface PairPool {
  /** Candidates left. */
  readonly size: number;
  /** Whether a candidate for the pair {a, b} is left. */
  available(a: number, b: number): boolean;
  /** Whether item `i` has any candidate left (may answer true when unsure). */
  hasPartner(i: number): boolean;
  /** Removes and returns a candidate for {a, b}, or undefined. */
  take(a: number, b: number): Candidate | undefined;
  /** Removes and returns a uniformly random candidate, or undefined when none is left. */
  takeRandom(random: Random): Candidate | undefined;
}

/**
 * Every pair of the items `usable` (all of 0..itemCount-1 by default), held as the set of
 * pairs already taken: memory O(taken), not O(N^2). Random pairs are drawn by rejection
 * while at least a quarter are left, then from the listed remainder.
 */
export function allPairsPool(itemCount: number, usable?: readonly number[]): PairPool {
  const members = usable ? [...new Set(usable)].sort((x, y) => x - y) : Array.from({ length: itemCount }, (_, i) => i);
  const isMember = new Uint8Array(itemCount);
  for (const i of members) isMember[i] = 1;
  const u = members.length;
  const total = (u * (u - 1)) / 2;
  const taken = new Set<number>();
  const degree = new Uint32Array(itemCount);
  let rest: Candidate[] | null = null;
  const key = (a: number, b: number) => a * itemCount + b;
  const pool: PairPool = {
    get size() {
      return total - taken.size;
    },
    available: (a, b) => a !== b && isMember[a] === 1 && isMember[b] === 1 && !taken.has(key(a, b)),
    hasPartner: (i) => isMember[i] === 1 && (degree[i] as number) < u - 1,
    take(a, b) {
      if (!pool.available(a, b)) return undefined;
      taken.add(key(a, b));
      degree[a] = (degree[a] as number) + 1;
      degree[b] = (degree[b] as number) + 1;
      rest = null;
      return { a, b };
    },
    takeRandom(random) {
      if (pool.size <= 0) return undefined;
      if (pool.size * 4 >= total) {
        for (;;) {
          const x = members[random.integer(u)] as number;
          const y = members[random.integer(u)] as number;
          const c = pool.take(Math.min(x, y), Math.max(x, y));
          if (c) return c;
        }
      }
      if (rest === null) {
        const list: Candidate[] = [];
        for (let i = 0; i < u; i++) {
          for (let j = i + 1; j < u; j++) {
            const a = members[i] as number;
            const b = members[j] as number;
            if (!taken.has(key(a, b))) list.push({ a, b });
          }
        }
        rest = list;
      }
      const list = rest;
      const k = random.integer(list.length);
      const c = list[k] as Candidate;
      list[k] = list[list.length - 1] as Candidate;
      list.pop();
      taken.add(key(c.a, c.b));
      degree[c.a] = (degree[c.a] as number) + 1;
      degree[c.b] = (degree[c.b] as number) + 1;
      return c;
    },
  };
  return pool;
}

/** A pool over listed candidates (systems mode: several contents per pair of systems). */
export function listPool(itemCount: number, candidates: readonly Candidate[]): PairPool {
  const list = [...candidates];
  const where = new Map<Candidate, number>();
  const byPair = new Map<number, Candidate[]>();
  const degree = new Uint32Array(itemCount);
  list.forEach((c, k) => {
    where.set(c, k);
    const key = Math.min(c.a, c.b) * itemCount + Math.max(c.a, c.b);
    const same = byPair.get(key);
    if (same) same.push(c);
    else byPair.set(key, [c]);
    degree[c.a] = (degree[c.a] as number) + 1;
    degree[c.b] = (degree[c.b] as number) + 1;
  });
  const remove = (c: Candidate) => {
    const k = where.get(c) as number;
    const last = list[list.length - 1] as Candidate;
    list[k] = last;
    where.set(last, k);
    list.pop();
    where.delete(c);
    const same = byPair.get(Math.min(c.a, c.b) * itemCount + Math.max(c.a, c.b)) as Candidate[];
    same.splice(same.indexOf(c), 1);
    degree[c.a] = (degree[c.a] as number) - 1;
    degree[c.b] = (degree[c.b] as number) - 1;
    return c;
  };
  return {
    get size() {
      return list.length;
    },
    available: (a, b) => (byPair.get(a * itemCount + b)?.length ?? 0) > 0,
    hasPartner: (i) => (degree[i] as number) > 0,
    take(a, b) {
      const same = byPair.get(a * itemCount + b);
      return same && same.length > 0 ? remove(same[0] as Candidate) : undefined;
    },
    takeRandom: (random) => (list.length === 0 ? undefined : remove(list[random.integer(list.length)] as Candidate)),
  };
}
