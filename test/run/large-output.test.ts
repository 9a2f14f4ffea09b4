/**
 * Outputs of dataset size: the default table of 200,000 images prints (a spread of every
 * row into Math.max overflowed the stack at about 125,000 rows, after every call was paid);
 * `show --calls` prints a run of any size in bounded memory.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { cleanEnv, QUORUM_BIN } from '../support/cli.js';
import { tempDir } from '../scoring/_support.js';
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

const PROBE = fileURLToPath(new URL('./_peak-rss.mjs', import.meta.url));

/** A run of `count` answered calls, each with a raw answer of `rawBytes`, in a new database. */
function runOfCalls(file: string, count: number, rawBytes: number): void {
  const store = Store.open(file);
  store.putJudge({ id: 'j', provider: 'openai', model: 'sim', identity: {} });
  store.putPrompt({ hash: 'p', id: 'quality-score', version: 1, kind: 'sample', text: '{}' });
  const runId = store.openRun({ name: 'big', command: 'score', args: [], options: {}, version: '0' }).run.id;
  const raw = `<answer>3</answer>${'x'.repeat(rawBytes)}`;
  const at = new Date(0).toISOString();
  for (let start = 0; start < count; start += 1000) {
    store.recordCalls(
      Array.from({ length: Math.min(1000, count - start) }, (_, i) => ({
        ...{ cacheKey: `k${start + i}`, runId, judgeId: 'j', promptHash: 'p', imageHashes: [`h${start + i}`], sampleIndex: 0 },
        ...{ params: { method: 'sample' }, requestId: null, choiceIndex: 0, raw, parsed: { score: 3 }, logprobs: null, status: 'ok' as const },
        ...{ error: null, failure: null, inputTokens: 1, outputTokens: 1, costUsd: null, latencyMs: 1, attempts: 1, meta: null },
        ...{ startedAt: at, finishedAt: at },
      })),
    );
  }
  store.close();
}

/** `quorum show big --calls` in a fresh process: the lines it printed and its peak resident set, MiB. */
async function showCalls(db: string): Promise<{ lines: number; peakMiB: number }> {
  const child = spawn(process.execPath, ['--import', PROBE, QUORUM_BIN, 'show', 'big', '--calls', '--db', db], { env: cleanEnv() });
  let lines = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines++;
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number];
  expect(code, stderr).toBe(0);
  const peak = /peak-rss-kib (\d+)/.exec(stderr);
  return { lines, peakMiB: Number(peak?.[1]) / 1024 };
}

it('show --calls streams: four times the calls (90 MB more answers) take about the same memory', async () => {
  const tmp = await tempDir();
  try {
    runOfCalls(tmp.path('small.db'), 5_000, 6000);
    runOfCalls(tmp.path('large.db'), 20_000, 6000);
    const small = await showCalls(tmp.path('small.db'));
    const large = await showCalls(tmp.path('large.db'));
    expect([small.lines, large.lines]).toEqual([5_000, 20_000]);
    // Held in memory, the 15,000 extra calls would be at least their 90 MB of raw text.
    expect(large.peakMiB - small.peakMiB, `peak ${small.peakMiB.toFixed(0)} MiB, then ${large.peakMiB.toFixed(0)} MiB`).toBeLessThan(60);
  } finally {
    await tmp.cleanup();
  }
}, 120_000);
