import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, InputError } from '../core/errors.js';
import { checkTextModel, inspectModelFile, projectorMismatch, type ModelFileInfo } from './model-file.js';

/** One GGUF file found by `listModels`. */
export interface LocalModel {
  path: string;
  /** `text` (a language model), `projector` (an mmproj file), or `invalid` (see `error`). */
  kind: 'text' | 'projector' | 'invalid';
  /** `general.architecture` (`llama`, `qwen2vl`, `clip`). */
  architecture: string | undefined;
  sizeBytes: number | undefined;
  /** `Q4_K_M`, `F16`, ... */
  quantisation: string | undefined;
  /**
   * Can judge images: a projector with a vision encoder, or a language model with a
   * fitting projector in the same folder (named in `projectors`).
   */
  vision: boolean;
  /** For language models: projectors in the same folder that fit it. */
  projectors: string[];
  name: string | undefined;
  /** Why the file cannot be used (not GGUF, truncated, unknown architecture), for `invalid` entries. */
  error?: string;
}

/**
 * Lists the GGUF files in a folder (not recursive) with what their headers say, sorted
 * by file name. An unreadable file is listed as `invalid` with the reason; it does not
 * stop the listing. A folder that is missing or cannot be read is an `InputError`
 * naming it.
 *
 * @example
 * for (const m of await listModels('/home/me/models')) console.log(m.path, m.quantisation, m.vision);
 */
export async function listModels(dir: string): Promise<LocalModel[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((cause: NodeJS.ErrnoException) => {
    const reason =
      cause.code === 'ENOENT' ? 'no such folder' : cause.code === 'ENOTDIR' ? 'not a folder' : `cannot read the folder (${describeError(cause)})`;
    throw new InputError(dir, reason, { cause });
  });
  const paths = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.toLowerCase().endsWith('.gguf'))
    .map((e) => join(dir, e.name))
    .sort();
  const infos = await Promise.all(
    paths.map(async (path): Promise<ModelFileInfo | { path: string; error: string }> => {
      try {
        const info = await inspectModelFile(path);
        if (info.kind === 'text') checkTextModel(info);
        return info;
      } catch (error) {
        return { path, error: describeError(error).replace(`${path}: `, '') };
      }
    }),
  );
  const projectors = infos.filter((i): i is ModelFileInfo => 'kind' in i && i.kind === 'projector');
  return infos.map((info): LocalModel => {
    if (!('kind' in info)) {
      return { path: info.path, kind: 'invalid', architecture: undefined, sizeBytes: undefined, quantisation: undefined, vision: false, projectors: [], name: undefined, error: info.error };
    }
    const fitting = info.kind === 'text' ? projectors.filter((p) => projectorMismatch(info, p) === undefined).map((p) => p.path) : [];
    return {
      path: info.path,
      kind: info.kind,
      architecture: info.architecture,
      sizeBytes: info.sizeBytes,
      quantisation: info.quantisation,
      vision: info.kind === 'projector' ? info.projector?.vision === true : fitting.length > 0,
      projectors: fitting,
      name: info.name,
    };
  });
}
