import { parseArgs, type ArgsDef } from 'citty';
import { ConfigFileError, QuorumError, UsageError } from '../core/errors.js';
import { QUORUM_VERSION } from '../version.js';
import { collectRepeated, withIO, type Args } from './args.js';
import { DirectOutput, type OutputStream } from './output.js';
import { nearest, renderHelp } from './usage.js';

/** What a command may touch: streams, environment, interrupts. Only `main` exits. */
export interface CommandIO {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdout: OutputStream;
  stderr: OutputStream;
  /** A line for the user on stderr. */
  note(text: string): void;
  onInterrupt(handler: () => void): void;
  offInterrupt(handler: () => void): void;
  /** Standard input, for a yes/no question on a terminal; absent in library use. */
  stdin?: NodeJS.ReadStream;
  /**
   * Asks `main` to end the process once the command has returned and its output is
   * written, instead of waiting for the event loop to empty (a download library can keep
   * an unread response open for a minute).
   */
  endWhenDone?(): void;
}

interface CommandModule {
  /** citty's declaration (meta + args); only read, never run by citty. */
  command: { meta?: unknown; args?: unknown };
  /** The usage line after `quorum `, e.g. `score <image-or-folder>... --judge provider:model [options]`. */
  usage: string;
  examples?: string;
  run(args: Args, io: CommandIO): Promise<number>;
}

/** Subcommands load lazily: `quorum runs` never loads the judge engines. */
const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  score: { summary: 'Score images with a vision-LLM judge', load: () => import('./commands/score.js') },
  compare: { summary: 'Compare two systems output by output, in both orders, with intervals', load: () => import('./commands/compare.js') },
  rank: { summary: 'Rank systems or images from pairwise judgments, with intervals', load: () => import('./commands/rank.js') },
  hallucination: { summary: 'Score and locate hallucinations in super-resolution outputs, beside PSNR/SSIM', load: () => import('./commands/hallucination.js') },
  fuse: { summary: 'Fuse stored score runs of one image set into one verdict per image (no calls)', load: () => import('./commands/fuse.js') },
  runs: { summary: 'List runs in the database', load: () => import('./commands/runs.js') },
  show: { summary: "Print a run's results again from the database (no calls)", load: () => import('./commands/show.js') },
  merge: { summary: 'Merge databases (shards judged on several machines) into one; conflicts reported', load: () => import('./commands/merge.js') },
  report: { summary: 'Write an HTML or Markdown report of runs from the database (no calls)', load: () => import('./commands/report.js') },
  batches: { summary: 'Provider batches submitted with --batch; --collect stores the answers of ended ones', load: () => import('./commands/batches.js') },
  judges: { summary: 'Judges in the database with call counts and parse-failure rates', load: () => import('./commands/judges.js') },
  models: { summary: 'List local GGUF models: architecture, size, quantisation, vision', load: () => import('./commands/models.js') },
  doctor: { summary: 'Check this machine for local judging: engines, GPU backend, memory, models, keys', load: () => import('./commands/doctor.js') },
  pull: { summary: 'Download a local vision judge (model + projector) by catalogue name, hf: URI or URL', load: () => import('./commands/pull.js') },
  prompts: { summary: 'List the built-in prompt templates', load: () => import('./commands/prompts.js') },
  eval: { summary: 'How well a judge agrees with human scores on a labelled dataset or ladder; --compare for a leaderboard', load: () => import('./commands/eval.js') },
  ladder: { summary: 'Write graded versions of pristine images (blur, noise, JPEG, resampling, colour) with their known order', load: () => import('./commands/ladder.js') },
  calibrate: { summary: "Fit a map from a judge's scores to human scores with conformal intervals, for score --calibration", load: () => import('./commands/calibrate.js') },
  demo: { summary: 'Try Quorum with no key and no model: a simulated judge scores generated images', load: () => import('./commands/demo.js') },
};

function topUsage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    `quorum ${QUORUM_VERSION} - vision-language models as judges of image quality`,
    '',
    'Usage: quorum <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `quorum <command> --help` for its options and examples.',
  ].join('\n');
}

async function usageOf(mod: CommandModule): Promise<string> {
  const meta = (mod.command.meta ?? {}) as { description?: string };
  return renderHelp({
    usage: `quorum ${mod.usage}`,
    description: meta.description ?? '',
    args: (mod.command.args ?? {}) as ArgsDef,
    examples: mod.examples,
  });
}

