import { defineCommand } from 'citty';
import { builtinTemplates } from '../../prompts/builtin.js';
import { textTable } from '../../report/format.js';
import type { Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'prompts [--show <id>]';

export const command = defineCommand({
  meta: { name: 'prompts', description: 'List the built-in prompt templates (id, version, kind, hash). Your own: docs/prompts.md.' },
  args: {
    show: { type: 'string', description: 'Print one template in full' },
  },
});

export async function run(args: Args, io: CommandIO): Promise<number> {
  const id = args['show'];
  if (typeof id === 'string' && id) {
    const t = builtinTemplates.find((x) => x.id === id);
    if (!t) {
      io.note(`No built-in template \`${id}\``);
      return 1;
    }
    io.stdout.write(`${JSON.stringify(t, null, 2)}\n`);
    return 0;
  }
  const rows = builtinTemplates.map((t) => [t.id, String(t.version), t.kind, t.hash.slice(0, 12), t.description]);
  io.stdout.write(`${textTable(['id', 'version', 'kind', 'hash', 'description'], rows)}\n`);
  return 0;
}
