import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { InputError } from '../core/errors.js';
import { fileSystemReason } from './_file-system.js';

/** File extensions taken as images when walking a folder (compared case-insensitively). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'];

/** One image file to load. */
export interface InputFile {
  /** The path to open: as given on the command line, or the folder joined with `relPath`. */
  path: string;
  /**
   * Path relative to the folder argument, `/`-separated on every platform, so that
   * `a/cat.png` and `b/cat.png` can be matched across folders. The file name for a file
   * given directly.
   */
  relPath: string;
  /** The folder argument it was found in; the file's own folder for a file given directly. */
  root: string;
}

/** Something met while walking that is not an input, and why. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface CollectedInputs {
  /** In argument order; within a folder sorted by `relPath` in code-unit order. */
  files: InputFile[];
  skipped: SkippedEntry[];
  /** One per argument or entry that could not be read; the other inputs are still collected. */
  errors: InputError[];
}

export interface CollectOptions {
  /** Walk into hidden files and folders (names starting with `.`, such as `.git`). @default false */
  includeHidden?: boolean | undefined;
}

/** Whether a file name has one of {@link IMAGE_EXTENSIONS}. */
export function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(path).toLowerCase());
}

/**
 * Expands files and folders into the image files to judge. Folders are walked
 * recursively and sorted by relative path in plain code-unit order, so the same tree
 * gives the same order on every machine and locale. Inside folders, files without an
 * image extension and hidden entries are skipped and listed in `skipped`; symbolic links
 * are followed, except one that leads back into a folder being walked (a loop). A file
 * named directly is always kept, whatever its extension: `loadImage` sniffs its content.
 * A path that does not exist or is neither a file nor a folder, and a folder that cannot
 * be read, become `InputError`s in `errors`; nothing here throws for a bad path. The same path given twice is kept once.
 *
 * @example
 * const { files, skipped, errors } = await collectInputs(['shots/', 'extra.png']);
 * // files   => [{ path: 'shots/a.jpg', relPath: 'a.jpg', root: 'shots/' },
 * //             { path: 'shots/day 2/b.png', relPath: 'day 2/b.png', root: 'shots/' },
 * //             { path: 'extra.png', relPath: 'extra.png', root: '.' }]
 * // skipped => [{ path: 'shots/notes.txt', reason: 'not an image (by extension)' }]
 */
export async function collectInputs(paths: readonly string[], options: CollectOptions = {}): Promise<CollectedInputs> {
  const out: CollectedInputs = { files: [], skipped: [], errors: [] };
  const seen = new Set<string>();
  // Keyed by absolute path; a walked file's is its folder's, resolved once, and the
  // relative path (no `.` or `..` in it), not a `resolve` per file.
  const keep = (file: InputFile, under?: string): void => {
    const key = under === undefined ? resolve(file.path) : under + (sep === '/' ? file.relPath : file.relPath.replaceAll('/', sep));
    if (seen.has(key)) return;
    seen.add(key);
    out.files.push(file);
  };

  for (const path of paths) {
    let stats: Stats;
    try {
      stats = await stat(path);
    } catch (error) {
      out.errors.push(new InputError(path, fileSystemReason(error), { cause: error }));
      continue;
    }
    if (stats.isFile()) {
      keep({ path, relPath: basename(path), root: dirname(path) });
      continue;
    }
    if (!stats.isDirectory()) {
      // A FIFO or device would block or never end when read.
      out.errors.push(new InputError(path, 'not a regular file or folder'));
      continue;
    }
    const walked = await walk(path, options.includeHidden ?? false);
    const folder = resolve(path);
    const under = folder.endsWith(sep) ? folder : folder + sep;
    for (const file of walked.files) keep(file, under);
    // Loops, not push(...list): a folder of 200k other files would overflow the stack.
    for (const s of walked.skipped) out.skipped.push(s);
    for (const e of walked.errors) out.errors.push(e);
  }
  return out;
}

/** Code-unit order, independent of locale (`localeCompare` is not). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function walk(root: string, includeHidden: boolean): Promise<CollectedInputs> {
  const files: InputFile[] = [];
  const skipped: SkippedEntry[] = [];
  const errors: InputError[] = [];

  // `ancestors` holds the real paths of the folders above `dir`: a folder whose real path
  // is among them is a symbolic-link loop. Siblings linked twice are walked twice (their
  // files then share a sha256 and are judged once).
  const visit = async (dir: string, relDir: string, ancestors: readonly string[]): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      errors.push(new InputError(dir, fileSystemReason(error), { cause: error }));
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const relPath = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      if (!includeHidden && entry.name.startsWith('.')) {
        skipped.push({ path, reason: 'hidden' });
        continue;
      }
      let kind: 'directory' | 'file' | 'other' = entry.isDirectory() ? 'directory' : entry.isFile() ? 'file' : 'other';
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(path);
          kind = target.isDirectory() ? 'directory' : target.isFile() ? 'file' : 'other';
        } catch (error) {
          const reason = `broken symbolic link (${fileSystemReason(error)})`;
          if (isImagePath(entry.name)) errors.push(new InputError(path, reason, { cause: error }));
          else skipped.push({ path, reason });
          continue;
        }
      }
      if (kind === 'directory') {
        let real: string;
        try {
          real = await realpath(path);
        } catch (error) {
          errors.push(new InputError(path, fileSystemReason(error), { cause: error }));
          continue;
        }
        if (ancestors.includes(real)) {
          skipped.push({ path, reason: 'symbolic link loop' });
          continue;
        }
        await visit(path, relPath, [...ancestors, real]);
      } else if (kind === 'file') {
        if (isImagePath(entry.name)) files.push({ path, relPath, root });
        else skipped.push({ path, reason: 'not an image (by extension)' });
      } else {
        skipped.push({ path, reason: 'not a regular file' });
      }
    }
  };

  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch (error) {
    return { files, skipped, errors: [new InputError(root, fileSystemReason(error), { cause: error })] };
  }
  await visit(root, '', [rootReal]);
  files.sort((a, b) => byCodeUnits(a.relPath, b.relPath));
  skipped.sort((a, b) => byCodeUnits(a.path, b.path));
  errors.sort((a, b) => byCodeUnits(a.path, b.path));
  return { files, skipped, errors };
}
