import { basename, extname, resolve } from 'node:path';
import type { InputError } from '../core/errors.js';
import { collectInputs } from '../images/index.js';

/** Folders of outputs matched by relative path, extension ignored (`a/img01.png` ~ `a/img01.webp`). */
export interface MatchedFolders {
  /** A display name per folder (its base name, made unique). */
  names: string[];
  /** Content keys present in at least `minFolders` folders, sorted. */
  keys: string[];
  /** `paths[f].get(key)`: the file of folder f for a content key. */
  paths: Map<string, string>[];
  /** Files whose key is not in enough folders, or that clash inside one folder. */
  unmatched: { path: string; reason: string }[];
  skipped: { path: string; reason: string }[];
  errors: InputError[];
}

export function contentKey(relPath: string): string {
  const ext = extname(relPath);
  return ext ? relPath.slice(0, -ext.length) : relPath;
}

export async function matchFolders(folders: readonly string[], minFolders = folders.length): Promise<MatchedFolders> {
  const names: string[] = [];
  for (const f of folders) {
    const base = basename(resolve(f)) || f;
    let name = base;
    for (let k = 2; names.includes(name); k++) name = `${base}#${k}`;
    names.push(name);
  }
  const paths: Map<string, string>[] = [];
  const unmatched: MatchedFolders['unmatched'] = [];
  const skipped: MatchedFolders['skipped'] = [];
  const errors: InputError[] = [];
  for (const folder of folders) {
    const collected = await collectInputs([folder]);
    skipped.push(...collected.skipped);
    errors.push(...collected.errors);
    const map = new Map<string, string>();
    for (const file of collected.files) {
      const key = contentKey(file.relPath);
      const clash = map.get(key);
      if (clash) unmatched.push({ path: file.path, reason: `same name as ${clash} apart from the extension` });
      else map.set(key, file.path);
    }
    paths.push(map);
  }
  const counts = new Map<string, number>();
  for (const map of paths) for (const key of map.keys()) counts.set(key, (counts.get(key) ?? 0) + 1);
  const keys = [...counts].filter(([, n]) => n >= minFolders).map(([k]) => k).sort();
  const kept = new Set(keys);
  paths.forEach((map, f) => {
    for (const [key, path] of map) {
      if (!kept.has(key)) unmatched.push({ path, reason: `no match in ${folders.length === 2 ? `the other folder (${folders[1 - f]})` : 'enough other folders'}` });
    }
  });
  return { names, keys, paths, unmatched, skipped, errors };
}
