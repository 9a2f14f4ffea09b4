import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineCommand, parseArgs, type ArgsDef } from 'citty';
import { UsageError, expected } from '../../core/errors.js';
import { DEMO_JUDGE, startDemoServer, writeDemoImages, type DemoImages } from '../../demo/index.js';
import { intArg, withIO, type Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'demo [folder] [--serve] [--port N]';

/** The port the printed next steps use, so they can be copied as they are. */
const SUGGESTED_PORT = 8765;

export const command = defineCommand({
  meta: {
    name: 'demo',
    description:
      'Try Quorum with no API key and no model: writes images of known quality into [folder] (default: a new temporary folder), ' +
      'starts a simulated judge (an OpenAI-compatible server on 127.0.0.1 that reads image quality from the pixels) and scores ' +
      'them with `quorum score`, then prints commands to try next. Nothing is downloaded.',
  },
  args: {
    serve: {
      type: 'boolean',
      description: 'Keep the simulated judge running (Ctrl-C stops it) and print its base URL, for your own score, compare and rank commands; with [folder], write the images there too',
    },
    port: { type: 'string', valueHint: 'N', description: 'Port on 127.0.0.1 (default: any free port)' },
    quiet: { type: 'boolean', description: 'No progress on stderr' },
  },
});

export const examples = `Examples:
  quorum demo                          # images in a temporary folder, scored by the simulated judge
  quorum demo ./quorum-demo            # the same, in a folder you keep
  quorum demo --serve --port ${SUGGESTED_PORT}     # keep the judge running for your own commands:
  quorum score ./quorum-demo/images --judge ${DEMO_JUDGE} --base-url http://127.0.0.1:${SUGGESTED_PORT}/v1

The simulated judge is a stand-in for a vision-language model: it measures an image's
coarse-scale noise (less noise, higher quality, 1-5) and answers with seeded noise in the
format asked for. It needs no key; any key is ignored.`;

export async function run(args: Args, io: CommandIO): Promise<number> {
  const folders = (args['_'] as string[] | undefined) ?? [];
  if (folders.length > 1) throw new UsageError(`Give at most one folder for the demo images, got ${folders.length}`);
  const port = intArg(args, 'port', 0);
  if (port !== undefined && port > 65535) throw new UsageError(expected('port', 'an integer in [0, 65535]', port));
  const serve = Boolean(args['serve']);
  const given = folders[0];

  if (serve) return serveJudge(io, port, given);

  const dir = given ?? (await mkdtemp(join(tmpdir(), 'quorum-demo-')));
  const demo = await writeDemoImages(dir);
  const server = await startDemoServer({ port });
  const db = join(dir, 'quorum.db');
  let code: number;
  try {
    io.stdout.write(
      `Simulated judge (no key, no model) on ${server.url}: it reads quality (1-5) from the pixels, less noise is better.\n` +
        `${demo.files.length} images of known quality in ${dir}; the true quality is in each name of ${demo.images}.\n\n` +
        `$ ${['quorum', 'score', ...scoreArgv(demo, server.url, db, args)].map(shellQuote).join(' ')}\n`,
    );
    code = await runScore(scoreArgv(demo, server.url, db, args), io);
  } finally {
    await server.close();
  }
  io.stdout.write(`\n${nextSteps(demo, db, port ?? SUGGESTED_PORT)}`);
  return code;
}

/** The `quorum score` arguments the demo runs. */
function scoreArgv(demo: DemoImages, url: string, db: string, args: Args): string[] {
  return [demo.images, '--judge', DEMO_JUDGE, '--base-url', url, '--db', db, ...(args['quiet'] ? ['--quiet'] : [])];
}

/** Runs the real `score` command, never with the user's API keys: the simulated judge needs none. */
async function runScore(argv: string[], io: CommandIO): Promise<number> {
  const score = await import('./score.js');
  const env = { ...io.env };
  delete env['OPENAI_API_KEY'];
  const parsed = parseArgs(argv, score.command.args as ArgsDef) as Args;
  return score.run(parsed, withIO(io, { env, argv: ['score', ...argv] }));
}

function nextSteps(demo: DemoImages, db: string, port: number): string {
  const url = `http://127.0.0.1:${port}/v1`;
  const judge = `--judge ${DEMO_JUDGE} --base-url ${url} --db ${shellQuote(db)}`;
  const q = shellQuote;
  return [
    'Try next: keep the simulated judge running in one terminal,',
    `  quorum demo --serve --port ${port}`,
    'and in another:',
    `  quorum score ${q(demo.images)} ${judge} --method sample --samples 3 --format json`,
    `  quorum compare ${q(demo.systemA)} ${q(demo.systemB)} ${judge}`,
    `  quorum rank --items ${q(demo.images)} ${judge}`,
    `  quorum runs --db ${q(db)}`,
    'With a real judge:',
    `  OPENAI_API_KEY=sk-... quorum score ${q(demo.images)} --judge openai:gpt-4o-mini`,
    '',
  ].join('\n');
}

/** Keeps the simulated judge running until Ctrl-C; prints its base URL (one line) on stdout. */
async function serveJudge(io: CommandIO, port: number | undefined, folder: string | undefined): Promise<number> {
  const demo = folder ? await writeDemoImages(folder) : undefined;
  const server = await startDemoServer({ port });
  io.stdout.write(`${server.url}\n`);
  io.note(`simulated judge listening: use --judge ${DEMO_JUDGE} --base-url ${server.url} (no key needed); Ctrl-C stops it`);
  if (demo) io.note(`images of known quality in ${resolve(demo.images)}; two systems to compare in ${resolve(demo.systemA)} and ${resolve(demo.systemB)}`);
  else io.note('images to try it on: `quorum demo <folder>` writes some (or use your own)');
  await new Promise<void>((done) => {
    const stop = () => {
      io.offInterrupt(stop);
      done();
    };
    io.onInterrupt(stop);
  });
  io.note(`stopped after ${server.calls} completion request(s)`);
  await server.close();
  return 0;
}

/** Quotes a path for a POSIX shell when it needs it. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
