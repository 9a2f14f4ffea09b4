/**
 * Label files as rows of named cells: CSV (RFC 4180 quoting, `,` `;` or tab chosen from
 * the header line) and JSON Lines. Header names are compared lower-cased and trimmed.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';

export interface Table {
  file: string;
  /** Header names as written. */
  columns: string[];
  /** One object per data row, keyed by lower-cased header name; cells as text. */
  rows: Record<string, string>[];
  /** Line number (1-based) of each row, for messages. */
  lines: number[];
}

/** Splits CSV text into records of cells; quotes may hold separators and newlines. */
function parseCsv(text: string, separator: string): { cells: string[]; line: number }[] {
  const records: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((v) => v.trim() !== '')) records.push({ cells, line: start });
      cells = [];
      cell = '';
      line++;
      start = line;
    } else cell += c;
  }
  cells.push(cell);
  if (cells.some((v) => v.trim() !== '')) records.push({ cells, line: start });
  return records;
}

/** Reads a CSV (with a header line) or a `.jsonl` file. A file that cannot be read is an `InputError`. */
export async function readTable(file: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'label file not found' : String((error as Error).message), { cause: error });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return /\.jsonl?$/i.test(file) ? jsonLines(file, text) : csvTable(file, text);
}

function csvTable(file: string, text: string): Table {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const separator = [',', ';', '\t'].reduce((best, s) => (firstLine.split(s).length > firstLine.split(best).length ? s : best), ',');
  const [header, ...records] = parseCsv(text, separator);
  if (!header) throw new InputError(file, 'is empty (expected a header line and rows)');
  const columns = header.cells.map((c) => c.trim());
  const keys = columns.map((c) => c.toLowerCase());
  return {
    file,
    columns,
    rows: records.map((r) => Object.fromEntries(keys.map((k, i) => [k, (r.cells[i] ?? '').trim()]))),
    lines: records.map((r) => r.line),
  };
}

function jsonLines(file: string, text: string): Table {
  const rows: Record<string, string>[] = [];
  const lines: number[] = [];
  const columns = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InputError(file, `line ${i + 1} is not JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(file, `line ${i + 1} is not a JSON object`);
    const row: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      columns.set(k.toLowerCase(), k);
      row[k.toLowerCase()] = v === null || v === undefined ? '' : String(v);
    }
    rows.push(row);
    lines.push(i + 1);
  });
  return { file, columns: [...columns.values()], rows, lines };
}
