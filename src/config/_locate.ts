import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';

let yamlModule: typeof import('yaml') | undefined;

/**
 * The yaml package, loaded on first use (34 modules): most commands find no config file
 * and never parse one, so their start-up does not pay for it.
 */
export function yaml(): typeof import('yaml') {
  return (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}

/** A parsed config file with what is needed to point at its lines. */
export interface ConfigSource {
  /** The file as the user named it (or its base name when found in the working directory). */
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** `judges.fast.judge`, `panels.p.neurons[2].judge`. */
export function keyPathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

/**
 * The 1-based line of a key path: the key itself where it exists (a mapping key, an array
 * element), else the deepest enclosing key that does (a missing required key points at
 * its parent's line).
 */
export function lineOf(source: ConfigSource, path: readonly PropertyKey[]): number | undefined {
  const { isMap, isScalar, isSeq } = yaml();
  let node: unknown = source.doc.contents;
  let offset = (node as { range?: [number, number, number] } | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
      if (!pair) break;
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset === undefined ? undefined : source.lines.linePos(offset).line;
}
