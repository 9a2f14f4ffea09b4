/**
 * Comparisons aggregated per unordered pair of items, so that fitting costs scale with
 * the number of distinct pairs, not of comparisons. Also the graph facts a fit needs:
 * connected components and whether maximum-likelihood scores exist.
 */
import type { Comparison, ItemId } from './comparison.js';
import { SeparationError } from './errors.js';
import { fail } from './_validate.js';

export interface PairTable {
  /** Index -> item id, in `options.items` order or order of first appearance. */
  readonly items: ItemId[];
  /** Pair k joins items `first[k] < second[k]`. */
  readonly first: Int32Array;
  readonly second: Int32Array;
  /** Weighted wins of `first` over `second`: sum of weight * P(first better). */
  readonly wins: Float64Array;
  /** Weighted wins of `second` over `first`. */
  readonly losses: Float64Array;
  /** Connected components (item indices, ascending), ordered by their first item. */
  readonly components: number[][];
  /** Component index of each item. */
  readonly componentOf: Int32Array;
}

function isId(id: unknown): id is ItemId {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

function checkId(id: unknown, name: string): asserts id is ItemId {
  if (!isId(id)) fail(name, 'a string or a finite number', id);
}

export function tabulate(comparisons: readonly Comparison[], items?: readonly ItemId[]): PairTable {
  if (!Array.isArray(comparisons)) fail('comparisons', 'an array of comparisons', comparisons);
  const index = new Map<ItemId, number>();
  const ids: ItemId[] = [];
  const fixed = items !== undefined;
  if (items !== undefined) {
    if (!Array.isArray(items)) fail('options.items', 'an array of item ids', items);
    items.forEach((id, k) => {
      checkId(id, `options.items[${k}]`);
      if (index.has(id)) fail(`options.items[${k}]`, 'a unique id', id);
      index.set(id, ids.length);
      ids.push(id);
    });
  }
  const m = comparisons.length;
  const ia = new Int32Array(m);
  const ib = new Int32Array(m);
  const outcome = new Float64Array(m);
  const weight = new Float64Array(m);
  // The field name is built only on failure: a template string per comparison cost more
  // than the lookup itself.
  const lookup = (id: ItemId, c: number, field: 'a' | 'b'): number => {
    let k = index.get(id);
    if (k === undefined) {
      if (fixed) fail(`comparisons[${c}].${field}`, 'an id listed in `options.items`', id);
      k = ids.length;
      index.set(id, k);
      ids.push(id);
    }
    return k;
  };
  for (let c = 0; c < m; c++) {
    const cmp = comparisons[c];
    if (cmp === null || typeof cmp !== 'object') fail(`comparisons[${c}]`, 'a comparison { a, b, outcome }', cmp);
    // The name is built only on failure: a template string per comparison is measurable.
    if (!isId(cmp.a)) checkId(cmp.a, `comparisons[${c}].a`);
    if (!isId(cmp.b)) checkId(cmp.b, `comparisons[${c}].b`);
    if (cmp.a === cmp.b) fail(`comparisons[${c}].b`, 'an item other than `a`', cmp.b);
    const o = cmp.outcome;
    if (typeof o !== 'number' || !(o >= 0 && o <= 1)) fail(`comparisons[${c}].outcome`, 'a probability in [0, 1]', o);
    const w = cmp.weight;
    if (w !== undefined && (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w))) {
      fail(`comparisons[${c}].weight`, 'a finite number >= 0', w);
    }
    ia[c] = lookup(cmp.a, c, 'a');
    ib[c] = lookup(cmp.b, c, 'b');
    outcome[c] = o;
    weight[c] = w ?? 1;
  }
  if (ids.length === 0) fail('comparisons', 'a non-empty array (or `options.items` non-empty)', 'empty');

  const n = ids.length;
  // Pool by bucketing comparisons on their smaller item (a counting sort), then, within
  // a bucket, finding each partner's pair through a per-item marker: O(m + n), no hash
  // map. Pairs come out ordered by first item, then by first appearance.
  const bucketStart = new Int32Array(n + 1);
  for (let c = 0; c < m; c++) {
    const lo = Math.min(ia[c] as number, ib[c] as number);
    bucketStart[lo + 1] = (bucketStart[lo + 1] as number) + 1;
  }
  for (let i = 0; i < n; i++) bucketStart[i + 1] = (bucketStart[i + 1] as number) + (bucketStart[i] as number);
  const fillAt = bucketStart.slice(0, n);
  const bucketed = new Int32Array(m);
  for (let c = 0; c < m; c++) {
    const lo = Math.min(ia[c] as number, ib[c] as number);
    bucketed[fillAt[lo] as number] = c;
    fillAt[lo] = (fillAt[lo] as number) + 1;
  }
  const markedBy = new Int32Array(n).fill(-1); // markedBy[j] === i: pair (i, j) is pairOf[j]
  const pairOf = new Int32Array(n);
  const first = new Int32Array(m);
  const second = new Int32Array(m);
  const wins = new Float64Array(m);
  const losses = new Float64Array(m);
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    for (let e = bucketStart[i] as number; e < (bucketStart[i + 1] as number); e++) {
      const c = bucketed[e] as number;
      const w = weight[c] as number;
      if (w === 0) continue;
      const a = ia[c] as number;
      const j = a === i ? (ib[c] as number) : a;
      const pWin = a === i ? (outcome[c] as number) : 1 - (outcome[c] as number);
      let k: number;
      if (markedBy[j] === i) k = pairOf[j] as number;
      else {
        k = pairs++;
        markedBy[j] = i;
        pairOf[j] = k;
        first[k] = i;
        second[k] = j;
      }
      wins[k] = (wins[k] as number) + w * pWin;
      losses[k] = (losses[k] as number) + w * (1 - pWin);
    }
  }
  const table = {
    items: ids,
    first: first.slice(0, pairs),
    second: second.slice(0, pairs),
    wins: wins.slice(0, pairs),
    losses: losses.slice(0, pairs),
  };
  const { components, componentOf } = connectedComponents(n, table.first, table.second);
  return { ...table, components, componentOf };
}

