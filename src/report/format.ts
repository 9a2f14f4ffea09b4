import type { ImageScore } from '../judges/score.js';

export type OutputFormat = 'table' | 'json' | 'jsonl' | 'csv';

const fixed = (v: number | null, digits = 2): string => (v === null ? '-' : v.toFixed(digits));

export function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Renders rows as an aligned text table (no colour: it may be piped). */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...column): spreading 125k rows as arguments overflows the stack.
  const widths = header.map((h) => h.length);
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function oneLine(text: string | null, max: number): string {
  if (!text) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The JSON object printed per image (stable field order for scripts). */
export function imageJson(r: ImageScore): Record<string, unknown> {
  return {
    path: r.path,
    sha256: r.sha256,
    score: r.score,
    std: r.std,
    samples: r.samples,
    levels: r.levels,
    coverage: r.coverage,
    reasoning: r.reasoning,
    distortions: r.distortions,
    method: r.method,
    ok: r.okCalls,
    failed: r.failedCalls,
    cached: r.cachedCalls,
    status: r.status,
    errors: r.errors,
    ...(r.anchorPreferences ? { anchorPreferences: r.anchorPreferences } : {}),
    ...(r.duplicateOf ? { duplicateOf: r.duplicateOf } : {}),
  };
}

export function formatScores(results: readonly ImageScore[], format: OutputFormat): string {
  return [...scoreChunks(results, format)].join('');
}

/**
 * The scores in `format`, a row at a time: a run of a million images is written without
 * building one string of all of it (the table, whose column widths need every row, is
 * the exception).
 */
export function* scoreChunks(results: readonly ImageScore[], format: OutputFormat): Generator<string> {
  switch (format) {
    case 'json': {
      // The same text as JSON.stringify(results, null, 2), one image at a time.
      if (results.length === 0) {
        yield '[]\n';
        return;
      }
      yield '[\n';
      for (const [i, r] of results.entries()) {
        const item = JSON.stringify(imageJson(r), null, 2).replace(/\n/g, '\n  ');
        yield `  ${item}${i < results.length - 1 ? ',' : ''}\n`;
      }
      yield ']\n';
      return;
    }
    case 'jsonl':
      for (const r of results) yield `${JSON.stringify(imageJson(r))}\n`;
      return;
    case 'csv': {
      yield 'path,sha256,score,std,samples,coverage,method,ok,failed,status,reasoning,errors\n';
      for (const r of results) {
        yield `${[r.path, r.sha256, r.score, r.std, r.samples.join(' '), r.coverage, r.method, r.okCalls, r.failedCalls, r.status, r.reasoning, r.errors.join('; ')]
          .map(csvCell)
          .join(',')}\n`;
      }
      return;
    }
    case 'table': {
      const rows = results.map((r) => [
        r.path,
        fixed(r.score),
        fixed(r.std),
        `${r.okCalls}/${r.okCalls + r.failedCalls}`,
        r.status,
        r.score === null ? oneLine(r.errors.join('; '), 70) : oneLine(r.reasoning ?? levelsText(r), 70),
      ]);
      yield `${textTable(['image', 'score', 'std', 'ok', 'status', 'reasoning'], rows)}\n`;
    }
  }
}

function levelsText(r: ImageScore): string | null {
  if (!r.levels) return null;
  const top = Object.entries(r.levels).sort((a, b) => b[1] - a[1]).slice(0, 2);
  const coverage = r.coverage !== null && r.coverage < 0.5 ? ` (LOW level coverage ${fixed(r.coverage)})` : '';
  return `${top.map(([k, p]) => `${k} ${(p * 100).toFixed(0)}%`).join(', ')}${coverage}`;
}
