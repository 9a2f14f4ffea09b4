/**
 * Paths the shell did not expand (quoted, or after `=`) still mean the home folder:
 * `--db=~/q.db`, `--out '~/s.json'`, `--prices '~/p.json'`, `llama:~/models/x.gguf`,
 * `--mmproj '~/...'`, `quorum models '~/models'`. And `quorum models` of a missing
 * folder is one line naming it, no stack trace.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { tinyModels, type TinyModels } from '../llama/fixtures.js';
import { lines, parseScores, spread, tempDir, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-paths';
let tmp: TempDir;
let server: JudgeServer;

beforeAll(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(2));
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  await tmp.cleanup();
});

it('--db=~/..., --out ~/... and --prices ~/... are files in HOME, not in a folder named ~', async () => {
  writeFileSync(tmp.path('prices.json'), JSON.stringify({ 'openai:sim': { input: 1, output: 1 } }));
  const r = await runQuorum(
    ['score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--method', 'sample', '--samples', '1',
      '--db=~/home.db', '--out', '~/scores.json', '--prices', '~/prices.json', '--format', 'json'],
    { cwd: tmp.dir, env: { OPENAI_API_KEY: KEY, HOME: tmp.dir } },
  );
  expect(r.code, r.stderr).toBe(0);
  expect(existsSync(tmp.path('~'))).toBe(false);
  expect(existsSync(tmp.path('home.db'))).toBe(true);
  expect(r.stderr).toContain(`db ${tmp.path('home.db')}`);
  const scores = parseScores(readFileSync(tmp.path('scores.json'), 'utf8'));
  expect(scores.map((s) => s.status)).toEqual(['ok', 'ok']);
});

describe('local models under ~', () => {
  let m: TinyModels;
  let images: string;
  beforeAll(async () => {
    m = tinyModels();
    images = join(m.dir, 'images');
    mkdirSync(images);
    const png = await sharp({ create: { width: 40, height: 32, channels: 3, background: { r: 60, g: 120, b: 200 } } }).png().toBuffer();
    writeFileSync(join(images, 'img.png'), png);
  });
  afterAll(() => m.cleanup());

  it('llama:~/model.gguf with --mmproj ~/projector.gguf scores', async () => {
    const r = await runQuorum(
      ['score', images, '--judge', 'llama:~/tiny.gguf', '--mmproj', '~/mmproj-tiny.gguf', '--threads', '1', '--method', 'levels',
        '--db', join(m.dir, 'q.db'), '--format', 'json'],
      { env: { HOME: m.dir }, timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(parseScores(r.stdout).map((s) => s.status)).toEqual(['ok']);
  });

  it('quorum models ~ lists the folder; a missing folder is one line naming it', async () => {
    const listed = await runQuorum(['models', '~', '--format', 'json'], { env: { HOME: m.dir } });
    expect(listed.code, listed.stderr).toBe(0);
    const models = JSON.parse(listed.stdout) as { path: string; kind: string }[];
    expect(models.map((x) => [x.path, x.kind])).toEqual(
      readdirSync(m.dir).filter((f) => f.endsWith('.gguf')).sort().map((f) => [join(m.dir, f), f.startsWith('mmproj') ? 'projector' : 'text']),
    );

    const missing = join(m.dir, 'no-such-folder');
    const r = await runQuorum(['models', missing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([`error: ${missing}: no such folder`]);
  });
});