function connectedComponents(
  n: number,
  first: Int32Array,
  second: Int32Array,
): { components: number[][]; componentOf: Int32Array } {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      const p = parent[x] as number;
      parent[x] = parent[p] as number;
      x = p;
    }
    return x;
  };
  for (let k = 0; k < first.length; k++) {
    const a = find(first[k] as number);
    const b = find(second[k] as number);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  }
  const componentOf = new Int32Array(n);
  const rootToComponent = new Map<number, number>();
  const components: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = find(i);
    let cId = rootToComponent.get(r);
    if (cId === undefined) {
      cId = components.length;
      rootToComponent.set(r, cId);
      components.push([]);
    }
    (components[cId] as number[]).push(i);
    componentOf[i] = cId;
  }
  return { components, componentOf };
}

/**
 * Throws `SeparationError` unless every connected component is strongly connected in
 * the "won against" graph (edge i -> j when i has positive weighted wins over j). This is
 * the condition for finite maximum-likelihood scores (Ford 1957; Hunter 2004, A1).
 */
export function assertNoSeparation(table: PairTable): void {
  const n = table.items.length;
  const { first, second, wins, losses } = table;
  // Directed adjacency in CSR form.
  const outDegree = new Int32Array(n + 1);
  for (let k = 0; k < first.length; k++) {
    const a = (first[k] as number) + 1;
    const b = (second[k] as number) + 1;
    if ((wins[k] as number) > 0) outDegree[a] = (outDegree[a] as number) + 1;
    if ((losses[k] as number) > 0) outDegree[b] = (outDegree[b] as number) + 1;
  }
  for (let i = 0; i < n; i++) outDegree[i + 1] = (outDegree[i + 1] as number) + (outDegree[i] as number);
  const start = outDegree;
  const fillAt = Int32Array.from(start);
  const target = new Int32Array(start[n] as number);
  for (let k = 0; k < first.length; k++) {
    const i = first[k] as number;
    const j = second[k] as number;
    if ((wins[k] as number) > 0) {
      target[fillAt[i] as number] = j;
      fillAt[i] = (fillAt[i] as number) + 1;
    }
    if ((losses[k] as number) > 0) {
      target[fillAt[j] as number] = i;
      fillAt[j] = (fillAt[j] as number) + 1;
    }
  }
  const scc = stronglyConnected(n, start, target);
  let sccCount = 0;
  for (let i = 0; i < n; i++) sccCount = Math.max(sccCount, (scc[i] as number) + 1);
  const hasIn = new Uint8Array(sccCount);
  const hasOut = new Uint8Array(sccCount);
  for (let i = 0; i < n; i++) {
    for (let e = start[i] as number; e < (start[i + 1] as number); e++) {
      const j = target[e] as number;
      if (scc[i] !== scc[j]) {
        hasOut[scc[i] as number] = 1;
        hasIn[scc[j] as number] = 1;
      }
    }
  }
  for (const component of table.components) {
    if (component.length < 2) continue;
    const sccsHere = new Set(component.map((i) => scc[i] as number));
    if (sccsHere.size === 1) continue;
    // A source group (nobody outside beats it) and a sink group (it beats nobody outside).
    let source: number[] | undefined;
    let sink: number[] | undefined;
    for (const s of sccsHere) {
      const members = component.filter((i) => scc[i] === s);
      if (!hasIn[s] && (source === undefined || members.length < source.length)) source = members;
      if (!hasOut[s] && (sink === undefined || members.length < sink.length)) sink = members;
    }
    if (source !== undefined && (sink === undefined || source.length <= sink.length)) {
      throw new SeparationError(
        source.map((i) => table.items[i] as ItemId),
        'never-loses',
      );
    }
    if (sink !== undefined) {
      throw new SeparationError(
        sink.map((i) => table.items[i] as ItemId),
        'never-wins',
      );
    }
  }
}

/** Tarjan's strongly connected components, iterative (deep chains must not overflow). */
function stronglyConnected(n: number, start: Int32Array, target: Int32Array): Int32Array {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const comp = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const callStack: number[] = [];
  const edgePos = new Int32Array(n);
  let counter = 0;
  let compCount = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    callStack.push(root);
    index[root] = low[root] = counter++;
    edgePos[root] = start[root] as number;
    stack.push(root);
    onStack[root] = 1;
    while (callStack.length > 0) {
      const v = callStack[callStack.length - 1] as number;
      const e = edgePos[v] as number;
      if (e < (start[v + 1] as number)) {
        edgePos[v] = e + 1;
        const w = target[e] as number;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          edgePos[w] = start[w] as number;
          stack.push(w);
          onStack[w] = 1;
          callStack.push(w);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v] as number, index[w] as number);
        }
      } else {
        callStack.pop();
        const parent = callStack[callStack.length - 1];
        if (parent !== undefined) low[parent] = Math.min(low[parent] as number, low[v] as number);
        if (low[v] === index[v]) {
          let w: number;
          do {
            w = stack.pop() as number;
            onStack[w] = 0;
            comp[w] = compCount;
          } while (w !== v);
          compCount++;
        }
      }
    }
  }
  return comp;
}
