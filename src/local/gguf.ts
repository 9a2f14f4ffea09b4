/**
 * A small reader for GGUF headers: magic, version, metadata and tensor descriptions,
 * never tensor data. Enough to validate a model file before an engine touches it (a
 * truncated download, a wrong file, an unknown architecture) and to list models.
 *
 * Layout (little-endian): magic `GGUF`, version u32, tensor count u64, metadata count
 * u64, metadata entries (key string, value type u32, value), tensor infos (name, n_dims
 * u32, dims u64[], ggml type u32, offset u64 relative to the data section), padding to
 * `general.alignment` (32 by default), tensor data.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** A metadata value. Large arrays are summarised as `{ arrayOf, length }` (see `maxArrayValues`). */
export type GgufMetadataValue =
  | string
  | number
  | bigint
  | boolean
  | GgufMetadataValue[]
  | { arrayOf: GgufValueTypeName; length: number };

export type GgufValueTypeName =
  | 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'array' | 'u64' | 'i64' | 'f64';

const VALUE_TYPES: readonly GgufValueTypeName[] = [
  'u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64',
];

export interface GgufTensorInfo {
  name: string;
  /** ggml order: `dims[0]` is the innermost dimension. */
  dims: number[];
  /** ggml type id (0 F32, 1 F16, 8 Q8_0, 12 Q4_K, ...). */
  type: number;
  /** Offset of the data from the start of the data section, in bytes. */
  offset: number;
  /** Data size in bytes, or `undefined` for a ggml type this reader does not know. */
  bytes: number | undefined;
}

export interface GgufHeader {
  version: number;
  metadata: Record<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
  /** Byte offset where tensor data starts. */
  dataOffset: number;
  /** Bytes the tensors need after `dataOffset` (known types only). */
  dataBytes: number;
  fileSize: number;
}

