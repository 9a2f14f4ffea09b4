/** A stored hallucination run printed again (`quorum show`), from its results alone. */
import type { OutputFormat } from '../report/format.js';
import type { Store } from '../store/store.js';
import { formatHallucination } from './format.js';
import type { HallucinationItem } from './run.js';
import type { SystemSummary } from './summary.js';

/** The run's items and summary in `format`, or undefined when it has no summary yet. */
export function showHallucination(store: Store, runId: number, format: OutputFormat): string | undefined {
  const summary = store.results(runId, 'summary').find((r) => r.itemKey === 'hallucination');
  if (!summary) return undefined;
  const items = store.results(runId, 'hallucination').map((r) => r.value as HallucinationItem);
  return formatHallucination(items, (summary.value as { systems: SystemSummary[] }).systems, format);
}
