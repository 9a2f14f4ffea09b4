import { access, readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type * as z from 'zod';
import { ConfigFileError } from '../core/errors.js';
import { loadZod } from '../core/zod.js';
import { nearest } from '../core/nearest.js';
import { keyPathText, lineOf, yaml, type ConfigSource } from './_locate.js';
import { ConfigFile, Endpoint, JudgeEngineOptions, JudgeEntry, JudgeSpec, panelReferences } from './schema.js';

/** The names looked for in the working directory, in this order. */
export const CONFIG_NAMES = ['quorum.config.yaml', 'quorum.config.yml', 'quorum.config.json'] as const;

/** A loaded, validated configuration file. */
export interface LoadedConfig {
  /** The file as named in messages. */
  file: string;
  /** Absolute folder of the file: relative paths in it (prompts, projectors) start here. */
  dir: string;
  data: ConfigFile;
  source: ConfigSource;
}

/**
 * Validates one section of a loaded file with a zod schema and returns the parsed value;
 * any issue becomes one `ConfigFileError` line naming file, line and key path. The hook
 * features use for their own sections (the panels feature validates `panels` with it).
 * @example
 * const panels = validateConfigSection(config.source, ['panels'], PanelsSchema);
 */
export function validateConfigSection<S extends z.ZodType>(source: ConfigSource, keyPath: readonly PropertyKey[], schema: S): z.output<S> {
  let value: unknown = source.doc.toJS();
  for (const segment of keyPath) value = (value as Record<PropertyKey, unknown> | undefined)?.[segment];
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  let path = [...keyPath, ...issue.path];
  let reason: string;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] as string;
    const parent = path;
    path = [...parent, key];
    const known = (shapeAt(parent) ?? []).filter((k) => k !== key);
    const guess = nearest(key, known);
    reason = `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : known.length ? ` (known: ${known.join(', ')})` : ''}`;
  } else if (issue.code === 'invalid_type' && issue.input === undefined) {
    reason = `missing (required: ${issue.expected})`;
  } else if (issue.code === 'invalid_type') {
    reason = `expected ${issue.expected}, got ${describe(issue.input)}`;
  } else if (issue.code === 'too_small') {
    const unit = issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : '';
    reason = `expected ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}${unit}, got ${describe(issue.input)}`;
  } else if (issue.code === 'too_big') {
    const unit = issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : '';
    reason = `expected ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}${unit}, got ${describe(issue.input)}`;
  } else reason = issue.message;
  throw new ConfigFileError(source.file, lineOf(source, path), keyPathText(path), reason);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Keys of the strict objects of the schema, by their place in the file. */
function shapeAt(path: readonly PropertyKey[]): string[] | undefined {
  const top = Object.keys(ConfigFile().shape);
  if (path.length === 0) return top;
  if (path[0] !== 'judges') return undefined;
  if (path.length === 2) return Object.keys(JudgeEntry().shape);
  if (path.length === 3 && path[2] === 'options') return Object.keys(JudgeEngineOptions().shape);
  if (path.length === 3 && path[2] === 'price') return Object.keys(JudgeEntry().shape.price.unwrap().shape);
  if (path.length === 4 && path[2] === 'endpoints') return Object.keys(Endpoint().shape);
  return undefined;
}

/** Line of a character offset (1-based), for JSON.parse's `position N`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Parses config text (YAML, or JSON, which is YAML 1.2 but checked strictly as JSON first)
 * keeping node positions, and validates it. Every error is one `ConfigFileError` line.
 */
export function parseConfig(text: string, file: string, dir: string): LoadedConfig {
  if (extname(file).toLowerCase() === '.json') {
    try {
      JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message;
      const position = /position (\d+)/.exec(message);
      const line = position ? lineAt(text, Number(position[1])) : /line (\d+)/.exec(message)?.[1];
      throw new ConfigFileError(file, line === undefined ? undefined : Number(line), '', `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
    }
  }
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const bad = doc.errors[0];
  if (bad) {
    const at = bad.linePos?.[0]?.line ?? lines.linePos(bad.pos[0]).line;
    throw new ConfigFileError(file, at, '', `invalid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${bad.message.split('\n')[0]}`);
  }
  const source: ConfigSource = { file, doc, lines };
  if (doc.contents === null) return { file, dir, data: {}, source };
  const data = validateConfigSection(source, [], ConfigFile());
  const names = Object.keys(data.judges ?? {});
  if (data.panels) validateConfigSection(source, ['panels'], panelReferences(names));
  if (data.judge !== undefined && !names.includes(data.judge) && !data.judge.includes(':')) {
    const guess = nearest(data.judge, names);
    throw new ConfigFileError(file, lineOf(source, ['judge']), 'judge', `unknown judge "${data.judge}"${guess ? ` (did you mean "${guess}"?)` : ''}; give a name from judges or provider:model`);
  }
  if (data.judge?.includes(':')) validateConfigSection(source, ['judge'], JudgeSpec());
  return { file, dir, data, source };
}

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * Finds and loads the configuration: `explicit` (from `--config`; an error when missing),
 * else the first of `CONFIG_NAMES` in `cwd`, else `undefined` (no file is fine).
 */
export async function loadConfig(input: { explicit?: string | undefined; cwd: string }): Promise<LoadedConfig | undefined> {
  let path: string | undefined;
  let shown: string;
  if (input.explicit !== undefined) {
    path = isAbsolute(input.explicit) ? input.explicit : resolve(input.cwd, input.explicit);
    shown = input.explicit;
    if (!(await exists(path))) throw new ConfigFileError(shown, undefined, '', 'no such file (given with --config)');
  } else {
    for (const name of CONFIG_NAMES) {
      if (await exists(join(input.cwd, name))) {
        path = join(input.cwd, name);
        break;
      }
    }
    if (path === undefined) return undefined;
    shown = basename(path);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(shown, undefined, '', `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  await loadZod();
  return parseConfig(text, shown, dirname(path));
}

/** A named judge with where it was defined, for messages that must point at it. */
export interface NamedJudge {
  name: string;
  entry: JudgeEntry;
  config: LoadedConfig;
}

/** The line of `judges.<name>.<key>` (or of the judge itself), for errors found after validation. */
export function judgeLine(judge: NamedJudge, key?: string): number | undefined {
  return lineOf(judge.config.source, ['judges', judge.name, ...(key ? [key] : [])]);
}
