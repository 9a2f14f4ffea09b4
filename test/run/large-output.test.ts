/**
 * Outputs of dataset size: the default table of 200,000 images prints (a spread of every
 * row into Math.max overflowed the stack at about 125,000 rows, after every call was paid).
 */
import { expect, it } from 'vitest';
import { unscored } from '../../src/judges/score.js';
import { formatScores, imageJson, scoreChunks } from '../../src/report/format.js';

it('a table of 200,000 scored images prints, one line per image, aligned', () => {
  const rows = Array.from({ length: 200_000 }, (_, i) => ({
    ...unscored(`/data/img-${i}.png`, 'a'.repeat(64), 'sample' as const),
    status: 'ok' as const,
    score: 3.25,
    samples: [3.25],
    okCalls: 1,
    reasoning: 'fine',
  }));
  const lines = formatScores(rows, 'table').trimEnd().split('\n');
  expect(lines).toHaveLength(200_002);
  expect(lines.at(-1)).toMatch(/^\/data\/img-199999\.png\s+3\.25\s+-\s+1\/1\s+ok\s+fine$/);
  // The longest path sets the first column's width for every row.
  expect(lines[2]!.indexOf('3.25')).toBe(lines.at(-1)!.indexOf('3.25'));
});

it('json, jsonl and csv are written a row at a time and read the same as before', () => {
  const rows = Array.from({ length: 3 }, (_, i) => ({
    ...unscored(`/data/"odd"\n,name-${i}.png`, null, 'levels' as const),
    status: i === 1 ? ('error' as const) : ('ok' as const),
    errors: i === 1 ? ['not a readable image'] : [],
    levels: { excellent: 0.5, good: 0.5 },
  }));
  expect(formatScores(rows, 'json')).toBe(`${JSON.stringify(rows.map(imageJson), null, 2)}\n`);
  expect(formatScores([], 'json')).toBe('[]\n');
  expect([...scoreChunks(rows, 'jsonl')]).toHaveLength(3);
  const csv = [...scoreChunks(rows, 'csv')];
  expect(csv).toHaveLength(4);
  expect(csv[0]).toBe('path,sha256,score,std,samples,coverage,method,ok,failed,status,reasoning,errors\n');
});
