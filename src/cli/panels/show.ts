/**
 * `quorum show` of a panel run: the fused scores with intervals, the panel's agreement
 * (per run, and per item in the output), and each neuron that failed, said once.
 */
import type { PanelImageResult } from '../../judges/panels/index.js';
import type { OutputFormat } from '../../report/format.js';
import { agreementLine, panelChunks } from '../../report/panels.js';
import { PanelStore } from '../../store/panels.js';
import type { Store } from '../../store/store.js';
import type { CommandIO } from '../main.js';

/** Prints a stored panel run; nothing is called. */
export async function showPanel(store: Store, runId: number, results: readonly PanelImageResult[], format: OutputFormat, io: CommandIO): Promise<void> {
  for (const chunk of panelChunks(results, format)) {
    if (!io.stdout.write(chunk)) await new Promise((resolve) => io.stdout.once('drain', resolve));
  }
  for (const line of panelNotes(results)) io.note(line);
  const run = new PanelStore(store).agreement(runId).find((a) => a.itemKey === '');
  if (run) io.note(agreementLine({ alpha: run.alpha, meanSpread: run.spread, neurons: run.neurons }));
}

/**
 * One line per neuron that failed somewhere: `neuron 3 (openai:sim, colour) failed on 6
 * of 6 image(s): <first reason>; fused from the other neurons` (`what`: pair(s) for compare and rank).
 */
export function panelNotes(results: readonly { panel: { failedNeurons: readonly string[] } }[], what = 'image(s)'): string[] {
  const failing = new Map<string, { count: number; reason: string }>();
  for (const r of results) {
    for (const f of r.panel.failedNeurons) {
      const cut = f.indexOf('): ') + 1;
      const neuron = f.slice(0, cut);
      const seen = failing.get(neuron);
      failing.set(neuron, { count: (seen?.count ?? 0) + 1, reason: seen?.reason ?? f.slice(cut + 2) });
    }
  }
  return [...failing].map(([neuron, f]) => `${neuron} failed on ${f.count} of ${results.length} ${what} (${f.reason}); fused from the other neurons`);
}
