import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { collectInputs, isImagePath } from '../../src/images/index.js';
import { makeTempDir } from './_fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;

/** Creates files (content is irrelevant: collecting never opens them). */
async function tree(root: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    await mkdir(join(root, file, '..'), { recursive: true });
    await writeFile(join(root, file), 'x');
  }
}

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

const posixOnly = it.skipIf(process.platform === 'win32');

describe('collectInputs', () => {
  it('walks folders recursively in code-unit order of the relative path, counting what it skips', async () => {
    const root = join(dir, 'shots');
    // Created in an order unlike the expected one; '-' (0x2D) sorts before '/' (0x2F) and 'X' before 'a'.
    await tree(root, ['x/1.png', 'x-y.png', 'deep/er/z.TIF', 'X.jpeg', 'a.JPG', 'notes.txt', 'README']);
    await tree(root, ['.hidden.png', '.git/config', 'deep/b.gif', 'c.avif', 'w.webp']);
    const first = await collectInputs([root]);
    expect(first.files.map((f) => f.relPath)).toEqual([
      'X.jpeg',
      'a.JPG',
      'c.avif',
      'deep/b.gif',
      'deep/er/z.TIF',
      'w.webp',
      'x-y.png',
      'x/1.png',
    ]);
    expect(first.files[4]).toEqual({ path: join(root, 'deep', 'er', 'z.TIF'), relPath: 'deep/er/z.TIF', root });
    expect(first.skipped).toEqual([
      { path: join(root, '.git'), reason: 'hidden' },
      { path: join(root, '.hidden.png'), reason: 'hidden' },
      { path: join(root, 'README'), reason: 'not an image (by extension)' },
      { path: join(root, 'notes.txt'), reason: 'not an image (by extension)' },
    ]);
    expect(first.errors).toEqual([]);
    expect(await collectInputs([root])).toEqual(first);
  });

  it('walks hidden entries when asked', async () => {
    const root = join(dir, 'hidden');
    await tree(root, ['.cache/a.png', 'b.png']);
    const { files } = await collectInputs([root], { includeHidden: true });
    expect(files.map((f) => f.relPath)).toEqual(['.cache/a.png', 'b.png']);
  });

  it('keeps a file named directly whatever its extension, and reports a missing path without stopping', async () => {
    const root = join(dir, 'direct');
    await tree(root, ['picture.dat', 'photo.png', 'sub/c.png']);
    const missing = join(root, 'nope.png');
    const photo = join(root, 'photo.png');
    const result = await collectInputs([join(root, 'picture.dat'), missing, join(root, 'sub'), photo, photo]);
    expect(result.files).toEqual([
      { path: join(root, 'picture.dat'), relPath: 'picture.dat', root },
      { path: join(root, 'sub', 'c.png'), relPath: 'c.png', root: join(root, 'sub') },
      { path: join(root, 'photo.png'), relPath: 'photo.png', root },
    ]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toBeInstanceOf(InputError);
    expect(result.errors[0]).toMatchObject({
      path: missing,
      reason: 'no such file or directory',
      message: `${missing}: no such file or directory`,
    });
  });

  posixOnly('follows symbolic links but not around a loop, and reports a broken image link', async () => {
    const root = join(dir, 'links');
    await tree(root, ['real/a.png', 'other/b.jpg']);
    await symlink(join(root, 'real'), join(root, 'real', 'again'), 'dir'); // real/again -> real: a loop
    await symlink(join(root, 'other'), join(root, 'linked'), 'dir');
    await symlink(join(root, 'other', 'b.jpg'), join(root, 'alias.jpg'));
    await symlink(join(root, 'gone.png'), join(root, 'dangling.png'));
    await symlink(join(root, 'gone.txt'), join(root, 'dangling.txt'));
    const result = await collectInputs([root]);
    expect(result.files.map((f) => f.relPath)).toEqual(['alias.jpg', 'linked/b.jpg', 'other/b.jpg', 'real/a.png']);
    expect(result.skipped).toEqual([
      { path: join(root, 'dangling.txt'), reason: 'broken symbolic link (no such file or directory)' },
      { path: join(root, 'real', 'again'), reason: 'symbolic link loop' },
    ]);
    expect(result.errors.map((e) => [e.path, e.reason])).toEqual([
      [join(root, 'dangling.png'), 'broken symbolic link (no such file or directory)'],
    ]);
  });

  posixOnly('refuses a path that is neither a file nor a folder', async () => {
    const result = await collectInputs(['/dev/null']);
    expect(result.files).toEqual([]);
    expect(result.errors.map((e) => [e.path, e.reason])).toEqual([['/dev/null', 'not a regular file or folder']]);
  });

  it('decides what is an image by extension, ignoring case', () => {
    expect(['a.jpg', 'a.JPEG', 'b.Png', 'c.webp', 'd.tif', 'e.TIFF', 'f.gif', 'g.avif'].every(isImagePath)).toBe(true);
    expect(['a.txt', 'a.heic', 'a.svg', 'png', 'a.png.bak'].some(isImagePath)).toBe(false);
  });
});
