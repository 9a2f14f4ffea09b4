/**
 * The CLI writes stdout and stderr straight to their descriptors (src/cli/output.ts), so a
 * short command never loads Node's stream modules. Nothing may be lost or reordered for it:
 * to a file, to /dev/null, to a pipe whose reader is slow, and to a non-blocking pipe
 * that fills up (where the writer hands over to Node's stream).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'quorum-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OUTPUT = pathToFileURL(join(REPO_ROOT, 'dist', 'cli', 'output.js')).href;
const LINES = 20_000;
const expected = Array.from({ length: LINES }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}\n`).join('');

/**
 * A child that writes LINES lines through DirectOutput in chunks of 100, waiting for
 * `drain` when asked, then reports on stderr whether Node's stream took over. With `nonBlocking`, it touches process.stdout first: for a pipe,
 * Node then makes the descriptor non-blocking, so a full pipe answers EAGAIN.
 */
function writer(nonBlocking: boolean): string {
  return `
    import { DirectOutput } from ${JSON.stringify(OUTPUT)};
    ${nonBlocking ? 'process.stdout;' : ''}
    let streamed = false;
    const out = new DirectOutput(1, () => { streamed = true; return process.stdout; }, () => process.exit(3));
    const lines = Array.from({ length: ${LINES} }, (_, i) => \`line \${i} \${'x'.repeat(i % 97)}\\n\`);
    for (let i = 0; i < lines.length; i += 100) {
      if (!out.write(lines.slice(i, i + 100).join(''))) await new Promise((resolve) => out.once('drain', resolve));
    }
    await out.flushed();
    process.stderr.write(JSON.stringify({ streamed }));
  `;
}

function runWriter(nonBlocking: boolean, stdout: 'pipe' | number, pauseMs = 0): Promise<{ out: string; report: { streamed: boolean }; code: number | null }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', writer(nonBlocking)], { stdio: ['ignore', stdout, 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const chunks: Buffer[] = [];
  if (child.stdout) {
    child.stdout.pause();
    setTimeout(() => {
      child.stdout!.on('data', (d: Buffer) => chunks.push(d));
      child.stdout!.resume();
    }, pauseMs);
  }
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      try {
        resolve({ out: Buffer.concat(chunks).toString(), report: JSON.parse(err) as { streamed: boolean }, code });
      } catch (error) {
        reject(new Error(`writer failed (${code}): ${err}`, { cause: error }));
      }
    }),
  );
}

it('to a pipe whose reader waits: every byte in order, written directly', async () => {
  const { out, report, code } = await runWriter(false, 'pipe', 300);
  expect(code).toBe(0);
  expect(out).toBe(expected);
  expect(report).toEqual({ streamed: false });
});

it('to a non-blocking pipe that fills up: Node stream takes over at the first refusal, every byte in order', async () => {
  const { out, report, code } = await runWriter(true, 'pipe', 300);
  expect(code).toBe(0);
  expect(out).toBe(expected);
  expect(report.streamed).toBe(true);
});

it('to a file and to /dev/null', async () => {
  const file = join(dir, 'out.txt');
  const fd = openSync(file, 'w');
  const toFile = await runWriter(false, fd);
  expect(toFile.code).toBe(0);
  expect(readFileSync(file, 'utf8')).toBe(expected);
  expect(toFile.report).toEqual({ streamed: false });

  const nullFd = openSync('/dev/null', 'w');
  const toNull = await runWriter(false, nullFd);
  expect(toNull.code).toBe(0);
  expect(toNull.report).toEqual({ streamed: false });
});

it('the CLI itself: `quorum --help` to a pipe loads no stream module', () => {
  const probe = join(dir, 'probe.cjs');
  // Read before the probe's own write to stderr loads the stream.
  writeFileSync(probe, "process.on('exit', () => { const s = process.moduleLoadList.includes('NativeModule stream'); process.stderr.write('\\nSTREAM=' + s); });");
  const r = spawnSync(process.execPath, ['--require', probe, join(REPO_ROOT, 'bin', 'quorum.js'), '--help'], { encoding: 'utf8', input: '' });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^quorum \d+\.\d+\.\d+ - /);
  expect(r.stderr).toMatch(/STREAM=false/);
});
