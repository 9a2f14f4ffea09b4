import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { defaultLocalJudge, fileNameOf, findCatalogueModel, formatBytes, type PullFile } from '../../local/index.js';
import { textTable } from '../../report/format.js';
import { str, type Args } from '../args.js';
import { catalogueFiles, localSetup, pullWithProgress } from '../local-models.js';
import type { CommandIO } from '../main.js';

export const usage = 'pull [name | hf:uri | https-url] [--mmproj hf:uri|url] [--list]';

export const command = defineCommand({
  meta: {
    name: 'pull',
    description:
      'Download a local vision judge into the models folder (QUORUM_MODELS, default ~/.cache/quorum/models): a catalogue name pulls model and projector; ' +
      'an hf: URI or URL pulls one file. Resumes an interrupted download, checks size (and checksum where known) and the GGUF header, and never leaves a half file under the final name.',
  },
  args: {
    source: { type: 'positional', description: 'Catalogue name (default: the default judge), hf:user/repo/file.gguf, hf:user/repo:QUANT, or an http(s) URL', required: false },
    mmproj: { type: 'string', valueHint: 'hf:uri|url', description: 'Also pull this vision projector (with a URI or URL source)' },
    list: { type: 'boolean', description: 'List the catalogue: names, sizes, memory, licence, what each is for' },
    quiet: { type: 'boolean', description: 'No progress on stderr' },
  },
});

export const examples = `Examples:
  quorum pull                                   # the default judge (qwen2.5-vl-7b)
  quorum pull qwen2.5-vl-3b                     # the smaller one, for weak machines
  quorum pull --list
  quorum pull hf:ggml-org/gemma-3-4b-it-GGUF/gemma-3-4b-it-Q4_K_M.gguf --mmproj hf:ggml-org/gemma-3-4b-it-GGUF/mmproj-model-f16.gguf
  MODEL_ENDPOINT=https://hf-mirror.example/ quorum pull   # a mirror of Hugging Face

Ctrl-C keeps the partial download; the same command resumes it. Exit codes: 0 done, 1 failed, 2 usage error, 130 interrupted.`;

/**
 * A URI or URL that names a .gguf file keeps that name on disk; `hf:user/repo:QUANT` is
 * named by the resolver (it only learns the file from the hub's manifest).
 */
function fileNameFor(source: string): string | undefined {
  const rest = source.replace(/^(hf:|huggingface:)/i, '');
  const named = /^https?:\/\//i.test(source) || rest.split('/').length > 2;
  const file = fileNameOf(source);
  return named && /\.gguf$/i.test(file) ? file : undefined;
}

export async function run(args: Args, io: CommandIO): Promise<number> {
  const setup = await localSetup(io.env);
  if (args['list'] === true) {
    const def = defaultLocalJudge(setup.catalogue).name;
    const rows = setup.catalogue.models.map((m) => [
      m.name + (m.name === def ? ' (default)' : ''),
      formatBytes((m.model.bytes ?? m.model.approxBytes) + (m.mmproj.bytes ?? m.mmproj.approxBytes)),
      `${m.memoryGiB} GiB`,
      m.licence,
      m.goodFor,
    ]);
    io.stdout.write(`${textTable(['name', 'download', 'memory', 'licence', 'good for'], rows)}\n`);
    return 0;
  }
  const source = str(args, 'source');
  const mmproj = str(args, 'mmproj');
  let files: PullFile[];
  const isUri = (s: string) => /^(hf:|huggingface:|https?:\/\/)/i.test(s);
  if (!source) {
    if (mmproj) throw new UsageError('--mmproj goes with an hf: URI or URL source');
    files = catalogueFiles(defaultLocalJudge(setup.catalogue));
  } else if (isUri(source)) {
    if (mmproj !== undefined && !isUri(mmproj)) throw new UsageError(`Expected \`mmproj\` to be an hf: URI or http(s) URL, got \`${mmproj}\``);
    files = [{ source, fileName: fileNameFor(source) }, ...(mmproj ? [{ source: mmproj, fileName: fileNameFor(mmproj) }] : [])];
  } else {
    const entry = findCatalogueModel(setup.catalogue, source);
    if (!entry) {
      throw new UsageError(
        `\`${source}\` is not a catalogue model (${setup.catalogue.models.map((m) => m.name).join(', ')}), an hf: URI or an http(s) URL`,
      );
    }
    if (mmproj) throw new UsageError('--mmproj goes with an hf: URI or URL source; a catalogue model brings its own projector');
    files = catalogueFiles(entry);
  }
  const { interrupted } = await pullWithProgress(files, setup, io, args['quiet'] === true);
  return interrupted ? 130 : 0;
}