/** Runs the CLI and returns the exit code (0 ok, 1 runtime failure, 2 usage error). */
export async function runCli(argv: readonly string[], io: Omit<CommandIO, 'argv' | 'note'>): Promise<number> {
  const note = (text: string) => void io.stderr.write(`${text}\n`);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${topUsage()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${QUORUM_VERSION}\n`);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    const guess = nearest(name, Object.keys(commands));
    io.stderr.write(`error: Unknown command \`${name}\`${guess ? ` (did you mean \`${guess}\`?)` : ''}\nRun \`quorum --help\` for the list of commands.\n`);
    return 2;
  }
  const mod = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${await usageOf(mod)}\n`);
    return 0;
  }
  try {
    const defs = (mod.command.args ?? {}) as ArgsDef;
    const declared = Object.keys(defs);
    const known = new Set(declared);
    for (const a of rest) {
      if (a === '--') break;
      const m = /^--(?:no-)?([^=]+)/.exec(a);
      if (m && !known.has(m[1] as string)) {
        const guess = nearest(m[1] as string, declared);
        throw new UsageError(`Unknown option --${m[1]}${guess ? ` (did you mean --${guess}?)` : ''}`);
      }
    }
    const args = parseArgs(rest, defs) as Args;
    const strings = new Set(declared.filter((k) => (defs[k] as { type?: string }).type === 'string'));
    Object.assign(args, collectRepeated(rest, strings));
    // One decoding budget for every image in flight in this process (images/decode-budget.ts).
    if (IMAGE_COMMANDS.has(name)) {
      const { DEFAULT_DECODE_MEMORY, parseMemorySize, sharedDecodeBudget } = await import('../images/decode-budget.js');
      const decodeMemory = io.env['QUORUM_DECODE_MEMORY'];
      sharedDecodeBudget.capacity = decodeMemory ? parseMemorySize('QUORUM_DECODE_MEMORY', decodeMemory) : DEFAULT_DECODE_MEMORY;
    }
    return await mod.run(args, withIO(io, { argv, note }));
  } catch (error) {
    // A config file error is one line naming file, line and key; command help would not help.
    if (error instanceof ConfigFileError) {
      io.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    const usage = error instanceof UsageError || (error as { code?: string }).code === 'EARG';
    if (usage) {
      // The reason and where to read more; the whole help would bury the one line that matters.
      io.stderr.write(`error: ${(error as Error).message}\nRun \`quorum ${name} --help\` for usage.\n`);
      return 2;
    }
    if (error instanceof QuorumError) {
      io.stderr.write(`error: ${error.message}\n`);
      if (io.env['QUORUM_DEBUG'] && error.cause) io.stderr.write(`${String((error.cause as Error).stack ?? error.cause)}\n`);
    } else {
      io.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    return 1;
  }
}

/** Commands that decode images, and so set sharp's process-wide options first. */
const IMAGE_COMMANDS = new Set(['score', 'compare', 'rank', 'hallucination', 'demo', 'report', 'eval', 'ladder', 'calibrate']);

/** The process entry point: the only place that touches `process` signals and exits. */
export async function main(argv: readonly string[]): Promise<void> {
  // Only the commands that read images set sharp up, and sharp itself loads when the first
  // image needs it (most of a bare start-up's CPU; a cached rerun never does).
  if (IMAGE_COMMANDS.has(argv[0] ?? '')) {
    const { configureSharp } = await import('../images/_sharp.js');
    configureSharp((sharp) => {
      // sharp's operation cache keeps finished decodes alive while the next one runs; for
      // huge images that doubles peak memory, and Quorum never decodes the same image twice.
      sharp.cache(false);
      // Quorum decodes several images at once; one libvips thread each avoids paying a thread
      // pool's start-up per small image and keeps two cores from being oversubscribed.
      sharp.concurrency(1);
    });
  }
  // `quorum show RUN --calls | head`: the reader closed the pipe; stop quietly, as Unix tools do.
  // Both are written straight to their descriptors unless they are terminals (cli/output.ts).
  const brokenPipe = () => process.exit(0);
  const stdoutStream = () =>
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') brokenPipe();
      throw error;
    });
  const stdout = new DirectOutput(1, stdoutStream, brokenPipe);
  // Notes to a closed stderr are dropped: the command goes on and its exit code stands.
  const stderr = new DirectOutput(2, () => process.stderr, () => undefined);
  const handlers = new Set<() => void>();
  const onSigint = () => {
    if (handlers.size === 0) process.exit(130);
    for (const h of handlers) h();
  };
  process.on('SIGINT', onSigint);
  let endWhenDone = false;
  const code = await runCli(argv, {
    env: process.env,
    stdout,
    stderr,
    // A getter: touching process.stdin creates the stream, which only a question needs.
    get stdin() {
      return process.stdin;
    },
    onInterrupt: (h) => handlers.add(h),
    offInterrupt: (h) => handlers.delete(h),
    endWhenDone: () => (endWhenDone = true),
  });
  process.off('SIGINT', onSigint);
  process.exitCode = code;
  if (endWhenDone) {
    // Exit once everything written has left (stdout may be an asynchronous pipe).
    await stdout.flushed();
    await stderr.flushed();
    process.exit(code);
  }
}
