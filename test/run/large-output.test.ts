/**
 * Outputs of dataset size: the default table of 200,000 images prints (a spread of every
 * row into Math.max overflowed the stack at about 125,000 rows, after every call was paid).
 */
import { expect, it } from 'vitest';
import { unscored } from '../../src/judges/score.js';
import { formatScores } from '../../src/report/format.js';

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
