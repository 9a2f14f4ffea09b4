import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import { loadZod } from '../core/zod.js';
import { builtinTemplates } from './builtin.js';
import { defineTemplate, type PromptTemplate, type TemplateSpec } from './template.js';

/**
 * Reads a user template. Two formats (docs/prompts.md):
 * - `.json`: an object with the template fields;
 * - Markdown: a `---` front matter of `key: value` lines (`levels` and `weights` are
 *   comma-separated lists, `range` is `min, max`), then `## system` and `## user` sections.
 */
export async function loadTemplateFile(path: string): Promise<PromptTemplate> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`Prompt template ${path}: cannot read it (${(cause as NodeJS.ErrnoException).code ?? cause})`, { cause });
  }
  await loadZod();
  try {
    const spec = path.endsWith('.json') ? (JSON.parse(text) as TemplateSpec) : parseMarkdownTemplate(text);
    return defineTemplate(spec, path);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.replace(/\s+/g, ' ') : String(cause);
    throw new ConfigError(`Prompt template ${path}: ${reason}`, { cause });
  }
}

function parseMarkdownTemplate(text: string): TemplateSpec {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!match) throw new Error('expected a front matter block between `---` lines at the top');
  const fields: Record<string, unknown> = {};
  for (const line of (match[1] ?? '').split(/\r?\n/)) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`front matter line without \`key: value\`: ${line}`);
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'version') fields[key] = Number(value);
    else if (key === 'levels') fields[key] = value.split(',').map((s) => s.trim());
    else if (key === 'weights' || key === 'range') fields[key] = value.split(',').map((s) => Number(s.trim()));
    else fields[key] = value;
  }
  const sections = new Map<string, string>();
  let current: string | undefined;
  const lines: string[] = [];
  const flush = () => {
    if (current) sections.set(current, lines.join('\n').trim());
    lines.length = 0;
  };
  for (const line of (match[2] ?? '').split(/\r?\n/)) {
    const heading = /^##\s+(system|user)\s*$/i.exec(line);
    if (heading) {
      flush();
      current = (heading[1] ?? '').toLowerCase();
    } else if (current) lines.push(line);
  }
  flush();
  if (!sections.has('user')) throw new Error('expected a `## user` section');
  return { ...(fields as TemplateSpec), system: sections.get('system') ?? '', user: sections.get('user') ?? '' };
}

/** A built-in template by id (`quality-score` or `quality-score@1`), or a template file. */
export async function resolveTemplate(nameOrPath: string): Promise<PromptTemplate> {
  const [id, version] = nameOrPath.split('@');
  const builtin = builtinTemplates.find((t) => t.id === id && (version === undefined || String(t.version) === version));
  if (builtin) return builtin;
  if (/[/\\.]/.test(nameOrPath)) return loadTemplateFile(nameOrPath);
  throw new ConfigError(
    `Unknown prompt template \`${nameOrPath}\`; built-in ones are ${builtinTemplates.map((t) => t.id).join(', ')}, or give a file path`,
  );
}
