/** Where pulled models live, and which catalogue model files are already there. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { CatalogueFile, CatalogueModel } from './catalogue.js';

/**
 * The models folder: `QUORUM_MODELS`, else the user's cache folder + `quorum/models`
 * (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
 * `%LOCALAPPDATA%` on Windows). `env` is passed in: nothing here reads `process.env`.
 *
 * @example
 * modelsDir({ HOME: '/home/me' }, 'linux'); // => '/home/me/.cache/quorum/models'
 */
export function modelsDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env['QUORUM_MODELS']) return env['QUORUM_MODELS'];
  const home = env['HOME'] || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'quorum', 'models');
  if (platform === 'win32') return join(env['LOCALAPPDATA'] || join(home, 'AppData', 'Local'), 'quorum', 'models');
  return join(env['XDG_CACHE_HOME'] || join(home, '.cache'), 'quorum', 'models');
}

/** A catalogue model's files in a models folder, and those not there yet. */
export interface CatalogueModelFiles {
  model: string;
  mmproj: string;
  /** Files still to download (model and/or projector). */
  missing: CatalogueFile[];
  /** Their approximate total size in bytes. */
  missingBytes: number;
}

/** Which of a catalogue model's files are in `dir` (by name; `pull` checks their contents). */
export async function catalogueModelFiles(entry: CatalogueModel, dir: string): Promise<CatalogueModelFiles> {
  const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);
  const model = join(dir, entry.model.file);
  const mmproj = join(dir, entry.mmproj.file);
  const missing: CatalogueFile[] = [];
  if (!(await isFile(model))) missing.push(entry.model);
  if (!(await isFile(mmproj))) missing.push(entry.mmproj);
  return { model, mmproj, missing, missingBytes: missing.reduce((n, f) => n + (f.bytes ?? f.approxBytes), 0) };
}
