/**
 * A minimal GGUF (v3) container writer for tests: metadata of any GGUF type and F32/F16
 * tensors, laid out as llama.cpp expects (little-endian, tensor data aligned to
 * `general.alignment`, 32 by default).
 */
import { writeFileSync } from 'node:fs';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32

/** GGUF metadata value types. */
export const GgufType = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7,
  string: 8, array: 9, u64: 10, i64: 11, f64: 12,
} as const;
export type GgufTypeName = keyof typeof GgufType;

/** A typed metadata value: numbers need a type, strings and booleans do not. */
export type GgufValue =
  | string
  | boolean
  | { type: Exclude<GgufTypeName, 'array' | 'string' | 'bool'>; value: number | bigint }
  | { type: 'array'; of: Exclude<GgufTypeName, 'array'>; values: readonly (number | string | boolean | bigint)[] };

export const u32 = (value: number): GgufValue => ({ type: 'u32', value });
export const i32 = (value: number): GgufValue => ({ type: 'i32', value });
export const f32 = (value: number): GgufValue => ({ type: 'f32', value });
export const arr = (of: Exclude<GgufTypeName, 'array'>, values: readonly (number | string | boolean | bigint)[]): GgufValue => ({ type: 'array', of, values });

export interface GgufTensor {
  name: string;
  /** ggml order: first dimension = innermost (the input side of a matrix). */
  dims: readonly number[];
  type: 'f32' | 'f16';
  data: Float32Array;
}

export interface GgufFile {
  metadata: Record<string, GgufValue>;
  tensors: readonly GgufTensor[];
  /** @default 3 */
  version?: number;
}

class Buf {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  scalar(type: Exclude<GgufTypeName, 'array'>, v: number | string | boolean | bigint): void {
    let b: Buffer;
    switch (type) {
      case 'u8': b = Buffer.alloc(1); b.writeUInt8(Number(v)); break;
      case 'i8': b = Buffer.alloc(1); b.writeInt8(Number(v)); break;
      case 'u16': b = Buffer.alloc(2); b.writeUInt16LE(Number(v)); break;
      case 'i16': b = Buffer.alloc(2); b.writeInt16LE(Number(v)); break;
      case 'u32': b = Buffer.alloc(4); b.writeUInt32LE(Number(v)); break;
      case 'i32': b = Buffer.alloc(4); b.writeInt32LE(Number(v)); break;
      case 'f32': b = Buffer.alloc(4); b.writeFloatLE(Number(v)); break;
      case 'bool': b = Buffer.alloc(1); b.writeUInt8(v ? 1 : 0); break;
      case 'u64': b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); break;
      case 'i64': b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); break;
      case 'f64': b = Buffer.alloc(8); b.writeDoubleLE(Number(v)); break;
      case 'string': this.str(String(v)); return;
    }
    this.push(b);
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** IEEE half-precision bits of a float (round to nearest even, enough for test weights). */
export function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - e);
    return sign | ((mant + 0x1000) >>> 13);
  }
  const half = sign | (e << 10) | (mant >>> 13);
  return (mant & 0x1000) !== 0 ? half + 1 : half;
}

function tensorBytes(t: GgufTensor): Buffer {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new Error(`tensor ${t.name}: ${t.data.length} values for dims ${t.dims.join('x')}`);
  if (t.type === 'f32') return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) out.writeUInt16LE(toHalf(t.data[i]!), i * 2);
  return out;
}

/** Serialises a GGUF file to bytes. */
export function encodeGguf(file: GgufFile): Buffer {
  const alignmentValue = file.metadata['general.alignment'];
  const alignment = typeof alignmentValue === 'object' && alignmentValue.type !== 'array' ? Number(alignmentValue.value) : 32;
  const head = new Buf();
  head.u32(GGUF_MAGIC);
  head.u32(file.version ?? 3);
  head.u64(file.tensors.length);
  const entries = Object.entries(file.metadata);
  head.u64(entries.length);
  for (const [key, value] of entries) {
    head.str(key);
    if (typeof value === 'string') {
      head.u32(GgufType.string);
      head.str(value);
    } else if (typeof value === 'boolean') {
      head.u32(GgufType.bool);
      head.scalar('bool', value);
    } else if (value.type === 'array') {
      head.u32(GgufType.array);
      head.u32(GgufType[value.of]);
      head.u64(value.values.length);
      for (const v of value.values) head.scalar(value.of, v);
    } else {
      head.u32(GgufType[value.type]);
      head.scalar(value.type, value.value);
    }
  }
  const datas = file.tensors.map(tensorBytes);
  let offset = 0;
  file.tensors.forEach((t, i) => {
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(t.type === 'f32' ? 0 : 1);
    head.u64(offset);
    offset += datas[i]!.length;
    offset += (alignment - (offset % alignment)) % alignment;
  });
  const pad = (n: number): Buffer => Buffer.alloc((alignment - (n % alignment)) % alignment);
  const body = new Buf();
  body.push(head.concat());
  body.push(pad(body.length));
  for (const d of datas) {
    body.push(d);
    body.push(pad(d.length));
  }
  return body.concat();
}

export function writeGguf(path: string, file: GgufFile): void {
  writeFileSync(path, encodeGguf(file));
}

/** Deterministic normal random numbers (mulberry32 + Box-Muller). */
export function normalRandom(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}
