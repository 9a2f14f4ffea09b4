/**
 * `quorum pull` and the default local judge end to end: the built CLI against a loopback
 * model hub serving generated GGUF files (MODEL_ENDPOINT points node-llama-cpp's resolver
 * at it), with a test catalogue (QUORUM_CATALOGUE). Nothing leaves the machine.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { encodeGguf, tinyProjector, tinyTextModel } from '../support/gguf/index.js';
import { startModelHub, type ModelHub } from '../support/model-hub.js';

const REPO = '/test/tiny-GGUF/resolve/main';
const MiB = 1024 * 1024;
const model = encodeGguf(tinyTextModel());
const mmproj = encodeGguf(tinyProjector());
// Several of ipull's 5 MiB chunks, so a download can resume part-way (unused padding metadata).
const big = encodeGguf({ ...tinyTextModel(), metadata: { ...tinyTextModel().metadata, 'quorum.test.padding': 'x'.repeat(12 * MiB) } });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let root: string;
let hub: ModelHub;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'quorum-pull-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => hub?.close());

async function startHub(extra: Partial<Parameters<typeof startModelHub>[0]> = {}): Promise<ModelHub> {
  hub = await startModelHub({
    files: {
      [`${REPO}/tiny.gguf`]: model,
      [`${REPO}/mmproj-tiny.gguf`]: mmproj,
      [`${REPO}/big.gguf`]: big,
      [`${REPO}/readme.gguf`]: Buffer.from('<html>Not a model</html>\n'.repeat(40)),
    },
    manifests: { '/v2/test/tiny-GGUF/manifests/Q8_0': 'tiny.gguf' },
    ...extra,
  });
  return hub;
}

/** A fresh models folder and a catalogue whose default is the tiny model. */
function workspace(catalogueBytes = model.length): { dir: string; models: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(root, 'ws-'));
  const models = join(dir, 'models');
  const catalogue = join(dir, 'catalogue.json');
  writeFileSync(
    catalogue,
    JSON.stringify({
      default: 'tiny',
      models: [
        {
          name: 'tiny',
          title: 'Tiny random llama',
          model: { uri: 'hf:test/tiny-GGUF/tiny.gguf', bytes: catalogueBytes, sha256: sha(model) },
          mmproj: { uri: 'hf:test/tiny-GGUF/mmproj-tiny.gguf', bytes: mmproj.length },
          licence: 'test',
          memoryGiB: 0.1,
        },
      ],
    }),
  );
  return { dir, models, env: { QUORUM_MODELS: models, QUORUM_CATALOGUE: catalogue, MODEL_ENDPOINT: hub.url } };
}

const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);

