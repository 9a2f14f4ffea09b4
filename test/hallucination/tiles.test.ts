import { describe, expect, it } from 'vitest';
import { iou, mapBox, mergeFindings, planTiles, type Finding } from '../../src/hallucination/tiles.js';
import { inferScale } from '../../src/hallucination/triplets.js';

describe('tiles', () => {
  it('auto: one tile when the image fits, else overlapping tiles covering the image', () => {
    expect(planTiles(500, 400, 'auto', 512)).toEqual([{ x: 0, y: 0, width: 500, height: 400, sentWidth: 500, sentHeight: 400 }]);
    const tiles = planTiles(1000, 600, 'auto', 512);
    expect(tiles.map((t) => [t.x, t.y])).toEqual([[0, 0], [244, 0], [488, 0], [0, 88], [244, 88], [488, 88]]);
    for (const t of tiles) expect([t.sentWidth, t.sentHeight]).toEqual([t.width, t.height]);
    expect(Math.max(...tiles.map((t) => t.x + t.width))).toBe(1000);
  });
  it('off and N: whole image downscaled to the judge, or tiles of N pixels', () => {
    expect(planTiles(2000, 1000, 'off', 500)).toEqual([{ x: 0, y: 0, width: 2000, height: 1000, sentWidth: 500, sentHeight: 250 }]);
    expect(planTiles(1024, 1024, 256, 1536)).toHaveLength(25);
  });
  it('maps a box from the image as sent back to SR pixels, clipped to the tile', () => {
    const tile = { x: 1000, y: 0, width: 1000, height: 1000, sentWidth: 500, sentHeight: 500 };
    expect(mapBox({ x0: 60, y0: 10, x1: 10, y1: 20 }, tile)).toEqual({ x0: 1020, y0: 20, x1: 1120, y1: 40 });
    expect(mapBox({ x0: 490, y0: 490, x1: 700, y1: 700 }, tile)).toEqual({ x0: 1980, y0: 980, x1: 2000, y1: 1000 });
    expect(mapBox({ x0: 600, y0: 0, x1: 700, y1: 10 }, tile)).toBeNull();
  });
  it('merges boxes of one element seen by two overlapping tiles, not different kinds or distant boxes', () => {
    const f = (kind: Finding['kind'], x0: number, x1: number, tile: number): Finding => ({ kind, severity: tile ? 'severe' : 'minor', box: { x0, y0: 0, x1, y1: 40 }, support: 1, tiles: [tile] });
    const merged = mergeFindings([f('text', 440, 512, 0), f('text', 448, 600, 1), f('texture', 450, 500, 0), f('text', 800, 900, 1)]);
    expect(merged.map((m) => [m.kind, m.box.x0, m.box.x1, m.support, m.severity, m.tiles])).toEqual([
      ['text', 440, 600, 2, 'severe', [0, 1]],
      ['texture', 450, 500, 1, 'minor', [0]],
      ['text', 800, 900, 1, 'severe', [1]],
    ]);
    expect(iou({ x0: 0, y0: 0, x1: 10, y1: 10 }, { x0: 5, y0: 0, x1: 15, y1: 10 })).toBeCloseTo(1 / 3, 12);
  });
});

describe('scale', () => {
  it('infers integer scales and names what is wrong otherwise', () => {
    expect(inferScale({ width: 512, height: 384 }, { width: 128, height: 96 })).toEqual({ ok: true, scale: 4 });
    expect(inferScale({ width: 500, height: 384 }, { width: 128, height: 96 })).toMatchObject({ ok: false, reason: expect.stringMatching(/not an integer multiple/) });
    expect(inferScale({ width: 512, height: 256 }, { width: 128, height: 128 })).toMatchObject({ ok: false });
    expect(inferScale({ width: 512, height: 512 }, { width: 128, height: 128 }, { width: 510, height: 512 })).toMatchObject({ ok: false, reason: expect.stringMatching(/ground truth 510x512/) });
  });
});
