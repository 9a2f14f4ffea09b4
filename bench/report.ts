/**
 * What a large report costs to write and to open.
 *
 *   npx tsx bench/report.ts [--images N] [--keep]
 *
 * Setup (not timed): N small PNG test images (64 x 64, default 2,000, each of its own
 * content so none is a duplicate of another), scored through the CLI against the loopback
 * OpenAI test server with no latency (`--method sample --samples 1`, concurrency 16).
 * Then, timed:
 *   - `quorum report RUN --db DB --out report.html` in a fresh process (node start-up
 *     included), wall clock until it exits;
 *   - the size of report.html;
 *   - the time until Chromium's load event when report.html is opened from disk
 *     (navigation timing `loadEventEnd`, a fresh page in an already started headless
 *     Debian chromium, `/usr/bin/chromium` or CHROMIUM_PATH).
 *
 * Targets (issue "Descriptive quality reports people look at"): report written < 10 s,
 * file < 30 MB, load event < 3 s. Prints each with PASS/FAIL and the load average; exit
 * code 1 when one fails. Needs the CLI built (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { QUORUM_BIN, runQuorum } from '../test/support/cli.js';
import { startOpenAIServer } from '../test/support/judge-server/index.js';
import { makeTestImage } from '../test/support/test-images.js';

const TARGET_WRITE_S = 10;
const TARGET_BYTES = 30e6; // 30 MB, decimal
const TARGET_LOAD_S = 3;
const RUN = 'bench-report';

const { values } = parseArgs({ options: { images: { type: 'string', default: '2000' }, keep: { type: 'boolean', default: false } } });
const count = Number(values.images);
if (!Number.isInteger(count) || count < 1) throw new RangeError(`Expected \`images\` to be an integer >= 1, got \`${values.images}\``);
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath}: install Debian's chromium or set CHROMIUM_PATH`);

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const dir = await mkdtemp(join(tmpdir(), 'quorum-bench-report-'));
const images = join(dir, 'images');
const db = join(dir, 'quorum.db');
const out = join(dir, 'report.html');

try {
  console.log(`${count} images, ${cpus().length} CPUs, load average ${load()}; folder ${dir}`);
  await mkdir(images);
  let start = performance.now();
  for (let i = 0; i < count; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, count - i) }, async (_, j) => {
        const n = i + j;
        const png = await makeTestImage({ quality: 1 + (4 * n) / Math.max(1, count - 1), seed: 1000 + n });
        await writeFile(join(images, `img-${String(n).padStart(5, '0')}.png`), png);
      }),
    );
  }
  console.log(`setup: images written in ${((performance.now() - start) / 1000).toFixed(1)} s`);

  const server = await startOpenAIServer({ latencyMs: 0 });
  // The request log keeps every body (images included): forget it as the run goes.
  const forget = setInterval(() => server.resetCounts(), 1000);
  start = performance.now();
  const scored = await runQuorum(
    ['score', images, '--judge', 'openai:sim-judge', '--base-url', server.url, '--method', 'sample', '--samples', '1', '--concurrency', '16', '--db', db, '--run', RUN, '--quiet', '--out', join(dir, 'scores.txt')],
    { cwd: dir, env: { OPENAI_API_KEY: 'sk-bench' }, timeoutMs: 600_000 },
  );
  clearInterval(forget);
  await server.close();
  if (scored.code !== 0) throw new Error(`quorum score exited ${scored.code}:\n${scored.stderr.slice(-2000)}`);
  console.log(`setup: scored in ${((performance.now() - start) / 1000).toFixed(1)} s`);

  // (1) The report, written by a fresh process.
  const loadBefore = load();
  start = performance.now();
  const reported = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [QUORUM_BIN, 'report', RUN, '--db', db, '--out', out], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
  const writeS = (performance.now() - start) / 1000;
  if (reported.code !== 0) throw new Error(`quorum report exited ${reported.code}:\n${reported.stderr.slice(-2000)}`);

  // (2) Its size.
  const bytes = statSync(out).size;

  // (3) Opened from disk: navigation start to the end of the load event.
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  let loadS: number;
  let rows: number;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load', timeout: 120_000 });
    // In the page: the DOM's Performance (this project compiles without lib "dom").
    const loadEventEnd = await page.evaluate(() => {
      const timing = (globalThis as unknown as { performance: { getEntriesByType(type: string): Array<{ loadEventEnd: number }> } }).performance;
      return timing.getEntriesByType('navigation')[0]?.loadEventEnd ?? Number.NaN;
    });
    loadS = loadEventEnd / 1000;
    rows = await page.locator('tr.item').count();
  } finally {
    await browser.close();
  }

  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const checks = [
    { what: 'report written (fresh process)', figure: `${writeS.toFixed(2)} s`, target: `< ${TARGET_WRITE_S} s`, ok: writeS < TARGET_WRITE_S },
    { what: 'report size', figure: `${(bytes / 1e6).toFixed(2)} MB`, target: `< ${TARGET_BYTES / 1e6} MB`, ok: bytes < TARGET_BYTES },
    { what: 'Chromium load event', figure: `${loadS.toFixed(2)} s`, target: `< ${TARGET_LOAD_S} s`, ok: loadS < TARGET_LOAD_S },
  ];
  console.log(`\nload average before the report: ${loadBefore}; after: ${load()}; rows in the page: ${rows} (of ${count})`);
  console.log('| measure | figure | target | verdict |');
  console.log('| --- | --- | --- | --- |');
  for (const c of checks) console.log(`| ${c.what} | ${c.figure} | ${c.target} | ${verdict(c.ok)} |`);
  if (rows !== count) console.log(`FAIL: the page shows ${rows} rows, not ${count}`);
  process.exitCode = checks.every((c) => c.ok) && rows === count ? 0 : 1;
} finally {
  if (values.keep) console.log(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
