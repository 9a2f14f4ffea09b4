/**
 * Triplets of `quorum hallucination`: an SR output, its LR input and (with `--gt`) its
 * ground truth, matched by relative path with the extension ignored (as `compare` does),
 * and the scale factor inferred from their sizes and checked.
 */
import type { InputError } from '../core/errors.js';
import { matchFolders } from '../judges/match.js';

export interface Triplet {
  /** Index of the SR system (its `--sr` folder). */
  system: number;
  /** Relative path without extension. */
  key: string;
  sr: string;
  /** Absent: no LR file of this key (an error for this item). */
  lr: string | undefined;
  /** Absent without `--gt`, or when the GT folder has no file of this key (then an error). */
  gt: string | undefined;
}

export interface MatchedTriplets {
  /** Display names of the SR systems (folder base names, made unique), in `--sr` order. */
  systems: string[];
  /** Every SR output of every system, system by system, keys sorted. */
  triplets: Triplet[];
  /** LR or GT files no SR output uses, and name clashes inside a folder. */
  unmatched: { path: string; reason: string }[];
  skipped: { path: string; reason: string }[];
  errors: InputError[];
}

/** Matches the LR folder, the SR folders and the optional GT folder. */
export async function matchTriplets(lr: string, srs: readonly string[], gt: string | undefined): Promise<MatchedTriplets> {
  const folders = [lr, ...srs, ...(gt ? [gt] : [])];
  const matched = await matchFolders(folders, 1);
  const lrPaths = matched.paths[0] as Map<string, string>;
  const gtPaths = gt ? (matched.paths[folders.length - 1] as Map<string, string>) : undefined;
  const triplets: Triplet[] = [];
  const used = new Set<string>();
  srs.forEach((_, s) => {
    const paths = matched.paths[s + 1] as Map<string, string>;
    for (const key of [...paths.keys()].sort()) {
      used.add(key);
      triplets.push({ system: s, key, sr: paths.get(key) as string, lr: lrPaths.get(key), gt: gtPaths?.get(key) });
    }
  });
  const unmatched = matched.unmatched.filter((u) => u.reason.startsWith('same name'));
  for (const [label, map] of [['LR input', lrPaths], ['ground truth', gtPaths]] as const) {
    for (const [key, path] of map ?? []) if (!used.has(key)) unmatched.push({ path, reason: `${label} with no output in any --sr folder` });
  }
  return { systems: matched.names.slice(1, srs.length + 1), triplets, unmatched, skipped: matched.skipped, errors: matched.errors };
}

export interface Size {
  width: number;
  height: number;
}

/**
 * The integer scale factor from LR to SR, or the reason there is none: the SR must be
 * the same integer multiple of the LR along both sides, and a ground truth must have the
 * SR's size.
 * @example
 * inferScale({ width: 512, height: 384 }, { width: 128, height: 96 }); // => { ok: true, scale: 4 }
 */
export function inferScale(sr: Size, lr: Size, gt?: Size): { ok: true; scale: number } | { ok: false; reason: string } {
  const sx = sr.width / lr.width;
  const sy = sr.height / lr.height;
  if (!Number.isInteger(sx) || !Number.isInteger(sy) || sx !== sy || sx < 1) {
    return {
      ok: false,
      reason: `SR ${sr.width}x${sr.height} is not an integer multiple of its LR input ${lr.width}x${lr.height} (x${round(sx)} by x${round(sy)})`,
    };
  }
  if (gt && (gt.width !== sr.width || gt.height !== sr.height)) {
    return { ok: false, reason: `ground truth ${gt.width}x${gt.height} does not have the SR size ${sr.width}x${sr.height}` };
  }
  return { ok: true, scale: sx };
}

const round = (v: number) => String(Math.round(v * 1000) / 1000);