describe('quorum pull', () => {
  it('pulls a catalogue model and its projector by name; a second pull downloads nothing', async () => {
    await startHub();
    const ws = workspace();
    const r = await runQuorum(['pull', 'tiny'], { env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(ws.models, 'tiny.gguf')).equals(model)).toBe(true);
    expect(readFileSync(join(ws.models, 'mmproj-tiny.gguf')).equals(mmproj)).toBe(true);
    expect(r.stderr).toMatch(/downloaded .*tiny\.gguf/);
    // Nothing half-done is left behind.
    expect(listing(join(ws.models, '.partial'))).toEqual([]);

    const before = hub.requests.length;
    const again = await runQuorum(['pull', 'tiny'], { env: ws.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/tiny\.gguf is already there/);
    expect(hub.requests.length).toBe(before);
  });

  it('pulls by hf: file URI, by hf:user/repo:QUANT (manifest) and by URL', async () => {
    await startHub();
    const ws = workspace();
    const byUri = await runQuorum(['pull', 'hf:test/tiny-GGUF/mmproj-tiny.gguf'], { env: ws.env });
    expect(byUri.code, byUri.stderr).toBe(0);
    expect(readFileSync(join(ws.models, 'mmproj-tiny.gguf')).equals(mmproj)).toBe(true);

    const byTag = await runQuorum(['pull', 'hf:test/tiny-GGUF:Q8_0'], { env: ws.env });
    expect(byTag.code, byTag.stderr).toBe(0);
    expect(hub.requests.some((q) => q.path === '/v2/test/tiny-GGUF/manifests/Q8_0')).toBe(true);
    const named = readdirSync(ws.models).filter((f) => f.endsWith('.gguf') && f !== 'mmproj-tiny.gguf');
    expect(named).toHaveLength(1);
    expect(readFileSync(join(ws.models, named[0]!)).equals(model)).toBe(true);

    const byUrl = await runQuorum(['pull', `${hub.url}${REPO.slice(1)}/tiny.gguf`], { env: { ...ws.env, QUORUM_MODELS: join(ws.dir, 'url') } });
    expect(byUrl.code, byUrl.stderr).toBe(0);
    expect(readFileSync(join(ws.dir, 'url', 'tiny.gguf')).equals(model)).toBe(true);
  });

  it('resumes after the server drops the connection halfway, without starting over', async () => {
    const path = `${REPO}/big.gguf`;
    await startHub({ dropOnce: { path, afterBytes: 7 * MiB } });
    const ws = workspace();
    const r = await runQuorum(['pull', 'hf:test/tiny-GGUF/big.gguf'], { env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(ws.models, 'big.gguf')).equals(big)).toBe(true);
    const ranged = hub.requests.filter((q) => q.path === path && q.range !== undefined);
    const span = (q: (typeof ranged)[number]) => q.range!.split('-').map(Number) as [number, number];
    // One response was cut at 7 MiB (ipull fetches with parallel Range streams)...
    const cut = ranged.filter((q) => q.bytes < span(q)[1] - span(q)[0] + 1);
    expect(cut).toHaveLength(1);
    const [cutStart] = span(cut[0]!);
    // ...and the retry picked up at the first chunk it had not saved (5 MiB further on), not at its start.
    const later = ranged.slice(ranged.indexOf(cut[0]!) + 1);
    expect(later.some((q) => span(q)[0] === cutStart)).toBe(false);
    expect(later.some((q) => span(q)[0] === cutStart + 5 * MiB)).toBe(true);
    expect(hub.bytesServed(path, { ranged: true })).toBeLessThan(big.length + 5 * MiB);
  });

  it('refuses a size that differs from the catalogue before downloading, keeping nothing', async () => {
    await startHub();
    const ws = workspace(model.length + 1);
    const r = await runQuorum(['pull', 'tiny'], { env: ws.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/size mismatch: the server offers \d+ bytes, the catalogue expects \d+/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(listing(ws.models).filter((f) => f.endsWith('.gguf') || f.endsWith('.ipull'))).toEqual([]);
    expect(hub.bytesServed(`${REPO}/tiny.gguf`, { ranged: true })).toBe(0);
  });

  it('refuses a file that is not GGUF and deletes it', async () => {
    await startHub();
    const ws = workspace();
    const r = await runQuorum(['pull', 'hf:test/tiny-GGUF/readme.gguf'], { env: ws.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/readme\.gguf: not a GGUF file .*the download was deleted/);
    expect(listing(ws.models).filter((f) => f.endsWith('.gguf') || f.endsWith('.ipull'))).toEqual([]);
  });

  it('says in one line when the hub cannot be reached', async () => {
    await startHub();
    const ws = workspace();
    const url = hub.url;
    await hub.close();
    const r = await runQuorum(['pull', 'tiny'], { env: { ...ws.env, MODEL_ENDPOINT: url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the default local judge', () => {
  let images: string;
  beforeAll(async () => {
    images = join(root, 'images');
    mkdirSync(images);
    for (let i = 0; i < 2; i++) {
      const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 90 * i, g: 100, b: 50 } } }).png().toBuffer();
      writeFileSync(join(images, `img-${i}.png`), png);
    }
  });

  it('without --judge and with --yes: says what it downloads, pulls it, then scores every image', async () => {
    await startHub();
    const ws = workspace();
    const db = join(ws.dir, 'q.db');
    const r = await runQuorum(['score', images, '--yes', '--threads', '1', '--method', 'levels', '--format', 'json', '--db', db], { env: ws.env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/default local judge tiny .* is not downloaded: tiny\.gguf and mmproj-tiny\.gguf, about [\d.]+ kB/);
    const scores = JSON.parse(r.stdout) as { status: string; score: number }[];
    expect(scores.map((s) => s.status)).toEqual(['ok', 'ok']);
    expect(readFileSync(join(ws.models, 'tiny.gguf')).equals(model)).toBe(true);

    // Next time the files are there: no question, no request to the hub.
    const before = hub.requests.length;
    const again = await runQuorum(['score', images, '--threads', '1', '--method', 'levels', '--format', 'json', '--db', db], { env: ws.env, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(hub.requests.length).toBe(before);
  }, 150_000);

  it('without --yes and without a terminal: exits 2 with the pull command, downloading nothing', async () => {
    await startHub();
    const ws = workspace();
    const r = await runQuorum(['score', images, '--db', join(ws.dir, 'q.db')], { env: ws.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Run `quorum pull tiny` first, or add --yes/);
    expect(hub.requests).toEqual([]);
    expect(listing(ws.models)).toEqual([]);
  });

  it('takes a catalogue name in --judge llama:<name>, and rejects an unknown one', async () => {
    await startHub();
    const ws = workspace();
    const unknown = await runQuorum(['score', images, '--judge', 'llama:nope', '--db', join(ws.dir, 'q.db')], { env: ws.env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/`llama:nope` is neither a \.gguf path nor a catalogue model \(tiny\)/);
    const named = await runQuorum(['score', images, '--judge', 'llama:tiny', '--db', join(ws.dir, 'q.db')], { env: ws.env });
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/quorum pull tiny/);
  });
});
