/**
 * What a GGUF file is (language model or vision projector, architecture, quantisation,
 * widths) and whether a model + projector pair can work, read from headers only. Every
 * problem becomes a `ModelFileError` naming the file, before any engine loads it.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ModelFileError } from '../core/errors.js';
import { LLAMA_CPP_ARCHITECTURES, LLAMA_FILE_TYPES } from './architectures.js';
import { ggmlTypeName, GgufFormatError, readGgufHeader, type GgufHeader, type GgufMetadataValue } from './gguf.js';

export interface ProjectorInfo {
  /** `clip.projector_type` (`mlp`, `qwen2vl_merger`, `gemma3`, ...). */
  type: string;
  /** Has a vision encoder (`clip.has_vision_encoder`); audio-only projectors do not. */
  vision: boolean;
  /**
   * Width of the embeddings it feeds the language model, where the file shows it
   * (the last projection layer); must equal the model's `embedding_length`.
   */
  outputWidth: number | undefined;
  /** Widths of all `mm.*` / `resampler.*` tensors, for projectors whose last layer is not known. */
  tensorWidths: number[];
  /** `clip.vision.image_size`, in pixels. */
  imageSize: number | undefined;
}

export interface ModelFileInfo {
  path: string;
  sizeBytes: number;
  /** A language model, or a vision projector (`mmproj`) that feeds one. */
  kind: 'text' | 'projector';
  /** `general.architecture` (`llama`, `qwen2vl`, `clip`, ...). */
  architecture: string;
  /** `general.name`, when the file has one. */
  name: string | undefined;
  /** Quantisation (`Q4_K_M`, `F16`): `general.file_type`, else the commonest weight type. */
  quantisation: string;
  /** Language models: `<arch>.embedding_length`. */
  embeddingLength: number | undefined;
  /** Language models: `<arch>.context_length` (training context). */
  contextLength: number | undefined;
  /** Language models: number of tokens in the vocabulary. */
  vocabSize: number | undefined;
  /** Language models: has a chat template (`tokenizer.chat_template`). */
  chatTemplate: boolean;
  /** Projectors only. */
  projector: ProjectorInfo | undefined;
  tensorCount: number;
}

