/** `quorum score --calibration NAME`: each image's predicted human score with its conformal interval. */
import type { ImageScore } from '../judges/score.js';
import { imageJson, textTable } from '../report/format.js';
import { calibrate, type CalibratedScore, type CalibrationModel } from './calibration-model.js';

function calibratedOf(r: ImageScore, model: CalibrationModel, coverage: number): CalibratedScore | null {
  if (r.score === null) return null;
  if (model.scaled && r.std === null) return null;
  return calibrate(model, r.score, r.std, coverage);
}

export function* calibratedChunks(
  results: readonly ImageScore[],
  model: CalibrationModel,
  coverage: number,
  name: string,
  format: 'table' | 'json' | 'jsonl' | 'csv',
): Generator<string> {
  const rows = results.map((r) => ({ r, c: calibratedOf(r, model, coverage) }));
  const f = (v: number | undefined) => (v === undefined ? '' : v.toFixed(3));
  if (format === 'table') {
    const pct = `${Math.round(coverage * 100)}%`;
    yield `${textTable(
      ['path', 'judge score', `predicted human (${name})`, `${pct} interval`, 'status'],
      rows.map(({ r, c }) => [r.path, r.score === null ? '-' : r.score.toFixed(2), c ? f(c.predicted) : '-', c ? `[${f(c.lower)}, ${f(c.upper)}]` : '-', r.status]),
    )}\n`;
    return;
  }
  if (format === 'csv') {
    yield 'path,score,predicted,lower,upper,coverage,status\n';
    for (const { r, c } of rows) yield `${JSON.stringify(r.path)},${r.score ?? ''},${f(c?.predicted)},${f(c?.lower)},${f(c?.upper)},${coverage},${r.status}\n`;
    return;
  }
  const objects = rows.map(({ r, c }) => ({ ...imageJson(r), calibrated: c ? { calibration: name, ...c } : null }));
  if (format === 'jsonl') for (const o of objects) yield `${JSON.stringify(o)}\n`;
  else yield `${JSON.stringify(objects, null, 2)}\n`;
}
