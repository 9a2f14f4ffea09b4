/**
 * Every input is accounted for, in every output format: scored images, unreadable files
 * as `error` with the reason, images a budget left as `not-run`. A folder without images
 * is an error that says what was found. A run name never mixes two configurations.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { spread, tempDir, writeImages, type TempDir } from '../scoring/_support.js';

const KEY = 'sk-ant-test-accounting';
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(8));
  await writeFile(join(tmp.images, 'broken.png'), Buffer.from('not a picture at all'));
  // USD 1000 per million tokens both ways: one call costs about USD 0.16.
  await writeFile(tmp.path('prices.json'), JSON.stringify({ 'anthropic:sim': { input: 1000, output: 1000 } }));
  server = await startAnthropicServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

function score(args: string[], inputs: string[] = [tmp.images]) {
  return runQuorum(['score', ...inputs, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', '1', ...args], {
    env: { ANTHROPIC_API_KEY: KEY },
  });
}

it.each(['json', 'jsonl', 'csv', 'table'] as const)('%s lists every file with its status: ok, error with the reason, not-run under --max-cost', async (format) => {
  const db = tmp.path(`formats-${format}.db`);
  const budget = ['--prices', tmp.path('prices.json'), '--max-cost', '1.5', '--samples', '2', '--concurrency', '1', '--db', db];
  const r = await score([...budget, '--format', format]);
  expect(r.code).toBe(1);
  const rows = new Map<string, { status: string; detail: string }>();
  if (format === 'json' || format === 'jsonl') {
    const items = (format === 'json' ? JSON.parse(r.stdout) : r.stdout.trim().split('\n').map((l) => JSON.parse(l))) as {
      path: string;
      status: string;
      errors: string[];
    }[];
    for (const i of items) rows.set(i.path.split('/').pop()!, { status: i.status, detail: i.errors.join('; ') });
  } else if (format === 'csv') {
    const [header, ...lines] = r.stdout.trim().split('\n');
    const cols = header!.split(',');
    for (const line of lines) {
      const cells = csvCells(line);
      rows.set(cells[cols.indexOf('path')]!.split('/').pop()!, { status: cells[cols.indexOf('status')]!, detail: cells.at(-1)! });
    }
  } else {
    for (const line of r.stdout.trim().split('\n').slice(2)) {
      const cells = line.split(/\s{2,}/);
      rows.set(cells[0]!.split('/').pop()!, { status: cells[4]!, detail: cells[5] ?? '' });
    }
  }
  expect(rows.size, r.stdout).toBe(9);
  expect(rows.get('broken.png')).toEqual({ status: 'error', detail: expect.stringMatching(/not a readable image/) });
  const statuses = [...rows.values()].map((v) => v.status);
  const scored = statuses.filter((s) => s === 'ok' || s === 'partial').length;
  const notRun = [...rows.values()].filter((v) => v.status === 'not-run');
  expect(scored).toBeGreaterThan(0);
  expect(notRun.length).toBeGreaterThan(0);
  expect(scored + notRun.length + 1).toBe(9);
  for (const v of notRun) expect(v.detail).toMatch(/not run: --max-cost reached/);
});

it('the stored run lists the same statuses: `quorum show` prints not-run and error items too', async () => {
  const db = tmp.path('show.db');
  const r = await score(['--prices', tmp.path('prices.json'), '--max-cost', '1.5', '--samples', '2', '--concurrency', '1', '--db', db, '--run', 'budgeted', '--format', 'json']);
  expect(r.stdout).toMatch(/"not-run"/);
  const printed = (JSON.parse(r.stdout) as { path: string; status: string }[]).map((i) => [i.path, i.status]).sort();
  const shown = await runQuorum(['show', 'budgeted', '--db', db, '--format', 'json']);
  expect(shown.code, shown.stderr).toBe(0);
  expect((JSON.parse(shown.stdout) as { path: string; status: string }[]).map((i) => [i.path, i.status]).sort()).toEqual(printed);
});

it('a folder with no images exits 1 and says what it found', async () => {
  const empty = tmp.path('no-images');
  await mkdir(empty);
  await writeFile(join(empty, 'notes.txt'), 'hello');
  await writeFile(join(empty, 'data.csv'), 'a,b');
  const r = await score(['--db', tmp.path('empty.db')], [empty]);
  expect(r.code).toBe(1);
  expect(r.stderr.split('\n')).toContain(`error: no images found in ${empty} (skipped 2 non-image files)`);
  const none = tmp.path('nothing');
  await mkdir(none);
  expect((await score(['--db', tmp.path('empty.db')], [none])).stderr.split('\n')).toContain(`error: no images found in ${none}`);
});

it('--run NAME that holds another configuration is refused; --new starts it afresh and keeps the old one', async () => {
  const db = tmp.path('names.db');
  const folder = tmp.path('two');
  await mkdir(folder);
  await writeImages(folder, spread(2));
  const score = (args: string[]) => runQuorum(['score', folder, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', '1', ...args], {
    env: { ANTHROPIC_API_KEY: KEY },
  });
  const first = await score(['--db', db, '--run', 'exp', '--format', 'json']);
  expect(first.code, first.stderr).toBe(0);

  const other = await score(['--db', db, '--run', 'exp', '--samples', '2', '--format', 'json']);
  expect(other.code).toBe(1);
  expect(other.stderr).toMatch(/^error: Run `exp` already holds samples 1 \(now 2\)\. Use --run exp --new to start it afresh \(the old run is kept as exp~1\), or another --run name\.$/m);
  expect(other.stdout).toBe('');

  const compare = await runQuorum(
    ['compare', folder, folder, '--judge', 'anthropic:sim', '--base-url', server.url, '--db', db, '--run', 'exp'],
    { env: { ANTHROPIC_API_KEY: KEY } },
  );
  expect(compare.code).toBe(1);
  expect(compare.stderr).toMatch(/^error: Run `exp` already holds a `quorum score` run\./m);

  const fresh = await score(['--db', db, '--run', 'exp', '--samples', '2', '--new', '--format', 'json']);
  expect(fresh.code, fresh.stderr).toBe(0);
  expect(fresh.stderr).toMatch(/^the earlier run named exp is kept as exp~1$/m);
  const runs = JSON.parse((await runQuorum(['runs', '--db', db, '--format', 'json'])).stdout) as { name: string; options: { samples: number } }[];
  expect(runs.map((x) => [x.name, x.options.samples])).toEqual([
    ['exp~1', 1],
    ['exp', 2],
  ]);

  // The same configuration resumes, and makes no new calls.
  const before = server.calls;
  const again = await score(['--db', db, '--run', 'exp', '--samples', '2', '--format', 'json']);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toMatch(/^run exp \(resumed\)/m);
  expect(server.calls).toBe(before);
});

/** The cells of one CSV line (RFC 4180 quoting). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') cells.push(cell), (cell = '');
    else cell += c;
  }
  cells.push(cell);
  return cells;
}

it('compare lists every matched pair: an unreadable image makes its pair an error, in json and csv', async () => {
  const a = tmp.path('sys-a');
  const b = tmp.path('sys-b');
  await mkdir(a);
  await mkdir(b);
  await writeImages(a, spread(3, 'scene'));
  await writeImages(b, spread(3, 'scene'));
  await writeFile(join(b, 'scene-01.png'), Buffer.from('truncated'));
  const args = ['compare', a, b, '--judge', 'anthropic:sim', '--base-url', server.url, '--samples', '1', '--db', tmp.path('compare.db')];
  const json = await runQuorum([...args, '--format', 'json'], { env: { ANTHROPIC_API_KEY: KEY } });
  expect(json.code).toBe(1);
  const pairs = (JSON.parse(json.stdout) as { pairs: { key: string; status: string; errors: string[] }[] }).pairs;
  expect(pairs.map((p) => [p.key, p.status])).toEqual([
    ['scene-00', 'ok'],
    ['scene-01', 'error'],
    ['scene-02', 'ok'],
  ]);
  expect(pairs[1]!.errors).toEqual([expect.stringMatching(/scene-01\.png: not a readable image/)]);
  const csv = await runQuorum([...args, '--format', 'csv'], { env: { ANTHROPIC_API_KEY: KEY } });
  expect(csv.stdout.split('\n').slice(1, 4).map((l) => csvCells(l).slice(0, 2))).toEqual([
    ['scene-00', 'ok'],
    ['scene-01', 'error'],
    ['scene-02', 'ok'],
  ]);
});