const num = (v: GgufMetadataValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: GgufMetadataValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const arrayLength = (v: GgufMetadataValue | undefined): number | undefined =>
  Array.isArray(v) ? v.length : v !== null && typeof v === 'object' && 'length' in v ? v.length : undefined;

function quantisationOf(header: GgufHeader): string {
  const fileType = num(header.metadata['general.file_type']);
  if (fileType !== undefined && LLAMA_FILE_TYPES[fileType]) return LLAMA_FILE_TYPES[fileType];
  // No file type: name the type holding most weight bytes among matrices.
  const bytesByType = new Map<number, number>();
  for (const t of header.tensors) {
    if (t.dims.length < 2) continue;
    bytesByType.set(t.type, (bytesByType.get(t.type) ?? 0) + (t.bytes ?? 0));
  }
  const top = [...bytesByType.entries()].sort((a, b) => b[1] - a[1])[0];
  return top ? ggmlTypeName(top[0]) : 'unknown';
}

/** Where each projector type keeps its last projection, and which dimension is its output. */
const PROJECTOR_OUTPUT: Readonly<Record<string, { tensor: string; dim: number }>> = {
  mlp: { tensor: 'mm.2.weight', dim: 1 },
  mlp_norm: { tensor: 'mm.3.weight', dim: 1 },
};

function projectorInfo(header: GgufHeader): ProjectorInfo {
  const m = header.metadata;
  const type = str(m['clip.projector_type']) ?? (m['clip.has_llava_projector'] === true ? 'mlp' : 'unknown');
  const out = PROJECTOR_OUTPUT[type];
  const outTensor = out ? header.tensors.find((t) => t.name === out.tensor) : undefined;
  const widths = new Set<number>();
  for (const t of header.tensors) {
    if (t.name.startsWith('mm.') || t.name.startsWith('resampler.')) for (const d of t.dims) widths.add(d);
  }
  return {
    type,
    vision: m['clip.has_vision_encoder'] === true,
    outputWidth: outTensor ? outTensor.dims[out!.dim] : undefined,
    tensorWidths: [...widths].sort((a, b) => a - b),
    imageSize: num(m['clip.vision.image_size']),
  };
}

/**
 * Reads what a GGUF file is from its header. Throws `ModelFileError` for a missing file,
 * a file that is not GGUF, one cut short (header or tensor data), or a corrupt header.
 *
 * @example
 * const info = await inspectModelFile('qwen2-vl-2b-q4_k_m.gguf');
 * info.kind; // => 'text'
 */
export async function inspectModelFile(path: string): Promise<ModelFileInfo> {
  let header: GgufHeader;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new ModelFileError(path, 'is not a file');
    header = await readGgufHeader(path);
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    if (error instanceof GgufFormatError) {
      const reason = error.kind === 'truncated' ? `truncated: ${error.message} (an interrupted download?)` : error.message;
      throw new ModelFileError(path, reason, { cause: error });
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelFileError(path, 'no such file', { cause: error });
    throw new ModelFileError(path, `cannot be read (${code ?? String(error)})`, { cause: error });
  }
  if (header.fileSize < header.dataOffset + header.dataBytes) {
    throw new ModelFileError(
      path,
      `truncated: the file is ${header.fileSize} bytes but its tensors end at byte ${header.dataOffset + header.dataBytes} (an interrupted download?)`,
    );
  }
  const m = header.metadata;
  const architecture = str(m['general.architecture']) ?? 'unknown';
  const isProjector = architecture === 'clip' || m['clip.has_vision_encoder'] !== undefined || m['clip.projector_type'] !== undefined;
  return {
    path,
    sizeBytes: header.fileSize,
    kind: isProjector ? 'projector' : 'text',
    architecture,
    name: str(m['general.name']),
    quantisation: quantisationOf(header),
    embeddingLength: isProjector ? undefined : num(m[`${architecture}.embedding_length`]),
    contextLength: isProjector ? undefined : num(m[`${architecture}.context_length`]),
    vocabSize: isProjector ? undefined : arrayLength(m['tokenizer.ggml.tokens']),
    chatTemplate: typeof m['tokenizer.chat_template'] === 'string',
    projector: isProjector ? projectorInfo(header) : undefined,
    tensorCount: header.tensors.length,
  };
}

/** Checks that a file is a language model llama.cpp can load; throws `ModelFileError`. */
export function checkTextModel(info: ModelFileInfo): void {
  if (info.kind === 'projector') {
    throw new ModelFileError(info.path, 'is a vision projector (mmproj), not a language model: pass it with `--mmproj` next to a model');
  }
  if (!LLAMA_CPP_ARCHITECTURES.has(info.architecture)) {
    throw new ModelFileError(info.path, `architecture \`${info.architecture}\` is not one llama.cpp can run`);
  }
  if (info.tensorCount === 0) throw new ModelFileError(info.path, 'has no tensors (a vocabulary-only file?)');
  if (info.embeddingLength === undefined) {
    throw new ModelFileError(info.path, `lacks \`${info.architecture}.embedding_length\`: not a complete ${info.architecture} model`);
  }
}

/** Why a projector cannot feed a model, or `undefined` when they fit (as far as headers show). */
export function projectorMismatch(model: ModelFileInfo, projector: ModelFileInfo): string | undefined {
  const p = projector.projector;
  if (!p) return `is a language model (${projector.architecture}), not a vision projector`;
  if (!p.vision) return 'has no vision encoder (`clip.has_vision_encoder` is not true): it cannot see images';
  const want = model.embeddingLength;
  if (want === undefined) return undefined;
  if (p.outputWidth !== undefined) {
    return p.outputWidth === want
      ? undefined
      : `outputs ${p.outputWidth}-wide embeddings but ${basename(model.path)} takes ${want}: they belong to different models`;
  }
  // Unknown layout: some projection tensor must be as wide as the model.
  if (p.tensorWidths.length > 0 && !p.tensorWidths.includes(want)) {
    return `has no projection ${want} wide (the width of ${basename(model.path)}): they belong to different models`;
  }
  return undefined;
}

export interface ValidatedModelFiles {
  model: ModelFileInfo;
  mmproj: ModelFileInfo | undefined;
}

/**
 * Validates a model file and, when given, its projector, from their headers. Throws
 * `ModelFileError` naming the file at fault.
 *
 * @example
 * await validateModelFiles({ model: 'llava-7b.Q4_K_M.gguf', mmproj: 'mmproj-f16.gguf' });
 */
export async function validateModelFiles(files: { model: string; mmproj?: string | undefined }): Promise<ValidatedModelFiles> {
  const model = await inspectModelFile(files.model);
  checkTextModel(model);
  if (files.mmproj === undefined) return { model, mmproj: undefined };
  const mmproj = await inspectModelFile(files.mmproj);
  const mismatch = projectorMismatch(model, mmproj);
  if (mismatch) throw new ModelFileError(files.mmproj, mismatch);
  return { model, mmproj };
}
