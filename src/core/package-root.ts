import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * Quorum's own folder (the one holding its package.json), found by walking up from the
 * module's own file. The CLI runs from a bundle (`dist/cli-bundle/`), the library from
 * `dist/`, the tests from `src/`: files that ship beside the code (the `bin` script, the
 * llama engine's child script) are named from here, never relative to one module.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'quorum') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`Quorum's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
