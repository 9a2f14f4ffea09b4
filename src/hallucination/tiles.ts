/**
 * Tiling, box mapping and merging: pure geometry, in the SR image's pixel coordinates.
 *
 * A tile is a rectangle of the SR image; the judge sees it (and the same rectangle of the
 * upscaled input and of the ground truth) at `sentWidth` x `sentHeight`, which is the
 * tile's own size unless it is larger than the judge's `maxImageSide`. Boxes come back in
 * the coordinates of the image as sent and are mapped back by the tile's scale and offset.
 */
import type { Box, ElementKind, ElementSeverity } from './answer.js';

export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Size the judge receives (the tile downscaled to fit `maxImageSide`, never upscaled). */
  sentWidth: number;
  sentHeight: number;
}

/** `auto`: tiles the judge sees at native resolution; a number: that tile side in SR pixels; `off`: the whole image once. */
export type TileMode = 'auto' | 'off' | number;

/** Overlap between neighbouring tiles: an eighth of the side, at least 32 pixels (so an element cut by one edge is whole in the other tile up to that size). */
export function tileOverlap(side: number): number {
  return Math.min(Math.max(32, Math.round(side / 8)), Math.floor(side / 2));
}

/** Starts of tiles of `side` along `length`, evenly spread so that neighbours overlap by at least `overlap`. */
function starts(length: number, side: number, overlap: number): number[] {
  if (length <= side) return [0];
  const count = Math.ceil((length - overlap) / (side - overlap));
  const step = (length - side) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step));
}

function fit(width: number, height: number, maxSide: number): { sentWidth: number; sentHeight: number } {
  const f = Math.min(1, maxSide / Math.max(width, height));
  return { sentWidth: Math.max(1, Math.round(width * f)), sentHeight: Math.max(1, Math.round(height * f)) };
}

/**
 * The tiles of a `width` x `height` SR image. `auto` uses tiles of side `maxImageSide`
 * (one tile when the image fits); `N` uses side N (capped by the image); `off` sends the
 * whole image, downscaled to `maxImageSide` when larger. Tiles cover the image, in row-major order.
 * @example
 * planTiles(1000, 600, 'auto', 512).length; // => 6 (3 across, 2 down, overlap 64)
 */
export function planTiles(width: number, height: number, mode: TileMode, maxImageSide: number): Tile[] {
  if (mode === 'off' || (mode === 'auto' && Math.max(width, height) <= maxImageSide)) {
    return [{ x: 0, y: 0, width, height, ...fit(width, height, maxImageSide) }];
  }
  const side = mode === 'auto' ? maxImageSide : mode;
  const overlap = tileOverlap(side);
  const tiles: Tile[] = [];
  for (const y of starts(height, side, overlap)) {
    for (const x of starts(width, side, overlap)) {
      const w = Math.min(side, width - x);
      const h = Math.min(side, height - y);
      tiles.push({ x, y, width: w, height: h, ...fit(w, h, maxImageSide) });
    }
  }
  return tiles;
}

/** A box in SR pixels with corners ordered: x0 < x1, y0 < y1. */
export type PixelBox = Box;

/**
 * A box the judge gave for a tile, in the coordinates of the image as sent, mapped to the
 * SR image: scaled by tile / sent size, shifted by the tile's origin, corners ordered and
 * clipped to the tile. Null when nothing of it is left inside the tile.
 */
export function mapBox(box: Box, tile: Tile): PixelBox | null {
  const sx = tile.width / tile.sentWidth;
  const sy = tile.height / tile.sentHeight;
  const clip = (v: number, max: number) => Math.min(max, Math.max(0, v));
  const x0 = clip(Math.min(box.x0, box.x1) * sx, tile.width);
  const x1 = clip(Math.max(box.x0, box.x1) * sx, tile.width);
  const y0 = clip(Math.min(box.y0, box.y1) * sy, tile.height);
  const y1 = clip(Math.max(box.y0, box.y1) * sy, tile.height);
  if (x1 - x0 <= 0 || y1 - y0 <= 0) return null;
  return { x0: tile.x + x0, y0: tile.y + y0, x1: tile.x + x1, y1: tile.y + y1 };
}

export const area = (b: PixelBox): number => Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);

function intersection(a: PixelBox, b: PixelBox): number {
  return Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
}

/** Intersection over union; 0 for disjoint boxes. */
export function iou(a: PixelBox, b: PixelBox): number {
  const i = intersection(a, b);
  return i === 0 ? 0 : i / (area(a) + area(b) - i);
}

export interface Finding {
  kind: ElementKind;
  severity: ElementSeverity;
  box: PixelBox;
  /** Raw boxes (over tiles and samples) merged into this one. */
  support: number;
  /** Indices of the tiles that reported it. */
  tiles: number[];
}

/** Two boxes of one kind are one element when they share at least this share of the smaller box. */
export const MERGE_OVERLAP = 0.2;

const SEVERITY_RANK: Record<ElementSeverity, number> = { minor: 0, moderate: 1, severe: 2 };

/**
 * Merges boxes of one element: same kind, and their intersection covers at least
 * `MERGE_OVERLAP` of the smaller box. An element cut by a tile edge is seen whole or in
 * part by both overlapping tiles; their boxes share the overlap strip, a large part of the
 * smaller box, while two distinct elements of one kind rarely overlap that much. Merged:
 * the union's bounding box, the highest severity, summed support. Repeated until no pair
 * merges (a union can reach a third box); the result is sorted by position.
 */
export function mergeFindings(findings: readonly Finding[]): Finding[] {
  let current = findings.map((f) => ({ ...f, box: { ...f.box }, tiles: [...f.tiles] }));
  for (let changed = true; changed; ) {
    changed = false;
    const out: Finding[] = [];
    for (const f of current) {
      const into = out.find((g) => g.kind === f.kind && intersection(g.box, f.box) >= MERGE_OVERLAP * Math.min(area(g.box), area(f.box)));
      if (!into) {
        out.push(f);
        continue;
      }
      changed = true;
      into.box = {
        x0: Math.min(into.box.x0, f.box.x0),
        y0: Math.min(into.box.y0, f.box.y0),
        x1: Math.max(into.box.x1, f.box.x1),
        y1: Math.max(into.box.y1, f.box.y1),
      };
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[into.severity]) into.severity = f.severity;
      into.support += f.support;
      into.tiles = [...new Set([...into.tiles, ...f.tiles])].sort((a, b) => a - b);
    }
    current = out;
  }
  return current.sort((a, b) => a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0 || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}
