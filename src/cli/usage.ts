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

/** Edit distance with adjacent transpositions (optimal string alignment), for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to a mistyped name, if it is close enough to be the likely
 * intent: at most a third of its letters wrong (`scroe` -> `score`, `sample` -> `samples`).
 *
 * @example
 * nearest('scroe', ['score', 'compare', 'rank']) // => 'score'
 */
export function nearest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}
