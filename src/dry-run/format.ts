import type { DryRunPlan } from './plan.js';

const n = (x: number) => x.toLocaleString('en-US');

/** The plan as text (table format) or one JSON object (`--format json`, also for jsonl/csv: a plan is not a table of items). */
export function formatDryRun(plan: DryRunPlan, format: string): string {
  if (format !== 'table') return `${JSON.stringify(plan, null, 2)}\n`;
  const lines = [`dry run of ${plan.command}: nothing was sent and no run was created`];
  for (const j of plan.judges) {
    const toAsk = j.samples - j.cached;
    const ceiling = j.upperBound ? 'at most ' : '';
    lines.push(
      `judge ${j.judge}${j.name ? ` (${j.name})` : ''}: method ${j.method}, prompt ${j.prompt}`,
      `  ${ceiling}${n(j.items)} ${plan.command === 'score' ? 'image(s)' : 'order(s) of pairs'} x ${j.samplesPerItem} sample(s) = ${n(j.samples)} sample(s), ${n(j.cached)} cached, ${n(toAsk)} to ask`,
      `  ${ceiling}${n(j.requests)} request(s) (up to ${j.choicesPerRequest} sample(s) each${j.probes ? `, including ${j.probes} log-probability probe` : ''})`,
      `  about ${n(j.inputTokens)} input tokens, at most ${n(j.outputTokensAtMost)} output tokens` +
        (j.costUsdAtMost === null ? ', cost unknown (no price for this judge; --prices FILE adds one)' : `, at most $${j.costUsdAtMost.toFixed(4)}`),
    );
  }
  for (const e of plan.inputErrors) lines.push(`error: ${e} (not asked)`);
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}
