/**
 * A panel run's output (`quorum score --judge panel:NAME`, `quorum show`, `quorum fuse`):
 * each image's fused score with its 95% interval, how many neurons it was fused from,
 * their spread, and which neurons failed; then the agreement of the whole panel.
 */
import type { PanelImageResult } from '../judges/panels/index.js';
import { csvCell, fixed, imageJson, oneLine, textTable, type OutputFormat } from './format.js';

/** Whether stored image results came from a panel (they carry its verdict details). */
export function isPanelResult(r: unknown): r is PanelImageResult {
  return typeof r === 'object' && r !== null && typeof (r as { panel?: unknown }).panel === 'object';
}

/** The JSON object printed per image: the score fields of `score`, and `panel`. */
export function panelImageJson(r: PanelImageResult): Record<string, unknown> {
  return { ...imageJson(r), panel: r.panel };
}

/**
 * A panel image's fused verdict in a report cell: `95% [2.9, 3.8], 3 neurons, spread 0.21`,
 * and the neurons that failed (the rest were fused).
 */
export function panelVerdictText(r: PanelImageResult): string {
  const p = r.panel;
  const parts = [`95% [${fixed(p.lower)}, ${fixed(p.upper)}]`, `${p.neuronsUsed} neuron${p.neuronsUsed === 1 ? '' : 's'}`, `spread ${fixed(p.spread)}`];
  if (!p.escalated) parts.push('not escalated');
  if (p.failedNeurons.length) parts.push(`${p.failedNeurons.length} failed`);
  return parts.join(', ');
}

/** Panel agreement over the run, as printed below the table and stored. */
export interface PanelRunAgreement {
  /** Krippendorff's alpha (interval) across neurons; null when undefined (one neuron, one item). */
  alpha: number | null;
  /** Mean over items of the standard deviation of the neurons' scores. */
  meanSpread: number | null;
  neurons: number;
}

/** One line: `panel agreement: Krippendorff's alpha 0.81 (interval, 4 neurons), mean spread 0.42`. */
export function agreementLine(a: PanelRunAgreement): string {
  return `panel agreement: Krippendorff's alpha ${a.alpha === null ? 'undefined (needs 2 neurons and 2 items)' : a.alpha.toFixed(2)} (interval, ${a.neurons} neurons), mean spread ${fixed(a.meanSpread)}`;
}

/** The results in `format`, a row at a time (the table needs every row for its widths). */
export function* panelChunks(results: readonly PanelImageResult[], format: OutputFormat): Generator<string> {
  switch (format) {
    case 'json':
      yield `${JSON.stringify(results.map(panelImageJson), null, 2)}\n`;
      return;
    case 'jsonl':
      for (const r of results) yield `${JSON.stringify(panelImageJson(r))}\n`;
      return;
    case 'csv':
      yield 'path,sha256,score,lower,upper,neurons,spread,escalated,status,failed_neurons,errors\n';
      for (const r of results) {
        const p = r.panel;
        yield `${[r.path, r.sha256, r.score, p.lower, p.upper, p.neuronsUsed, p.spread, p.escalated, r.status, p.failedNeurons.join('; '), r.errors.join('; ')]
          .map(csvCell)
          .join(',')}\n`;
      }
      return;
    case 'table': {
      const rows = results.map((r) => {
        const p = r.panel;
        const interval = p.lower === null || p.upper === null ? '-' : `${fixed(p.lower)}-${fixed(p.upper)}`;
        const note = r.score === null ? r.errors.join('; ') : !p.escalated ? 'escalation judge sure' : p.failedNeurons.join('; ');
        return [r.path, fixed(r.score), interval, p.escalated ? String(p.neuronsUsed) : '0', fixed(p.spread), r.status, oneLine(note, 70)];
      });
      yield `${textTable(['image', 'score', '95% interval', 'neurons', 'spread', 'status', 'notes'], rows)}\n`;
    }
  }
}
