/**
 * Tiny random GGUF models for engine tests (recipe in shared/domain/local-models.md):
 * a `llama` text model of ~0.5 MB with a ChatML template, a LLaVA "mlp" vision projector
 * of ~0.1 MB, and the broken files users meet. Answers are noise; everything around them
 * (loading, templates, grammars, probabilities, image encoding) is real.
 */
import { writeFileSync } from 'node:fs';
import { arr, encodeGguf, f32, normalRandom, u32, writeGguf, type GgufFile, type GgufTensor, type GgufValue } from './writer.js';

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Whole-word pieces the tiny vocabulary holds (with all their prefixes, so SentencePiece merges reach them). */
const WORDS = [
  '{"', '":', '",', '"}', '":"', '":[', '"]', '["',
  '<think>', '</think>', '<answer>', '</answer>',
  'excellent', 'good', 'fair', 'poor', 'bad', 'Excellent', 'Good', 'Fair', 'Poor', 'Bad',
  '▁excellent', '▁good', '▁fair', '▁poor', '▁bad', '▁Excellent', '▁Good', '▁Fair', '▁Poor', '▁Bad',
  'score', 'reasoning', 'distortions', 'noise', 'blur', 'better', 'worse', 'same',
  '▁the', '▁image', '▁quality', '▁is', '▁of', 'user', 'assistant', 'system', 'The',
];

interface Piece {
  text: string;
  type: 1 | 2 | 3 | 6;
}

function vocabulary(): Piece[] {
  const pieces: Piece[] = [
    { text: '<unk>', type: 2 },
    { text: '<s>', type: 3 },
    { text: '</s>', type: 3 },
    { text: '<|im_start|>', type: 3 },
    { text: '<|im_end|>', type: 3 },
  ];
  for (let b = 0; b < 256; b++) pieces.push({ text: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, type: 6 });
  const seen = new Set<string>();
  const add = (text: string): void => {
    if (seen.has(text)) return;
    seen.add(text);
    pieces.push({ text, type: 1 });
  };
  add('▁');
  for (let c = 0x21; c < 0x7f; c++) add(String.fromCharCode(c));
  for (const word of WORDS) {
    const chars = Array.from(word);
    for (let n = 2; n <= chars.length; n++) add(chars.slice(0, n).join(''));
  }
  return pieces;
}

export interface TinyTextModelOptions {
  /** @default 'llama' (use another string for a wrong-architecture file) */
  architecture?: string;
  /** @default 64 */
  embedding?: number;
  /** Seed of the random weights. @default 1 */
  seed?: number;
  /** @default 512 */
  contextLength?: number;
  /** Model name in `general.name`. @default 'tiny-random-llama' */
  name?: string;
}

/** The metadata and tensors of the tiny text model (exposed for tests that break it). */
export function tinyTextModel(options: TinyTextModelOptions = {}): GgufFile {
  const arch = options.architecture ?? 'llama';
  const n = options.embedding ?? 64;
  const ff = n * 2;
  const heads = 4;
  const vocab = vocabulary();
  const V = vocab.length;
  const rand = normalRandom(options.seed ?? 1);
  const matrix = (name: string, dims: [number, number], scale = 0.02): GgufTensor => {
    const data = new Float32Array(dims[0] * dims[1]);
    for (let i = 0; i < data.length; i++) data[i] = rand() * scale;
    return { name, dims, type: 'f32', data };
  };
  const ones = (name: string): GgufTensor => ({ name, dims: [n], type: 'f32', data: new Float32Array(n).fill(1) });

  // Logit bias (see local-models.md): column 0 of every embedding is 1, so it survives the
  // final RMSNorm; a large negative weight there keeps random sampling off control and
  // byte tokens, which would otherwise decode to empty text.
  const embd = matrix('token_embd.weight', [n, V]);
  const out = matrix('output.weight', [n, V]);
  for (let t = 0; t < V; t++) {
    embd.data[t * n] = 1;
    out.data[t * n] = vocab[t]!.type === 1 ? 0 : -5;
  }
  const tensors: GgufTensor[] = [embd];
  for (let b = 0; b < 2; b++) {
    tensors.push(
      ones(`blk.${b}.attn_norm.weight`),
      matrix(`blk.${b}.attn_q.weight`, [n, n]),
      matrix(`blk.${b}.attn_k.weight`, [n, n]),
      matrix(`blk.${b}.attn_v.weight`, [n, n]),
      matrix(`blk.${b}.attn_output.weight`, [n, n]),
      ones(`blk.${b}.ffn_norm.weight`),
      matrix(`blk.${b}.ffn_gate.weight`, [n, ff]),
      matrix(`blk.${b}.ffn_up.weight`, [n, ff]),
      matrix(`blk.${b}.ffn_down.weight`, [ff, n]),
    );
  }
  tensors.push(ones('output_norm.weight'), out);

  const metadata: Record<string, GgufValue> = {
    'general.architecture': arch,
    'general.name': options.name ?? 'tiny-random-llama',
    'general.file_type': u32(0),
    [`${arch}.context_length`]: u32(options.contextLength ?? 512),
    [`${arch}.embedding_length`]: u32(n),
    [`${arch}.block_count`]: u32(2),
    [`${arch}.feed_forward_length`]: u32(ff),
    [`${arch}.attention.head_count`]: u32(heads),
    [`${arch}.attention.head_count_kv`]: u32(heads),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(1e-5),
    [`${arch}.rope.dimension_count`]: u32(n / heads),
    [`${arch}.rope.freq_base`]: f32(10000),
    [`${arch}.vocab_size`]: u32(V),
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': arr('string', vocab.map((p) => p.text)),
    // Longer pieces score higher, so SentencePiece merges prefer whole words.
    'tokenizer.ggml.scores': arr('f32', vocab.map((p) => (p.type === 1 ? Array.from(p.text).length : 0))),
    'tokenizer.ggml.token_type': arr('i32', vocab.map((p) => p.type)),
    'tokenizer.ggml.bos_token_id': u32(1),
    'tokenizer.ggml.eos_token_id': u32(2),
    'tokenizer.ggml.unknown_token_id': u32(0),
    'tokenizer.ggml.add_bos_token': true,
    'tokenizer.ggml.add_eos_token': false,
    'tokenizer.ggml.add_space_prefix': false,
    'tokenizer.chat_template': CHATML,
  };
  return { metadata, tensors };
}

