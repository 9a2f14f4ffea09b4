import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { gatherReport } from '../../report/gather.js';
import { renderMarkdownReport } from '../../report/markdown.js';
import type { RunRecord } from '../../store/store.js';
import { Store } from '../../store/store.js';
import { dbArg, dbPath, enumArg, type Args } from '../args.js';
import type { CommandIO } from '../main.js';
import { writeOutput } from '../outputs.js';

export const usage = 'report <run>... [--out report.html] [--format html|md] [--db FILE]';

export const command = defineCommand({
  meta: {
    name: 'report',
    description:
      'Write a report of one or more runs from the database (no judge is called): a self-contained HTML page with thumbnails, sortable and filterable tables, charts and the run facts, or a Markdown summary.',
  },
  args: {
    ...dbArg,
    format: { type: 'string', valueHint: 'html|md', description: 'html (one self-contained page) or md (a summary for pull requests and papers)', default: 'html' },
    out: { type: 'string', valueHint: 'file', description: 'Write the report to this file instead of stdout' },
  },
});

export const examples = `Examples:
  quorum report score-1a2b3c4d5e --out report.html
  quorum report sr-a-vs-b rank-gen --out comparison.html      # several runs, one tab each
  quorum report score-1a2b3c4d5e --format md > REPORT.md

The HTML page opens offline from disk: thumbnails are embedded, full images are linked by
path, charts are drawn when the report is written, and it loads nothing from the network.`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const names = (args['_'] as string[] | undefined) ?? [];
  if (names.length === 0) throw new UsageError('Give at least one run to report (`quorum runs` lists them)');
  const format = enumArg(args, 'format', ['html', 'md'] as const, 'html');
  const store = Store.open(dbPath(args, io.env), { readOnly: true });
  try {
    const runs: RunRecord[] = names.map((name) => {
      const found = store.getRun(name);
      if (!found) throw new UsageError(`No run \`${name}\` in ${store.file}; \`quorum runs\` lists them`);
      return found;
    });
    const gathered = await gatherReport(store, runs, { thumbnails: format === 'html' });
    const text = format === 'md' ? renderMarkdownReport(gathered) : await (await import('../../report/html/index.js')).renderHtmlReport(gathered);
    const again = `quorum report ${names.join(' ')} --db ${store.file} --format ${format} --out FILE`;
    await writeOutput(args, io.env, io.stdout, text, runs[0] as RunRecord, again);
    return 0;
  } finally {
    store.close();
  }
}
