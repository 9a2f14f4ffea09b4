/**
 * Real runs for the report tests, made the way a user makes them: the CLI (`runQuorum`)
 * against the loopback test judge, into one database in a temporary folder. Each helper
 * returns the run name it made; `quorum report NAME... --db DB` then reads them.
 *
 * - `scoreRun`: a dozen images of spread quality, `--method sample --samples 3`, one file
 *   that is not an image (status `error`) and one request whose answer does not parse
 *   (status `partial` or `failed`).
 * - `reportRun`: `--prompt quality-report`, answers with distortions (kind, severity, location).
 * - `compareRun`: two folders of the same names plus `--ref`.
 * - `rankRun`: `rank --items`, a folder of images ranked against each other.
 * - `hallucinationRun`: `quorum hallucination` on the generated SR fixtures (faithful, planted
 *   texture, planted text; 768 px in 512-px tiles), whose first tile answer is
 *   `HALLUCINATION_HOSTILE` (markup in its reasoning, one box of kind `object`).
 * - `hostileRun`: a judge that answers markup (`HOSTILE_ANSWERS`) and an image named
 *   `HOSTILE_FILE`; a report must show all of it as text and run none of it.
 *
 * @example
 * const fx = await reportFixtures();
 * const score = await fx.scoreRun();
 * const { code } = await fx.report([score], join(fx.dir, 'r.html'));
 * await fx.cleanup();
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runQuorum, type QuorumResult } from '../support/cli.js';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { writeFixtures } from '../hallucination/_fixtures.js';
import { spread, tempDir, writeImages, type TempDir } from '../scoring/_support.js';

/** A name that closes an attribute and opens an element, if a report pastes it into HTML. */
export const HOSTILE_FILE = '"><svg onload=alert(1)>.png';
/** Markup a judge may write: an element with a handler, and an attempt to close the report's own script. */
export const HOSTILE_IMG = '<img src=x onerror=alert(1)>';
export const HOSTILE_SCRIPT = '</script><script>alert(2)</script>';
/** Answers the hostile judge gives: one that parses (its markup becomes the reasoning), one that does not (kept as the raw answer). */
export const HOSTILE_ANSWERS = {
  parsed: `<think>The sky shows ${HOSTILE_IMG} and ${HOSTILE_SCRIPT} in flat regions.</think>\n<answer>3.5</answer>`,
  unparsed: `I refuse the format: ${HOSTILE_IMG} ${HOSTILE_SCRIPT}`,
} as const;

/** The quality-report answer given to the run's first request: its only `blur`. */
export const BLURRED = {
  score: 4.6,
  distortions: [{ type: 'blur', severity: 'minor', location: 'top left corner' }],
  reasoning: 'Edges are soft in the top left corner; elsewhere the gradient is clean.',
} as const;

/** A hallucination answer that parses and carries markup in its reasoning. */
export const HALLUCINATION_HOSTILE = {
  score: 1,
  elements: [{ kind: 'object', severity: 'minor', box: { x0: 20, y0: 30, x1: 120, y1: 90 } }],
  reasoning: `A small ${HOSTILE_IMG} object appears; ${HOSTILE_SCRIPT}`,
} as const;

export interface ReportFixtures {
  /** The temporary folder; everything lives under it. */
  readonly dir: string;
  /** The database every run writes to. */
  readonly db: string;
  readonly server: JudgeServer;
  scoreRun(): Promise<string>;
  reportRun(): Promise<string>;
  compareRun(): Promise<string>;
  rankRun(): Promise<string>;
  hostileRun(): Promise<string>;
  hallucinationRun(): Promise<string>;
  /** `quorum report RUN... --db DB --out OUT [...extra]`. */
  report(runs: readonly string[], out: string, extra?: readonly string[]): Promise<QuorumResult>;
  cleanup(): Promise<void>;
}

