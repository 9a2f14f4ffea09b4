import type { ArgsDef } from 'citty';

interface ArgLike {
  type?: string;
  description?: string;
  default?: unknown;
  valueHint?: string;
  required?: boolean;
}

function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/**
 * A command's help: usage line, description, options (wrapped, with defaults), examples.
 * Plain text, so it reads the same in a terminal, a pipe or a file.
 */
export function renderHelp(input: { usage: string; description: string; args: ArgsDef; examples?: string | undefined }): string {
  const columns = Math.max(60, Math.min(process.stdout.columns ?? 100, 110));
  const options = Object.entries(input.args as Record<string, ArgLike>).filter(([, a]) => a.type !== 'positional');
  const labels = options.map(([name, a]) => (a.type === 'boolean' ? `--${name}` : `--${name} <${a.valueHint ?? name.replace(/-/g, '_')}>`));
  const width = Math.min(34, Math.max(...labels.map((l) => l.length)) + 2);
  const lines = [`Usage: ${input.usage}`, '', wrap(input.description, columns, 0), '', 'Options:'];
  options.forEach(([, a], i) => {
    const label = labels[i] as string;
    const text = `${a.description ?? ''}${a.default !== undefined ? ` (default: ${String(a.default)})` : ''}${a.required ? ' (required)' : ''}`;
    const pad = label.length + 2 > width ? `\n${' '.repeat(width + 2)}` : ' '.repeat(width - label.length);
    lines.push(`  ${label}${pad}${wrap(text, columns - width - 2, width + 2)}`);
  });
  if (input.examples) lines.push('', input.examples);
  return lines.join('\n');
}

/** "Did you mean" hints live in core: the config loader uses them too. */
export { nearest } from '../core/nearest.js';
