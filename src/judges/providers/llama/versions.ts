/** Installed versions of the engine packages, read from their package.json files. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cache = new Map<string, string>();

/** `name@version` of an installed package, found by walking up from this module's folder. */
export function packageVersion(name: string): string {
  const known = cache.get(name);
  if (known) return known;
  let dir = dirname(fileURLToPath(import.meta.url));
  let version = 'unknown';
  for (;;) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) {
      version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
      break;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const id = `${name}@${version}`;
  cache.set(name, id);
  return id;
}

export const TEXT_ENGINE_PACKAGE = 'node-llama-cpp';
export const IMAGE_ENGINE_PACKAGE = '@fugood/llama.node';