/** Why a file is not a readable GGUF header. `kind` lets callers word the error. */
export class GgufFormatError extends Error {
  override readonly name = 'GgufFormatError';
  constructor(
    readonly kind: 'not-gguf' | 'truncated' | 'unsupported-version' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

/** Block size (values) and bytes per block of each ggml type, from ggml.c `type_traits`. */
const GGML_TYPES: Record<number, { name: string; block: number; bytes: number }> = {
  0: { name: 'F32', block: 1, bytes: 4 },
  1: { name: 'F16', block: 1, bytes: 2 },
  2: { name: 'Q4_0', block: 32, bytes: 18 },
  3: { name: 'Q4_1', block: 32, bytes: 20 },
  6: { name: 'Q5_0', block: 32, bytes: 22 },
  7: { name: 'Q5_1', block: 32, bytes: 24 },
  8: { name: 'Q8_0', block: 32, bytes: 34 },
  9: { name: 'Q8_1', block: 32, bytes: 36 },
  10: { name: 'Q2_K', block: 256, bytes: 84 },
  11: { name: 'Q3_K', block: 256, bytes: 110 },
  12: { name: 'Q4_K', block: 256, bytes: 144 },
  13: { name: 'Q5_K', block: 256, bytes: 176 },
  14: { name: 'Q6_K', block: 256, bytes: 210 },
  15: { name: 'Q8_K', block: 256, bytes: 292 },
  16: { name: 'IQ2_XXS', block: 256, bytes: 66 },
  17: { name: 'IQ2_XS', block: 256, bytes: 74 },
  18: { name: 'IQ3_XXS', block: 256, bytes: 98 },
  19: { name: 'IQ1_S', block: 256, bytes: 50 },
  20: { name: 'IQ4_NL', block: 32, bytes: 18 },
  21: { name: 'IQ3_S', block: 256, bytes: 110 },
  22: { name: 'IQ2_S', block: 256, bytes: 82 },
  23: { name: 'IQ4_XS', block: 256, bytes: 136 },
  24: { name: 'I8', block: 1, bytes: 1 },
  25: { name: 'I16', block: 1, bytes: 2 },
  26: { name: 'I32', block: 1, bytes: 4 },
  27: { name: 'I64', block: 1, bytes: 8 },
  28: { name: 'F64', block: 1, bytes: 8 },
  29: { name: 'IQ1_M', block: 256, bytes: 56 },
  30: { name: 'BF16', block: 1, bytes: 2 },
  34: { name: 'TQ1_0', block: 256, bytes: 54 },
  35: { name: 'TQ2_0', block: 256, bytes: 66 },
  39: { name: 'MXFP4', block: 32, bytes: 17 },
};

/** The ggml type name of a tensor type id (`Q4_K`), or `type N` when unknown. */
export function ggmlTypeName(type: number): string {
  return GGML_TYPES[type]?.name ?? `type ${type}`;
}

function tensorBytes(type: number, dims: readonly number[]): number | undefined {
  const traits = GGML_TYPES[type];
  if (!traits) return undefined;
  const [first = 1, ...rest] = dims;
  const rows = rest.reduce((a, b) => a * b, 1);
  return Math.ceil(first / traits.block) * traits.bytes * rows;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" as a little-endian u32
const MAX_STRING = 64 * 1024 * 1024;
const MAX_COUNT = 1 << 30;

/** Buffered sequential reads from a file handle; throws `truncated` past the end. */
class Cursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  private async ensure(n: number): Promise<void> {
    const have = this.bufStart + this.buf.length - this.pos;
    if (have >= n) return;
    if (this.pos + n > this.size) {
      throw new GgufFormatError('truncated', `the file ends inside its header (at byte ${this.size}, header needs ${this.pos + n})`);
    }
    const want = Math.max(n, 1 << 16);
    const chunk = Buffer.alloc(Math.min(want, this.size - this.pos));
    const { bytesRead } = await this.fh.read(chunk, 0, chunk.length, this.pos);
    if (bytesRead < n) throw new GgufFormatError('truncated', `the file ends inside its header (at byte ${this.pos + bytesRead})`);
    this.buf = chunk.subarray(0, bytesRead);
    this.bufStart = this.pos;
  }

  private async take(n: number): Promise<Buffer> {
    await this.ensure(n);
    const at = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  async u32(): Promise<number> {
    return (await this.take(4)).readUInt32LE(0);
  }
  async u64(): Promise<bigint> {
    return (await this.take(8)).readBigUInt64LE(0);
  }
  /** A u64 that must fit a safe integer below `limit` (counts, lengths, offsets). */
  async count(what: string, limit: number): Promise<number> {
    const v = await this.u64();
    if (v > BigInt(limit)) throw new GgufFormatError('corrupt', `${what} is ${v}, more than any real model has`);
    return Number(v);
  }
  async string(): Promise<string> {
    const n = await this.count('a string length', MAX_STRING);
    return (await this.take(n)).toString('utf8');
  }
  async skipString(): Promise<void> {
    this.skip(await this.count('a string length', MAX_STRING));
  }
  /** Moves past `n` bytes without reading them. */
  skip(n: number): void {
    if (this.pos + n > this.size) throw new GgufFormatError('truncated', 'the file ends inside its header');
    this.pos += n;
    if (this.pos > this.bufStart + this.buf.length) {
      this.buf = Buffer.alloc(0);
      this.bufStart = this.pos;
    }
  }

  async scalar(type: GgufValueTypeName): Promise<GgufMetadataValue> {
    switch (type) {
      case 'u8': return (await this.take(1)).readUInt8(0);
      case 'i8': return (await this.take(1)).readInt8(0);
      case 'u16': return (await this.take(2)).readUInt16LE(0);
      case 'i16': return (await this.take(2)).readInt16LE(0);
      case 'u32': return (await this.take(4)).readUInt32LE(0);
      case 'i32': return (await this.take(4)).readInt32LE(0);
      case 'f32': return (await this.take(4)).readFloatLE(0);
      case 'bool': return (await this.take(1)).readUInt8(0) !== 0;
      case 'u64': return toNumber((await this.take(8)).readBigUInt64LE(0));
      case 'i64': return toNumber((await this.take(8)).readBigInt64LE(0));
      case 'f64': return (await this.take(8)).readDoubleLE(0);
      case 'string': return this.string();
      case 'array': throw new GgufFormatError('corrupt', 'nested arrays are not valid GGUF metadata here');
    }
  }
}

function toNumber(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const SCALAR_SIZE: Partial<Record<GgufValueTypeName, number>> = {
  u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8,
};

export interface ReadGgufOptions {
  /**
   * Arrays longer than this are summarised as `{ arrayOf, length }` instead of read
   * (tokenizer vocabularies hold 150k strings). @default 64
   */
  maxArrayValues?: number;
}

/**
 * Reads the header of a GGUF file: metadata and tensor descriptions, no tensor data.
 * Throws `GgufFormatError` for a file that is not GGUF, is cut short, or is corrupt.
 *
 * @example
 * const header = await readGgufHeader('model.gguf');
 * header.metadata['general.architecture']; // => 'llama'
 */
export async function readGgufHeader(path: string, options: ReadGgufOptions = {}): Promise<GgufHeader> {
  const maxArrayValues = options.maxArrayValues ?? 64;
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const c = new Cursor(fh, size);
    if (size < 4) throw new GgufFormatError('not-gguf', `not a GGUF file (${size} bytes long)`);
    const magic = await c.u32();
    if (magic !== GGUF_MAGIC) {
      throw new GgufFormatError('not-gguf', 'not a GGUF file (it does not start with "GGUF")');
    }
    const version = await c.u32();
    if (version < 2 || version > 3) {
      throw new GgufFormatError('unsupported-version', `GGUF version ${version} is not supported (llama.cpp reads versions 2 and 3)`);
    }
    const tensorCount = await c.count('the tensor count', MAX_COUNT);
    const kvCount = await c.count('the metadata count', MAX_COUNT);
    const metadata: Record<string, GgufMetadataValue> = {};
    for (let i = 0; i < kvCount; i++) {
      const key = await c.string();
      const typeId = await c.u32();
      const type = VALUE_TYPES[typeId];
      if (!type) throw new GgufFormatError('corrupt', `metadata \`${key}\` has unknown value type ${typeId}`);
      if (type !== 'array') {
        metadata[key] = await c.scalar(type);
        continue;
      }
      const elemId = await c.u32();
      const elem = VALUE_TYPES[elemId];
      if (!elem || elem === 'array') throw new GgufFormatError('corrupt', `metadata \`${key}\` has unsupported array element type ${elemId}`);
      const length = await c.count(`the length of \`${key}\``, MAX_COUNT);
      if (length > maxArrayValues) {
        const width = SCALAR_SIZE[elem];
        if (width !== undefined) {
          c.skip(width * length);
        } else {
          for (let j = 0; j < length; j++) await c.skipString();
        }
        metadata[key] = { arrayOf: elem, length };
      } else {
        const values: GgufMetadataValue[] = [];
        for (let j = 0; j < length; j++) values.push(await c.scalar(elem));
        metadata[key] = values;
      }
    }
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = await c.string();
      const nDims = await c.u32();
      if (nDims < 1 || nDims > 4) throw new GgufFormatError('corrupt', `tensor \`${name}\` has ${nDims} dimensions`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(await c.count(`a dimension of \`${name}\``, 2 ** 40));
      const type = await c.u32();
      const offset = await c.count(`the offset of \`${name}\``, Number.MAX_SAFE_INTEGER);
      tensors.push({ name, dims, type, offset, bytes: tensorBytes(type, dims) });
    }
    const alignValue = metadata['general.alignment'];
    const alignment = typeof alignValue === 'number' && alignValue > 0 ? alignValue : 32;
    const dataOffset = Math.ceil(c.pos / alignment) * alignment;
    let dataBytes = 0;
    for (const t of tensors) if (t.bytes !== undefined) dataBytes = Math.max(dataBytes, t.offset + t.bytes);
    return { version, metadata, tensors, dataOffset, dataBytes, fileSize: size };
  } finally {
    await fh.close();
  }
}
