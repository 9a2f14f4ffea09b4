import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { mergeInto, type MergeReport } from '../../store/merge.js';
import { Store } from '../../store/store.js';
import { enumArg, expandHome, str, type Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'merge <db>... --into DB [--format table|json]';

export const command = defineCommand({
  meta: {
    name: 'merge',
    description:
      'Merge databases (e.g. the shards of a run judged on several machines) into one: the same samples are stored once, runs of the same name and configuration become one, and conflicts (another answer for the same sample, another result for the same item) are reported and never overwrite what is there.',
  },
  args: {
    into: { type: 'string', valueHint: 'file', description: 'The database to merge into (created if missing)', required: true },
    format: { type: 'string', description: 'table (lines on stderr) or json (the reports on stdout)', default: 'table' },
  },
});

export const examples = `Examples:
  quorum score photos/ --judge openai:gpt-4o-mini --shard 0/2 --db part0.db    # machine 1
  quorum score photos/ --judge openai:gpt-4o-mini --shard 1/2 --db part1.db    # machine 2
  quorum merge part0.db part1.db --into all.db
  quorum score photos/ --judge openai:gpt-4o-mini --db all.db                  # the whole, from the cache

Exit codes: 0 merged, 1 merged with conflicts (listed; the target kept its rows), 2 usage error.`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const sources = ((args['_'] as string[] | undefined) ?? []).map((f) => expandHome(f, io.env));
  if (sources.length === 0) throw new UsageError('Give at least one database to merge, e.g. quorum merge part0.db part1.db --into all.db');
  const into = str(args, 'into');
  if (!into) throw new UsageError('Missing required option --into (the database to merge into)');
  const format = enumArg(args, 'format', ['table', 'json'] as const, 'table');
  const target = expandHome(into, io.env);
  for (const s of sources) if (resolve(s) === resolve(target)) throw new UsageError(`\`${s}\` is the --into database itself`);
  // Every source is opened (and checked) before anything is written.
  const opened = sources.map((s) => Store.open(s, { readOnly: true }));
  const reports: MergeReport[] = [];
  try {
    const store = Store.open(target);
    try {
      for (const [i, source] of opened.entries()) reports.push(mergeInto(store, source, sources[i]));
    } finally {
      store.close();
    }
  } finally {
    for (const s of opened) s.close();
  }
  if (format === 'json') io.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  for (const r of reports) {
    io.note(
      `${r.source}: ${r.runs.added} runs added, ${r.runs.joined} joined, ${r.runs.renamed} renamed; ` +
        `${r.calls.added} calls added, ${r.calls.deduplicated} already there; ${r.images} new images, ${r.results} results; ${r.conflicts.length} conflicts`,
    );
    for (const c of r.conflicts.slice(0, 20)) io.note(`conflict: ${c.kind} ${c.key}: ${c.detail}`);
    if (r.conflicts.length > 20) io.note(`... and ${r.conflicts.length - 20} more conflicts (--format json lists them all)`);
  }
  io.note(`merged ${sources.length} database(s) into ${target}`);
  return reports.some((r) => r.conflicts.length > 0) ? 1 : 0;
}
