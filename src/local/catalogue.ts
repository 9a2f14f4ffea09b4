/**
 * The catalogue of local vision judges: GGUF models that llama.cpp's multimodal support
 * (mtmd) runs, each as a language model plus its vision projector, with what a user must
 * know before downloading gigabytes: size, memory, licence, what it is good for.
 *
 * Why these (docs/local-models.md says more):
 * - `qwen2.5-vl-7b` (default): VisualQuality-R1 (Wu et al., 2025, arXiv:2505.14460) and
 *   Q-Insight (Li et al., 2025, arXiv:2503.22679) are both trained from Qwen2.5-VL-7B-Instruct,
 *   so it is the base the strongest reasoning IQA judges start from; Apache-2.0.
 * - `qwen2.5-vl-3b`: the same family for machines with 4-6 GB of memory to spare; weaker
 *   judgments, and a research-only licence (Qwen RESEARCH LICENSE), said so up front.
 *
 * Sizes of the built-in entries are approximate (GB as Hugging Face lists them) and only
 * shown; what a download is checked against is the size the server announces and the
 * GGUF header (a file cut short is caught), plus `bytes`/`sha256` where an entry has them
 * (a catalogue file can pin both).
 */
import { readFile } from 'node:fs/promises';
import type * as z from 'zod';
import { ConfigError, describeError } from '../core/errors.js';
import { lazySchema, loadZod, type Zod } from '../core/zod.js';

/** One downloadable file of a catalogue model. */
export interface CatalogueFile {
  /** Where it comes from: `hf:user/repo/file.gguf` (Hugging Face, or `MODEL_ENDPOINT`) or an https URL. */
  uri: string;
  /** Name on disk, in the models folder. @default the last path segment of `uri` */
  file: string;
  /** Approximate size in bytes, for the "about N GB" a user is told before a download. */
  approxBytes: number;
  /** Exact size in bytes: a download of another size is refused. */
  bytes?: number | undefined;
  /** SHA-256 of the file (hex): a download with another digest is refused. */
  sha256?: string | undefined;
}

export interface CatalogueModel {
  /** Short name used by `quorum pull <name>` and `--judge llama:<name>`. */
  name: string;
  /** Human name, e.g. `Qwen2.5-VL 7B Instruct (Q4_K_M)`. */
  title: string;
  model: CatalogueFile;
  /** The vision projector (mmproj) that lets the model see images. */
  mmproj: CatalogueFile;
  licence: string;
  /** Memory (RAM, or VRAM when offloaded) to run it with Quorum's default 4096-token context, in GiB. */
  memoryGiB: number;
  /** What it is good for, one sentence. */
  goodFor: string;
}

export interface Catalogue {
  /** Name of the model used when no judge is named. */
  default: string;
  models: CatalogueModel[];
}

const GB = 1e9;

/** The built-in catalogue. File names verified against the ggml-org repositories' listings. */
export const BUILTIN_CATALOGUE: Catalogue = {
  default: 'qwen2.5-vl-7b',
  models: [
    {
      name: 'qwen2.5-vl-7b',
      title: 'Qwen2.5-VL 7B Instruct (Q4_K_M, projector F16)',
      model: {
        uri: 'hf:ggml-org/Qwen2.5-VL-7B-Instruct-GGUF/Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf',
        file: 'Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf',
        approxBytes: 4.68 * GB,
      },
      mmproj: {
        uri: 'hf:ggml-org/Qwen2.5-VL-7B-Instruct-GGUF/mmproj-Qwen2.5-VL-7B-Instruct-f16.gguf',
        file: 'mmproj-Qwen2.5-VL-7B-Instruct-f16.gguf',
        approxBytes: 1.35 * GB,
      },
      licence: 'Apache-2.0',
      memoryGiB: 7,
      goodFor: 'Default judge: the base of VisualQuality-R1 and Q-Insight; the best image-quality judgments of the family that fit a 8 GB GPU or 16 GB of RAM.',
    },
    {
      name: 'qwen2.5-vl-3b',
      title: 'Qwen2.5-VL 3B Instruct (Q4_K_M, projector F16)',
      model: {
        uri: 'hf:ggml-org/Qwen2.5-VL-3B-Instruct-GGUF/Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf',
        file: 'Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf',
        approxBytes: 1.93 * GB,
      },
      mmproj: {
        uri: 'hf:ggml-org/Qwen2.5-VL-3B-Instruct-GGUF/mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf',
        file: 'mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf',
        approxBytes: 1.34 * GB,
      },
      licence: 'Qwen RESEARCH LICENSE (non-commercial)',
      memoryGiB: 4,
      goodFor: 'Weak machines (8 GB of RAM, no GPU): same family and prompts, faster, noticeably less reliable judgments.',
    },
  ],
};