/** Writes the tiny text model; returns its path. */
export function writeTinyTextModel(path: string, options: TinyTextModelOptions = {}): string {
  writeGguf(path, tinyTextModel(options));
  return path;
}

export interface TinyProjectorOptions {
  /** `embedding_length` of the text model the projector feeds. @default 64 */
  textEmbedding?: number;
  /** @default 7 */
  seed?: number;
  /** Tensors to leave out (a malformed projector). */
  omit?: readonly string[];
}

/** The metadata and tensors of the tiny LLaVA-style projector. */
export function tinyProjector(options: TinyProjectorOptions = {}): GgufFile {
  const textEmbedding = options.textEmbedding ?? 64;
  const d = 32;
  const ff = 48;
  const proj = 64;
  const rand = normalRandom(options.seed ?? 7);
  const random = (name: string, dims: number[], type: 'f32' | 'f16' = 'f32', scale = 0.02): GgufTensor => {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = rand() * scale;
    return { name, dims, type, data };
  };
  const tensors: GgufTensor[] = [
    random('v.patch_embd.weight', [8, 8, 3, d], 'f16'),
    random('v.position_embd.weight', [d, 17]),
  ];
  for (let b = 0; b < 2; b++) {
    for (const p of ['attn_q', 'attn_k', 'attn_v', 'attn_out']) tensors.push(random(`v.blk.${b}.${p}.weight`, [d, d]));
    tensors.push(random(`v.blk.${b}.ffn_up.weight`, [d, ff]), random(`v.blk.${b}.ffn_down.weight`, [ff, d]));
  }
  tensors.push(
    random('mm.0.weight', [d, proj]),
    random('mm.0.bias', [proj]),
    random('mm.2.weight', [proj, textEmbedding]),
    random('mm.2.bias', [textEmbedding]),
  );
  const omit = new Set(options.omit ?? []);
  const metadata: Record<string, GgufValue> = {
    'general.architecture': 'clip',
    'general.name': 'tiny-random-projector',
    'general.file_type': u32(0),
    'clip.has_vision_encoder': true,
    'clip.has_text_encoder': false,
    'clip.projector_type': 'mlp',
    'clip.vision.image_size': u32(32),
    'clip.vision.patch_size': u32(8),
    'clip.vision.embedding_length': u32(d),
    'clip.vision.feed_forward_length': u32(ff),
    'clip.vision.projection_dim': u32(proj),
    'clip.vision.block_count': u32(2),
    'clip.vision.attention.head_count': u32(2),
    'clip.vision.attention.layer_norm_epsilon': f32(1e-6),
    'clip.vision.image_mean': arr('f32', [0.5, 0.5, 0.5]),
    'clip.vision.image_std': arr('f32', [0.5, 0.5, 0.5]),
  };
  return { metadata, tensors: tensors.filter((t) => !omit.has(t.name)) };
}

/** Writes the tiny projector; returns its path. */
export function writeTinyProjector(path: string, options: TinyProjectorOptions = {}): string {
  writeGguf(path, tinyProjector(options));
  return path;
}

/** The broken model files a user can meet, each written to `path`. */
export const badModels = {
  /** Not a GGUF file at all. */
  notGguf(path: string): string {
    writeFileSync(path, 'this is not a model\n'.repeat(8));
    return path;
  },
  /** A valid text model cut short in its tensor data (an interrupted download). */
  truncated(path: string): string {
    const bytes = encodeGguf(tinyTextModel());
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    return path;
  },
  /** A well-formed GGUF whose architecture llama.cpp does not know. */
  wrongArchitecture(path: string): string {
    return writeTinyTextModel(path, { architecture: 'bogus' });
  },
  /** A projector whose output width (48) does not match the 64-wide tiny text model. */
  mismatchedProjector(path: string): string {
    return writeTinyProjector(path, { textEmbedding: 48 });
  },
  /** A projector with a required tensor missing: llama.node segfaults on it instead of throwing. */
  malformedProjector(path: string): string {
    return writeTinyProjector(path, { omit: ['mm.0.weight'] });
  },
};
