/**
 * The simulated judge's hallucination detector, for `hallucination_report` requests: it
 * compares the output image with the upscaled input pixel by pixel and reports where they
 * differ beyond what sharpening explains.
 *
 * Luma (0.299 R + 0.587 G + 0.114 B) is compared over 8x8 blocks: a block is flagged when
 * the mean |output - input| in it exceeds `BLOCK_THRESHOLD` grey levels. Flagged blocks
 * closer than `GAP` blocks are one element (letters of a word, patches of a texture); an
 * element of a single block is ignored (edge overshoot). Its box is the bounding box of its
 * blocks, in pixels of the image as received. Kind: `text` when the output is consistently
 * darker than the input there (dark strokes added: mean signed difference at least 60% of
 * the mean absolute one), `texture` otherwise. Severity from the mean |difference| of its
 * blocks (severe above 60, moderate above 35). Score: 0 without elements; 3 (strong) when
 * text was invented; else 2 (moderate) when texture covers at least 5% of the image, 1 below.
 */
import type { JudgeImage } from './simulated-judge.js';

export const BLOCK = 8;
export const BLOCK_THRESHOLD = 18;
export const GAP = 2;

interface Rgb {
  pixels: Uint8Array;
  width: number;
  height: number;
}

function blockDiffs(input: Rgb, output: Rgb): { abs: Float64Array; signed: Float64Array; bw: number; bh: number } {
  const bw = Math.ceil(output.width / BLOCK);
  const bh = Math.ceil(output.height / BLOCK);
  const abs = new Float64Array(bw * bh);
  const signed = new Float64Array(bw * bh);
  const count = new Float64Array(bw * bh);
  const luma = (p: Uint8Array, i: number) => 0.299 * (p[i] as number) + 0.587 * (p[i + 1] as number) + 0.114 * (p[i + 2] as number);
  for (let y = 0; y < output.height; y++) {
    for (let x = 0; x < output.width; x++) {
      const i = (y * output.width + x) * 3;
      const d = luma(output.pixels, i) - luma(input.pixels, i);
      const b = Math.floor(y / BLOCK) * bw + Math.floor(x / BLOCK);
      abs[b]! += Math.abs(d);
      signed[b]! += d;
      count[b]! += 1;
    }
  }
  for (let b = 0; b < abs.length; b++) {
    abs[b]! /= count[b] as number;
    signed[b]! /= count[b] as number;
  }
  return { abs, signed, bw, bh };
}

/** The answer object for one request, or undefined when it lacks an input and an output of one size with pixels. */
export function hallucinationObject(images: readonly JudgeImage[]): Record<string, unknown> | undefined {
  const input = images.find((i) => /\binput\b/i.test(i.label ?? '')) ?? images[0];
  const output = images.find((i) => /\boutput\b/i.test(i.label ?? '')) ?? images[1];
  if (!input?.pixels || !output?.pixels || input.width !== output.width || input.height !== output.height) return undefined;
  const { abs, signed, bw, bh } = blockDiffs(
    { pixels: input.pixels, width: input.width, height: input.height },
    { pixels: output.pixels, width: output.width, height: output.height },
  );
  const flagged = (b: number) => (abs[b] as number) > BLOCK_THRESHOLD;
  const label = new Int32Array(bw * bh).fill(-1);
  const elements: { kind: string; severity: string; box: Record<string, number> }[] = [];
  let score = 0;
  let next = 0;
  for (let start = 0; start < abs.length; start++) {
    if (!flagged(start) || label[start] !== -1) continue;
    const members: number[] = [];
    const stack = [start];
    label[start] = next;
    while (stack.length) {
      const b = stack.pop() as number;
      members.push(b);
      const bx = b % bw;
      const by = Math.floor(b / bw);
      for (let dy = -GAP; dy <= GAP; dy++) {
        for (let dx = -GAP; dx <= GAP; dx++) {
          const x = bx + dx;
          const y = by + dy;
          if (x < 0 || y < 0 || x >= bw || y >= bh) continue;
          const n = y * bw + x;
          if (flagged(n) && label[n] === -1) {
            label[n] = next;
            stack.push(n);
          }
        }
      }
    }
    next++;
    if (members.length < 2) continue;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    let sumAbs = 0;
    let sumSigned = 0;
    for (const b of members) {
      x0 = Math.min(x0, b % bw);
      x1 = Math.max(x1, b % bw);
      y0 = Math.min(y0, Math.floor(b / bw));
      y1 = Math.max(y1, Math.floor(b / bw));
      sumAbs += abs[b] as number;
      sumSigned += signed[b] as number;
    }
    const meanAbs = sumAbs / members.length;
    const kind = -sumSigned >= 0.6 * sumAbs ? 'text' : 'texture';
    const severity = meanAbs > 60 ? 'severe' : meanAbs > 35 ? 'moderate' : 'minor';
    elements.push({
      kind,
      severity,
      box: { x0: x0 * BLOCK, y0: y0 * BLOCK, x1: Math.min(output.width, (x1 + 1) * BLOCK), y1: Math.min(output.height, (y1 + 1) * BLOCK) },
    });
    const share = members.length / (bw * bh);
    score = Math.max(score, kind === 'text' ? 3 : share >= 0.05 ? 2 : 1);
  }
  const reasoning = elements.length
    ? `The output adds ${elements.map((e) => `${e.kind} (${e.severity})`).join(', ')} that the input does not support.`
    : 'Every detail of the output agrees with the input; it is only sharper.';
  return { score, elements, reasoning };
}
