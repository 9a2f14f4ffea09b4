/**
 * The per-system summary: mean hallucination score with a seeded bootstrap 95% interval
 * over images, the fidelity means, findings counted by kind, and the ranking (least
 * hallucination first). Pure: no I/O.
 */
import { bootstrapCI } from '../aggregate/bootstrap.js';
import { mean } from '../aggregate/descriptive.js';
import type { FidelityReport } from '../images/fidelity/index.js';
import { ELEMENT_KINDS, type ElementKind } from './answer.js';
import type { Finding } from './tiles.js';

/** A summary resting on fewer scored images than this is flagged as resting on few data. */
export const FEW_IMAGES = 5;

export interface SystemSummary {
  system: string;
  folder: string;
  /** 1 = least hallucination; null when no image of the system was scored. */
  rank: number | null;
  outputs: number;
  scored: number;
  failed: number;
  errors: number;
  notRun: number;
  /** Mean worst-tile score over scored images, percentile bootstrap 95% interval (images resampled, seeded). */
  score: { estimate: number; lower: number; upper: number } | null;
  /** Mean area-weighted score over scored images. */
  areaScore: number | null;
  /** Means over the images where each measure exists; PSNR means skip identical images (infinite PSNR), counted in `identical`. */
  fidelity: Record<keyof FidelityReport, number | null>;
  identical: number;
  findings: Record<ElementKind, number>;
  /** Fewer than `FEW_IMAGES` scored images. */
  few: boolean;
}

interface SummaryItem {
  system: string;
  key: string;
  status: string;
  score: number | null;
  areaScore: number | null;
  fidelity: FidelityReport | null;
  findings: readonly Finding[];
}

const MEASURES: (keyof FidelityReport)[] = ['psnrRgb', 'ssimRgb', 'psnrY', 'ssimY', 'psnrLr', 'ssimLr'];

function meanOf(values: readonly (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length ? mean(finite) : null;
}

/**
 * Summaries of the systems in `--sr` order, each with its rank. Items are read in key
 * order, so the same results give the same intervals whatever order they were judged in.
 */
export function summariseSystems(
  systems: readonly string[],
  folders: readonly string[],
  items: readonly SummaryItem[],
  options: { seed: number; level?: number },
): SystemSummary[] {
  const out = systems.map((system, s): SystemSummary => {
    const mine = items.filter((i) => i.system === system).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const scored = mine.filter((i) => i.status === 'ok' && i.score !== null);
    const scores = scored.map((i) => i.score as number);
    let score: SystemSummary['score'] = null;
    if (scores.length) {
      const ci = bootstrapCI((sample: readonly number[]) => mean(sample), scores, { seed: options.seed, rounds: 2000, level: options.level ?? 0.95 });
      score = { estimate: ci.estimate, lower: ci.lower, upper: ci.upper };
    }
    const withFidelity = mine.map((i) => i.fidelity).filter((f): f is FidelityReport => f !== null);
    const findings = Object.fromEntries(ELEMENT_KINDS.map((k) => [k, 0])) as Record<ElementKind, number>;
    for (const i of scored) for (const f of i.findings) findings[f.kind]++;
    return {
      system,
      folder: folders[s] as string,
      rank: null,
      outputs: mine.length,
      scored: scored.length,
      failed: mine.filter((i) => i.status === 'failed').length,
      errors: mine.filter((i) => i.status === 'error').length,
      notRun: mine.filter((i) => i.status === 'not-run').length,
      score,
      areaScore: meanOf(scored.map((i) => i.areaScore)),
      fidelity: Object.fromEntries(MEASURES.map((m) => [m, meanOf(withFidelity.map((f) => f[m]))])) as SystemSummary['fidelity'],
      identical: withFidelity.filter((f) => f.psnrRgb === Number.POSITIVE_INFINITY).length,
      findings,
      few: scored.length < FEW_IMAGES,
    };
  });
  const ranked = out.filter((s) => s.score !== null).sort((a, b) => (a.score as { estimate: number }).estimate - (b.score as { estimate: number }).estimate);
  ranked.forEach((s, i) => (s.rank = i + 1));
  return out;
}
