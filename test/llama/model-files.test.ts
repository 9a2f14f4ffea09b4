import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/core/errors.js';
import { inspectModelFile, listModels, readGgufHeader, validateModelFiles } from '../../src/local/index.js';
import { badModels, writeTinyProjector } from '../support/gguf/index.js';
import { tinyModels, type TinyModels } from './fixtures.js';

let m: TinyModels;
beforeAll(() => {
  m = tinyModels();
});
afterAll(() => m.cleanup());

describe('GGUF header reader', () => {
  it('reads back what the tiny writer wrote, without reading tensor data', async () => {
    const header = await readGgufHeader(m.model);
    expect(header.version).toBe(3);
    expect(header.metadata['general.architecture']).toBe('llama');
    expect(header.metadata['llama.embedding_length']).toBe(64);
    expect(header.metadata['tokenizer.ggml.add_bos_token']).toBe(true);
    // The vocabulary is summarised, not read.
    expect(header.metadata['tokenizer.ggml.tokens']).toMatchObject({ arrayOf: 'string' });
    expect(header.tensors.find((t) => t.name === 'output.weight')?.dims[0]).toBe(64);
    expect(header.dataOffset + header.dataBytes).toBeLessThanOrEqual(header.fileSize);
  });

  it('describes a text model and a projector', async () => {
    const text = await inspectModelFile(m.model);
    expect(text).toMatchObject({ kind: 'text', architecture: 'llama', quantisation: 'F32', embeddingLength: 64, chatTemplate: true, name: 'tiny-random-llama' });
    expect(text.vocabSize).toBeGreaterThan(500);
    const proj = await inspectModelFile(m.mmproj);
    expect(proj).toMatchObject({ kind: 'projector', architecture: 'clip' });
    expect(proj.projector).toMatchObject({ type: 'mlp', vision: true, outputWidth: 64, imageSize: 32 });
  });
});

describe('model file validation', () => {
  const cases: [string, (dir: string) => { model: string; mmproj?: string }, RegExp, 'model' | 'mmproj'][] = [
    ['a file that is not GGUF', (d) => ({ model: badModels.notGguf(join(d, 'notes.gguf')) }), /not a GGUF file/, 'model'],
    ['a truncated file', (d) => ({ model: badModels.truncated(join(d, 'cut.gguf')) }), /truncated.*interrupted download/, 'model'],
    ['a header cut short', (d) => {
      const path = join(d, 'cut-header.gguf');
      writeFileSync(path, readFileSync(m.model).subarray(0, 300));
      return { model: path };
    }, /truncated/, 'model'],
    ['an architecture llama.cpp does not know', (d) => ({ model: badModels.wrongArchitecture(join(d, 'bogus.gguf')) }), /architecture `bogus`/, 'model'],
    ['a projector given as the model', () => ({ model: m.mmproj }), /vision projector.*--mmproj/, 'model'],
    ['a projector for another model', (d) => ({ model: m.model, mmproj: badModels.mismatchedProjector(join(d, 'mmproj-48.gguf')) }), /outputs 48-wide embeddings but tiny\.gguf takes 64/, 'mmproj'],
    ['a language model given as the projector', () => ({ model: m.model, mmproj: m.model }), /not a vision projector/, 'mmproj'],
    ['a missing file', (d) => ({ model: join(d, 'absent.gguf') }), /no such file/, 'model'],
  ];
  it.each(cases)('rejects %s with a ModelFileError naming the file', async (_name, make, message, which) => {
    const files = make(m.dir);
    const error = await validateModelFiles(files).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).path).toBe(which === 'model' ? files.model : files.mmproj);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts a fitting pair', async () => {
    const { model, mmproj } = await validateModelFiles({ model: m.model, mmproj: m.mmproj });
    expect(model.kind).toBe('text');
    expect(mmproj?.kind).toBe('projector');
  });
});

describe('listModels', () => {
  it('lists GGUF files with architecture, size, quantisation and vision', async () => {
    const dir = join(m.dir, 'listing');
    (await import('node:fs')).mkdirSync(dir);
    const { writeTinyTextModel } = await import('../support/gguf/index.js');
    writeTinyTextModel(join(dir, 'a-model.gguf'));
    writeTinyTextModel(join(dir, 'b-wide.gguf'), { embedding: 128 });
    writeTinyProjector(join(dir, 'mmproj-a.gguf'));
    badModels.notGguf(join(dir, 'z-broken.gguf'));
    writeFileSync(join(dir, 'readme.txt'), 'not listed');
    const list = await listModels(dir);
    expect(list.map((e) => e.path.slice(dir.length + 1))).toEqual(['a-model.gguf', 'b-wide.gguf', 'mmproj-a.gguf', 'z-broken.gguf']);
    const [a, b, proj, broken] = list;
    const size = readFileSync(join(dir, 'a-model.gguf')).length;
    expect(a).toMatchObject({ kind: 'text', architecture: 'llama', sizeBytes: size, quantisation: 'F32', vision: true, projectors: [join(dir, 'mmproj-a.gguf')] });
    // 128 wide: the 64-wide projector does not fit it.
    expect(b).toMatchObject({ kind: 'text', vision: false, projectors: [] });
    expect(proj).toMatchObject({ kind: 'projector', architecture: 'clip', vision: true });
    expect(broken).toMatchObject({ kind: 'invalid', vision: false });
    expect(broken?.error).toMatch(/not a GGUF file/);
  });

  it('writes each tiny model byte-identically for a seed', () => {
    const digest = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
    const again = writeTinyProjector(join(m.dir, 'again.gguf'));
    expect(digest(again)).toBe(digest(m.mmproj));
  });
});
