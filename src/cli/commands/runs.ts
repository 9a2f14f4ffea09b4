import { defineCommand } from 'citty';
import { Store } from '../../store/store.js';
import { textTable } from '../../report/format.js';
import { dbArg, dbPath, enumArg, type Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'runs [--db FILE] [--format table|json]';

export const command = defineCommand({
  meta: {
    name: 'runs',
    description:
      'List the runs stored in the database, newest last. `items` counts what each command produces: images scored (score), pairs compared (compare), systems or images ranked (rank).',
  },
  args: {
    ...dbArg,
    format: { type: 'string', description: 'table or json', default: 'table' },
  },
});

/** What a run's item count counts, by command: the result kind and its name. */
const itemsOf: Record<string, { kind: string; unit: string }> = {
  score: { kind: 'image', unit: 'images' },
  compare: { kind: 'pair', unit: 'pairs' },
  rank: { kind: 'rank', unit: 'ranked' },
};

export async function run(args: Args, io: CommandIO): Promise<number> {
  const format = enumArg(args, 'format', ['table', 'json'] as const, 'table');
  const store = Store.open(dbPath(args, io.env), { readOnly: true });
  try {
    const runs = store.listRuns().map((r) => {
      const counted = itemsOf[r.command];
      const counts = store.resultCounts(r.id);
      const items = counted ? (counts[counted.kind] ?? 0) : Object.values(counts).reduce((a, b) => a + b, 0);
      return { ...r, ...store.runTotals(r.id), items, itemUnit: counted?.unit ?? 'results' };
    });
    if (format === 'json') {
      io.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return 0;
    }
    const rows = runs.map((r) => [
      r.name,
      r.command,
      String(r.options['judge'] ?? ''),
      r.status,
      `${r.items} ${r.itemUnit}`,
      `${r.calls} (${r.cached} cached)`,
      String(r.parseErrors),
      r.costUsd ? `$${r.costUsd.toFixed(4)}` : '-',
      r.updatedAt.replace('T', ' ').slice(0, 19),
    ]);
    io.stdout.write(`${textTable(['run', 'command', 'judge', 'status', 'items', 'calls', 'parse errors', 'cost', 'updated'], rows)}\n`);
    return 0;
  } finally {
    store.close();
  }
}