const fileSchema = (z: Zod) =>
  z.object({
    uri: z.string().min(1),
    file: z.string().regex(/^[^/\\]+\.gguf$/i, 'a file name ending in .gguf, without folders').optional(),
    approxBytes: z.number().int().min(0).optional(),
    bytes: z.number().int().min(1).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/i, '64 hex digits').optional(),
  });

const CatalogueSchema = lazySchema((z) => {
  const file = fileSchema(z);
  return z.object({
    default: z.string().min(1),
    models: z
      .array(
        z.object({
          name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" or "-"'),
          title: z.string().optional(),
          model: file,
          mmproj: file,
          licence: z.string().optional(),
          memoryGiB: z.number().min(0).optional(),
          goodFor: z.string().optional(),
        }),
      )
      .min(1),
  });
});

/** The file name a URI or URL names (`hf:u/r/x.gguf` -> `x.gguf`). */
export function fileNameOf(uri: string): string {
  const path = uri.replace(/[?#].*$/, '');
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

/**
 * Reads a catalogue file (JSON, same shape as `BUILTIN_CATALOGUE`; `file` defaults to
 * the URI's last segment, `approxBytes` to `bytes`). It replaces the built-in table:
 * the CLI reads its path from `QUORUM_CATALOGUE`. Throws `ConfigError` naming the file.
 *
 * @example
 * const catalogue = await loadCatalogue('my-models.json');
 */
export async function loadCatalogue(path: string): Promise<Catalogue> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`${path}: cannot read the model catalogue (${describeError(cause)})`, { cause });
  }
  await loadZod();
  const parsed = CatalogueSchema().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${path}: \`${issue.path.join('.')}\`: ${issue.message}`);
  }
  const c = parsed.data;
  const file = (f: z.infer<ReturnType<typeof fileSchema>>): CatalogueFile => ({
    uri: f.uri,
    file: f.file ?? fileNameOf(f.uri),
    approxBytes: f.approxBytes ?? f.bytes ?? 0,
    bytes: f.bytes,
    sha256: f.sha256?.toLowerCase(),
  });
  const catalogue: Catalogue = {
    default: c.default,
    models: c.models.map((m) => ({
      name: m.name,
      title: m.title ?? m.name,
      model: file(m.model),
      mmproj: file(m.mmproj),
      licence: m.licence ?? 'unknown',
      memoryGiB: m.memoryGiB ?? 0,
      goodFor: m.goodFor ?? '',
    })),
  };
  if (!findCatalogueModel(catalogue, catalogue.default)) {
    throw new ConfigError(`${path}: \`default\` names \`${c.default}\`, which is not one of its models`);
  }
  return catalogue;
}

/** The catalogue entry with this name, if any. */
export function findCatalogueModel(catalogue: Catalogue, name: string): CatalogueModel | undefined {
  return catalogue.models.find((m) => m.name === name);
}

/**
 * The local judge Quorum uses when neither `--judge` nor a config file names one: the
 * catalogue's default. The only place that choice is made.
 *
 * @example
 * defaultLocalJudge(BUILTIN_CATALOGUE).name; // => 'qwen2.5-vl-7b'
 */
export function defaultLocalJudge(catalogue: Catalogue = BUILTIN_CATALOGUE): CatalogueModel {
  const model = findCatalogueModel(catalogue, catalogue.default);
  if (!model) throw new ConfigError(`The model catalogue's default \`${catalogue.default}\` is not one of its models`);
  return model;
}

/** `4.7 GB` / `350 MB`: sizes as download pages show them (decimal units). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
