import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { listModels } from '../../local/index.js';
import { textTable } from '../../report/format.js';
import { enumArg, expandHome, type Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'models <dir> [--format table|json]';

export const command = defineCommand({
  meta: {
    name: 'models',
    description: 'List the GGUF files in a folder: architecture, size, quantisation, and whether they can judge images.',
  },
  args: {
    dir: { type: 'positional', description: 'Folder holding .gguf files', required: true },
    format: { type: 'string', description: 'table or json', default: 'table' },
  },
});

export const examples = `Examples:
  quorum models ~/models
  quorum score photos/ --judge llama:~/models/qwen2-vl-2b-q4_k_m.gguf --mmproj ~/models/mmproj-qwen2-vl-2b-f16.gguf`;

const size = (bytes: number | undefined) =>
  bytes === undefined ? '-' : bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const given = String(args['dir'] ?? '');
  if (!given) throw new UsageError('Give a folder of GGUF files');
  const dir = expandHome(given, io.env);
  const format = enumArg(args, 'format', ['table', 'json'] as const, 'table');
  const models = await listModels(dir);
  if (format === 'json') {
    io.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
    return 0;
  }
  if (models.length === 0) {
    io.note(`no .gguf files in ${dir}`);
    return 0;
  }
  const rows = models.map((m) => [
    m.path,
    m.kind,
    m.architecture ?? '-',
    size(m.sizeBytes),
    m.quantisation ?? '-',
    m.kind === 'invalid' ? `unusable: ${m.error ?? ''}` : m.vision ? (m.kind === 'projector' ? 'projector' : `yes (${m.projectors.join(', ')})`) : 'no',
  ]);
  io.stdout.write(`${textTable(['file', 'kind', 'architecture', 'size', 'quantisation', 'images'], rows)}\n`);
  return 0;
}
