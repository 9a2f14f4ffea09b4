import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { scoreChunks } from '../../report/format.js';
import { readStoredRun } from '../../report/stored.js';
import { Store } from '../../store/store.js';
import { dbArg, dbPath, enumArg, type Args } from '../args.js';
import type { CommandIO } from '../main.js';
import { isPanelResult } from '../../report/panels.js';

export const usage = 'show <run> [--format table|json|jsonl|csv] [--calls]';

export const command = defineCommand({
  meta: { name: 'show', description: "Print a run's results again from the database, without calling any judge." },
  args: {
    run: { type: 'positional', description: 'Run name or id (see `quorum runs`)', required: true },
    ...dbArg,
    format: { type: 'string', description: 'table, json, jsonl or csv', default: 'table' },
    calls: {
      type: 'boolean',
      description: 'Print every call of the run (raw answers, status, tokens, the endpoint that answered) as JSON lines; for an endpoint pool, per-endpoint throughput, latency and errors on stderr',
    },
  },
});

export const examples = `Examples:
  quorum runs
  quorum show score-1a2b3c4d5e --format json
  quorum show score-1a2b3c4d5e --calls | jq 'select(.status != "ok") | .raw'`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const name = String(args['run'] ?? '');
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const store = Store.open(dbPath(args, io.env), { readOnly: true });
  try {
    const found = store.getRun(name);
    if (!found) throw new UsageError(`No run \`${name}\` in ${store.file}; \`quorum runs\` lists them`);
    if (args['calls']) {
      // One call at a time: a run of a million calls is printed without holding it in memory.
      const { EndpointTally } = await import('../../judges/pool/report.js');
      const endpoints = new EndpointTally();
      for (const call of store.eachRunCall(found.id)) {
        endpoints.add(call);
        if (!io.stdout.write(`${JSON.stringify(call)}\n`)) await new Promise((resolve) => io.stdout.once('drain', resolve));
      }
      for (const line of endpoints.lines()) io.note(line);
      return 0;
    }
    if (found.command === 'hallucination') {
      const { showHallucination } = await import('../../hallucination/stored.js');
      const text = showHallucination(store, found.id, format);
      if (text) io.stdout.write(text);
      else io.note('this hallucination run has no summary yet (interrupted before it finished); rerun its command to complete it');
      const t = store.runTotals(found.id);
      io.note(`run ${found.name} (${found.command}, ${found.status}): ${t.results} stored results, ${t.calls} calls, ${t.parseErrors} parse errors`);
      return 0;
    }
    const stored = readStoredRun(store, found);
    // What only some runs print loads only for them: `show` of a score run starts as fast as `runs`.
    if (stored.command === 'compare') {
      const { formatCompare } = await import('../../report/pairs.js');
      if (stored.summary) io.stdout.write(formatCompare(stored.pairs, stored.summary, [], format));
      else io.note('this compare run has no summary yet (interrupted before it finished, or judged as --shard parts); rerun its command unsharded to complete it (served from the cache)');
    } else if (stored.command === 'rank') {
      const { formatRanking } = await import('../../report/ranking.js');
      if (stored.view) io.stdout.write(formatRanking(stored.view, format));
      else io.note('this rank run has no ranking yet (interrupted before it finished, or judged as --shard parts); rerun its command unsharded to complete it (served from the cache)');
    } else if (stored.command === 'score' && stored.images.some(isPanelResult)) {
      const { showPanel } = await import('../panels/show.js');
      await showPanel(store, found.id, stored.images.filter(isPanelResult), format, io);
    } else if (stored.command === 'score') {
      for (const chunk of scoreChunks(stored.images, format)) {
        if (!io.stdout.write(chunk)) await new Promise((resolve) => io.stdout.once('drain', resolve));
      }
    }
    const t = store.runTotals(found.id);
    io.note(`run ${found.name} (${found.command}, ${found.status}): ${t.results} stored results, ${t.calls} calls, ${t.parseErrors} parse errors`);
    const failures = storedFailuresNote(store.storedFailures(found.id));
    if (failures) io.note(failures);
    return 0;
  } finally {
    store.close();
  }
}

/**
 * How many of a run's samples are stored parse failures, by kind, and what the next run
 * does with them: `2 stored parse failures: 1 the server caused (re-asked on the next
 * run), 1 answer that did not parse (--retry-failed re-asks it)`; `undefined` for none.
 */
export function storedFailuresNote(f: { mismatch: number; answer: number }): string | undefined {
  const total = f.mismatch + f.answer;
  if (total === 0) return undefined;
  const parts: string[] = [];
  if (f.mismatch) parts.push(`${f.mismatch} the server caused (re-asked on the next run)`);
  if (f.answer) parts.push(`${f.answer} ${f.answer === 1 ? 'answer' : 'answers'} that did not parse (--retry-failed re-asks ${f.answer === 1 ? 'it' : 'them'})`);
  return `${total} stored parse ${total === 1 ? 'failure' : 'failures'}: ${parts.join(', ')}`;
}
