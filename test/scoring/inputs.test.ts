/**
 * Bad inputs never stop a run: each is reported with its path and a reason, the other
 * images are scored, files that are not images are skipped and counted, and the same
 * picture under two names is judged once and listed under both.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { makeTestImage } from '../support/test-images.js';
import { byName, completions, imageOf, lines, parseScores, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-ant-test-inputs';
let tmp: TempDir;
let server: JudgeServer;
/** The folder scored; the database lives outside it. */
let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  tmp = await tempDir();
  dir = tmp.images;
  server = await startAnthropicServer({ apiKey: KEY });
  await writeImages(dir, [
    { name: 'good-low.png', quality: 1.5 },
    { name: 'good-high.png', quality: 4.5 },
  ]);
  await copyFile(at('good-low.png'), at('same-picture.png'));
  const jpeg = await sharp(await makeTestImage({ quality: 3, seed: 9 })).jpeg({ quality: 90 }).toBuffer();
  await writeFile(at('cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  const png = await makeTestImage({ quality: 3, seed: 10 });
  await writeFile(at('cut.png'), png.subarray(0, Math.floor(png.length / 2)));
  await writeFile(at('corrupt.png'), Buffer.from('this is not a PNG at all, just text with an image name\n'.repeat(8)));
  await writeFile(at('empty.png'), Buffer.alloc(0));
  await writeFile(at('notes.txt'), 'shot on a rainy day\n');
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

it('reports each bad file by name, skips non-images with a count, judges duplicates once, scores the rest', async () => {
  const missing = tmp.path('not-there.png');
  const r = await runQuorum(
    ['score', dir, missing, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', '2', '--db', tmp.path('quorum.db'), '--format', 'json'],
    { env: { ANTHROPIC_API_KEY: KEY } },
  );
  // Some inputs could not be scored: exit 1, with everything else done.
  expect(r.code).toBe(1);
  const errors = lines(r.stderr).filter((l) => l.startsWith('error: '));
  const reasonFor = (name: string) => errors.filter((l) => l.includes(`${name}: `));
  expect(reasonFor('not-there.png')).toEqual([`error: ${missing}: no such file or directory`]);
  expect(reasonFor('empty.png')).toEqual([`error: ${at('empty.png')}: file is empty (0 bytes)`]);
  expect(reasonFor('corrupt.png')).toEqual([expect.stringMatching(/corrupt\.png: not a readable image: unknown format/)]);
  expect(reasonFor('cut.jpg')).toEqual([expect.stringMatching(/cut\.jpg: not a readable image: truncated JPEG/)]);
  expect(reasonFor('cut.png')).toEqual([expect.stringMatching(/cut\.png: not a readable image: truncated PNG/)]);
  expect(errors).toHaveLength(5);
  expect(r.stderr).toMatch(/^skipped 1 non-image file\(s\)$/m);
  expect(r.stderr).not.toMatch(/notes\.txt/);

  // Every input is in the output with its status: the unreadable ones as errors with the reason.
  const scores = byName(parseScores(r.stdout));
  expect([...scores.keys()].sort()).toEqual(['corrupt.png', 'cut.jpg', 'cut.png', 'empty.png', 'good-high.png', 'good-low.png', 'not-there.png', 'same-picture.png']);
  for (const name of ['corrupt.png', 'cut.jpg', 'cut.png', 'empty.png', 'not-there.png']) {
    expect(scores.get(name), name).toMatchObject({ status: 'error', score: null, sha256: null, errors: [expect.stringMatching(/\S/)] });
  }
  expect(scores.get('empty.png')?.errors).toEqual(['file is empty (0 bytes)']);
  const low = scores.get('good-low.png')!;
  const same = scores.get('same-picture.png')!;
  const high = scores.get('good-high.png')!;
  for (const s of [low, same, high]) expect(s).toMatchObject({ status: 'ok', ok: 2 });
  expect(Math.abs(low.score! - 1.5)).toBeLessThan(0.4);
  expect(Math.abs(high.score! - 4.5)).toBeLessThan(0.4);
  // The same picture: one set of calls, one score, both paths listed, one marked as the other's duplicate.
  expect(same.sha256).toBe(low.sha256);
  expect(same.samples).toEqual(low.samples);
  expect([low.duplicateOf, same.duplicateOf].filter(Boolean)).toHaveLength(1);
  const requests = completions(server);
  expect(requests).toHaveLength(2 * 2);
  const perImage = new Map<string, number>();
  for (const q of requests) perImage.set(imageOf(q), (perImage.get(imageOf(q)) ?? 0) + 1);
  expect([...perImage.values()]).toEqual([2, 2]);
  expect(r.stderr).toMatch(/: 3\/8 images scored, 4 requests/);
});
