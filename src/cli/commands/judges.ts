import { defineCommand } from 'citty';
import { textTable } from '../../report/format.js';
import { Store } from '../../store/store.js';
import { dbArg, dbPath, enumArg, type Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'judges [--db FILE] [--format table|json]';

export const command = defineCommand({
  meta: { name: 'judges', description: 'Judges in the database: calls answered, parse failures and their rate, provider errors.' },
  args: {
    ...dbArg,
    format: { type: 'string', description: 'table or json', default: 'table' },
  },
});

export async function run(args: Args, io: CommandIO): Promise<number> {
  const format = enumArg(args, 'format', ['table', 'json'] as const, 'table');
  const store = Store.open(dbPath(args, io.env), { readOnly: true });
  try {
    const rates = store.parseFailureRates();
    if (format === 'json') io.stdout.write(`${JSON.stringify(rates, null, 2)}\n`);
    else {
      const rows = rates.map((r) => [
        `${r.provider}:${r.model}`,
        String(r.calls),
        String(r.parseFailures),
        `${(r.parseFailureRate * 100).toFixed(1)}%`,
        String(r.errors),
        r.judgeId.slice(0, 12),
      ]);
      io.stdout.write(`${textTable(['judge', 'calls', 'parse failures', 'parse failure rate', 'errors', 'id'], rows)}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}