/** Starts the test judge and makes a temporary folder; call `cleanup()` when done. */
export async function reportFixtures(): Promise<ReportFixtures> {
  const tmp: TempDir = await tempDir();
  // noiseSd 0.25 (default) gives samples a spread, so `std` is non-zero.
  const server = await startOpenAIServer({ seed: 11 });
  const db = tmp.path('quorum.db');
  const judge = ['--judge', 'openai:sim-judge', '--base-url', server.url, '--db', db, '--quiet'];

  /** One judging command; its exit code must be one of `codes` (1: some inputs failed, as planned). */
  async function judged(args: readonly string[], codes: readonly number[] = [0]): Promise<void> {
    const result = await runQuorum([...args, ...judge], { cwd: tmp.dir, env: { OPENAI_API_KEY: 'sk-test' }, timeoutMs: 120_000 });
    if (!codes.includes(result.code ?? -1)) {
      throw new Error(`quorum ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-3000)}`);
    }
  }

  async function folder(name: string): Promise<string> {
    const path = tmp.path(name);
    await mkdir(path, { recursive: true });
    return path;
  }

  return {
    dir: tmp.dir,
    db,
    server,

    async scoreRun() {
      const images = await folder('score');
      await writeImages(images, spread(12));
      await writeFile(join(images, 'unreadable.png'), Buffer.from('not a PNG, only text under an image name\n'.repeat(8)));
      // One at a time, so the queued faults land on the first image's request and its re-ask.
      server.clearFaults();
      // The request (n = 3) and each sample's re-ask: img-00 ends `failed`, its raw answers kept.
      server.failNext({ kind: 'missing-tags' }, { kind: 'missing-tags' }, { kind: 'missing-tags' }, { kind: 'missing-tags' });
      await judged(['score', images, '--method', 'sample', '--samples', '3', '--concurrency', '1', '--run', 'score-sample'], [1]);
      server.clearFaults();
      return 'score-sample';
    },

    async reportRun() {
      const images = await folder('report');
      await writeImages(images, spread(6, 'shot'));
      // The simulated judge only sees noise; the first request (one at a time) says blur instead.
      server.clearFaults();
      server.failNext({ kind: 'say', text: JSON.stringify(BLURRED) });
      await judged(['score', images, '--prompt', 'quality-report', '--samples', '1', '--concurrency', '1', '--run', 'score-report']);
      server.clearFaults();
      return 'score-report';
    },

    async compareRun() {
      const [a, b, ref] = await Promise.all([folder('compare/a'), folder('compare/b'), folder('compare/ref')]);
      const names = ['cat', 'dog', 'owl', 'fox'];
      await writeImages(a, names.map((n, i) => ({ name: `${n}.png`, quality: 2 + i * 0.3 })));
      await writeImages(b, names.map((n, i) => ({ name: `${n}.png`, quality: 3 + i * 0.3, seed: 300 + i })));
      await writeImages(ref, names.map((n, i) => ({ name: `${n}.png`, quality: 4.8, seed: 500 + i })));
      await judged(['compare', a, b, '--ref', ref, '--prompt', 'compare-sample', '--samples', '1', '--run', 'compare-ab']);
      return 'compare-ab';
    },

    async rankRun() {
      const items = await folder('rank');
      await writeImages(items, spread(5, 'item'));
      await judged(['rank', '--items', items, '--strategy', 'round-robin', '--samples', '1', '--run', 'rank-items']);
      return 'rank-items';
    },

    async hostileRun() {
      const images = await folder('hostile');
      await writeImages(images, [
        { name: HOSTILE_FILE, quality: 2.5 },
        { name: 'plain-a.png', quality: 3.5 },
        { name: 'plain-b.png', quality: 4.5 },
      ]);
      // Files are walked in a stable (sorted) order: '"' sorts first, so the hostile file takes
      // the parsed markup answer (both samples: one request with n = 2); the next image gets
      // the unparsed one for its request and each sample's re-ask.
      server.clearFaults();
      const unparsed = { kind: 'say', text: HOSTILE_ANSWERS.unparsed } as const;
      server.failNext({ kind: 'say', text: HOSTILE_ANSWERS.parsed }, unparsed, unparsed, unparsed);
      await judged(['score', images, '--method', 'sample', '--samples', '2', '--concurrency', '1', '--run', 'hostile'], [0, 1]);
      server.clearFaults();
      return 'hostile';
    },

    async hallucinationRun() {
      const root = await folder('sr');
      await writeFixtures(root);
      const sr = ['sr-faithful', 'sr-texture', 'sr-text'].flatMap((s) => ['--sr', join(root, s)]);
      server.clearFaults();
      server.failNext({ kind: 'say', text: JSON.stringify(HALLUCINATION_HOSTILE) });
      await judged(['hallucination', '--lr', join(root, 'lr'), ...sr, '--gt', join(root, 'gt'), '--max-side', '512', '--run', 'halluc']);
      server.clearFaults();
      return 'halluc';
    },

    report(runs, out, extra = []) {
      return runQuorum(['report', ...runs, '--db', db, '--out', out, ...extra], { cwd: tmp.dir, timeoutMs: 120_000 });
    },

    async cleanup() {
      await server.close();
      await tmp.cleanup();
    },
  };
}

/** Fails with the CLI's stderr when a report command did not exit 0. */
export function expectReported(result: QuorumResult): void {
  expect(result.code, `quorum report failed:\n${result.stderr}`).toBe(0);
}
