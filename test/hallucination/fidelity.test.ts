import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { downscaleMean, fidelityReport, lumaBT601, psnr, ssim, type Pixels } from '../../src/images/fidelity/index.js';

/** scikit-image's values for frozen images (test/fixtures/fidelity/make-fixtures.py). */
interface Case {
  name: string;
  width: number;
  height: number;
  scale: number;
  sr: string;
  gt: string;
  lr: string;
  ySample: [number, number];
  psnrRgb: number;
  ssimRgb: number;
  psnrY: number;
  ssimY: number;
  psnrLr: number;
  ssimLr: number;
  ssimRgbUncropped: number;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/fidelity/fidelity.json', import.meta.url), 'utf8')) as { cases: Case[] };

const pixels = (b64: string, width: number, height: number): Pixels => {
  const data = Uint8Array.from(Buffer.from(b64, 'base64'));
  Object.freeze(data.buffer);
  return { data, width, height, channels: 3 };
};

describe('fidelity measures against scikit-image', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const sr = pixels(c.sr, c.width, c.height);
      const gt = pixels(c.gt, c.width, c.height);
      const lr = pixels(c.lr, c.width / c.scale, c.height / c.scale);
      const y = lumaBT601(sr);
      expect(y.data[1 * c.width + 2]).toBeCloseTo(c.ySample[0], 9);
      expect(y.data[c.width * c.height - 1]).toBeCloseTo(c.ySample[1], 9);
      const report = fidelityReport({ sr, lr, gt, scale: c.scale });
      // 1e-6 dB and 1e-6 of SSIM, the tolerance the docs state.
      expect(Math.abs((report.psnrRgb as number) - c.psnrRgb)).toBeLessThan(1e-6);
      expect(Math.abs((report.ssimRgb as number) - c.ssimRgb)).toBeLessThan(1e-6);
      expect(Math.abs((report.psnrY as number) - c.psnrY)).toBeLessThan(1e-6);
      expect(Math.abs((report.ssimY as number) - c.ssimY)).toBeLessThan(1e-6);
      expect(Math.abs(report.psnrLr - c.psnrLr)).toBeLessThan(1e-6);
      expect(Math.abs((report.ssimLr as number) - c.ssimLr)).toBeLessThan(1e-6);
      expect(Math.abs(ssim(sr, gt) - c.ssimRgbUncropped)).toBeLessThan(1e-6);
    });
  }
});

describe('fidelity edge cases', () => {
  const flat = (v: number, w = 16, h = 16): Pixels => ({ data: new Uint8Array(w * h * 3).fill(v), width: w, height: h, channels: 3 });
  it('identical images: PSNR is infinite, SSIM is 1', () => {
    expect(psnr(flat(7), flat(7))).toBe(Number.POSITIVE_INFINITY);
    expect(ssim(flat(7), flat(7))).toBeCloseTo(1, 12);
  });
  it('PSNR of a known error', () => {
    expect(psnr(flat(0), flat(10))).toBeCloseTo(10 * Math.log10(255 ** 2 / 100), 12);
  });
  it('box downscale averages blocks', () => {
    const p: Pixels = { data: [0, 2, 4, 6], width: 2, height: 2, channels: 1 };
    expect([...downscaleMean(p, 2).data]).toEqual([3]);
    expect(() => downscaleMean(p, 3)).toThrow(/dividing 2x2/);
  });
  it('refuses mismatched sizes, over-large crops and windows larger than the image', () => {
    expect(() => psnr(flat(0), flat(0, 16, 8))).toThrow(/same size/);
    expect(() => psnr(flat(0), flat(0), { crop: 8 })).toThrow(/crop/);
    expect(() => ssim(flat(0, 10, 10), flat(0, 10, 10))).toThrow(/11x11/);
  });
});
