/**
 * The CLI side of local models: where they live, which catalogue applies, pulling with
 * a progress bar, and turning "no --judge" or `--judge llama:<name>` into model files
 * (asking before a download, on a terminal only). Environment variables for all of it
 * are read here: QUORUM_MODELS, QUORUM_CATALOGUE, MODEL_ENDPOINT, HF_ENDPOINT, HF_TOKEN.
 */
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../core/errors.js';
import {
  BUILTIN_CATALOGUE,
  catalogueModelFiles,
  defaultLocalJudge,
  describePulled,
  findCatalogueModel,
  formatBytes,
  loadCatalogue,
  modelsDir,
  PARTIAL_DIR,
  pullFiles,
  type Catalogue,
  type CatalogueFile,
  type CatalogueModel,
  type PulledFile,
  type PullFile,
  type PullProgress,
} from '../local/index.js';
import { expandHome } from './args.js';
import type { CommandIO } from './main.js';

/** Where models go, which catalogue names mean what, and the hub to fetch from. */
export interface LocalSetup {
  dir: string;
  catalogue: Catalogue;
  /** `MODEL_ENDPOINT`, then `HF_ENDPOINT`; undefined means huggingface.co. */
  endpoint: string | undefined;
  headers: Record<string, string> | undefined;
}

export async function localSetup(env: NodeJS.ProcessEnv): Promise<LocalSetup> {
  const file = env['QUORUM_CATALOGUE'];
  const token = env['HF_TOKEN'];
  return {
    dir: expandHome(modelsDir(env), env),
    catalogue: file ? await loadCatalogue(expandHome(file, env)) : BUILTIN_CATALOGUE,
    endpoint: env['MODEL_ENDPOINT'] || env['HF_ENDPOINT'] || undefined,
    headers: token ? { Authorization: `Bearer ${token}` } : undefined,
  };
}

/** The files of a catalogue model, as pull requests. */
export function catalogueFiles(entry: CatalogueModel): PullFile[] {
  const one = (f: CatalogueFile): PullFile => ({ source: f.uri, fileName: f.file, bytes: f.bytes, sha256: f.sha256 });
  return [one(entry.model), one(entry.mmproj)];
}

/** Draws download progress on stderr: a bar rewritten in place on a terminal, start and end lines otherwise. */
class DownloadBar {
  #started = 0;
  #lastDraw = 0;
  constructor(
    private readonly io: CommandIO,
    private readonly quiet: boolean,
  ) {}
  private get tty(): boolean {
    return Boolean(this.io.stderr.isTTY) && !this.quiet;
  }
  start(p: PullProgress): void {
    this.#started = performance.now();
    if (this.quiet) return;
    const resumed = p.resumedFromBytes > 0 ? `, resuming after ${formatBytes(p.resumedFromBytes)}` : '';
    this.io.note(`downloading ${p.file} (${p.totalBytes > 0 ? formatBytes(p.totalBytes) : 'size unknown'}${resumed})`);
  }
  progress(p: PullProgress): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && p.downloadedBytes < p.totalBytes) return;
    this.#lastDraw = now;
    const share = p.totalBytes > 0 ? Math.min(1, p.downloadedBytes / p.totalBytes) : 0;
    const width = 24;
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
    const seconds = (now - this.#started) / 1000;
    const speed = seconds > 0 ? (p.downloadedBytes - p.resumedFromBytes) / seconds : 0;
    const left = speed > 0 && p.totalBytes > 0 ? `, ${Math.ceil((p.totalBytes - p.downloadedBytes) / speed)} s left` : '';
    this.io.stderr.write(
      `\r\x1b[K${p.file} [${bar}] ${(share * 100).toFixed(0).padStart(3)}% ${formatBytes(p.downloadedBytes)}/${formatBytes(p.totalBytes)} ${formatBytes(speed)}/s${left}`,
    );
  }
  end(): void {
    if (this.tty) this.io.stderr.write('\r\x1b[K');
  }
}

/**
 * Pulls files with progress on stderr. Ctrl-C stops the download and keeps the partial
 * file for the next pull; the returned `interrupted` says so.
 */
export async function pullWithProgress(
  files: readonly PullFile[],
  setup: LocalSetup,
  io: CommandIO,
  quiet = false,
): Promise<{ pulled: PulledFile[]; interrupted: boolean }> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error('interrupted'));
  io.onInterrupt(onInterrupt);
  const bar = new DownloadBar(io, quiet);
  const pulled: PulledFile[] = [];
  try {
    for (const file of files) {
      const [p] = await pullFiles([file], {
        dir: setup.dir,
        endpoint: setup.endpoint,
        headers: setup.headers,
        signal: controller.signal,
        onStart: (s) => bar.start(s),
        onProgress: (s) => bar.progress(s),
      });
      bar.end();
      pulled.push(p!);
      if (!quiet) io.note(describePulled(p!));
    }
    return { pulled, interrupted: false };
  } catch (error) {
    bar.end();
    if (controller.signal.aborted) {
      io.note(`interrupted: the partial download is kept in ${setup.dir}/${PARTIAL_DIR}; the same command resumes it`);
      return { pulled, interrupted: true };
    }
    throw error;
  } finally {
    io.offInterrupt(onInterrupt);
    // ipull leaves the body of its first (size) request unread, which holds the process
    // open for a long while after the work is done: end it once output is written.
    if (pulled.some((p) => p.downloaded) || controller.signal.aborted) io.endWhenDone?.();
  }
}

/** Asks a yes/no question on the terminal; `false` on anything but y/yes. */
async function confirm(io: CommandIO, question: string): Promise<boolean> {
  // The question goes to stderr (a terminal here) like every note; readline only reads the answer.
  io.stderr.write(`${question} [y/N] `);
  const rl = createInterface({ input: io.stdin!, terminal: false });
  try {
    const answer = await rl.question('');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Model and projector paths of a local judge that is ready to load. */
export interface LocalJudgeFiles {
  model: string;
  mmproj: string;
  entry: CatalogueModel;
}

/**
 * Makes sure a catalogue model is on disk: when files are missing, says what will be
 * downloaded and how big, asks on a terminal (`--yes` skips the question), and pulls.
 * Without a terminal and without `--yes` it stops with a `UsageError` giving the exact
 * `quorum pull` command. Returns `undefined` when the user said no or interrupted.
 */
export async function ensureCatalogueModel(
  entry: CatalogueModel,
  why: string,
  options: { yes: boolean; quiet: boolean },
  setup: LocalSetup,
  io: CommandIO,
): Promise<LocalJudgeFiles | undefined> {
  const files = await catalogueModelFiles(entry, setup.dir);
  if (files.missing.length === 0) return { model: files.model, mmproj: files.mmproj, entry };
  const what =
    `${why} ${entry.name} (${entry.title}, ${entry.licence}, needs about ${entry.memoryGiB} GiB of memory) is not downloaded: ` +
    `${files.missing.map((f) => f.file).join(' and ')}, about ${formatBytes(files.missingBytes)}, into ${setup.dir}`;
  if (!options.yes) {
    const interactive = Boolean(io.stdin?.isTTY) && Boolean(io.stderr.isTTY);
    if (!interactive) {
      throw new UsageError(`${what}. Run \`quorum pull ${entry.name}\` first, or add --yes to download it now (or name a judge with --judge)`);
    }
    if (!(await confirm(io, `${what}. Download it now?`))) {
      io.note(`nothing downloaded; \`quorum pull ${entry.name}\` downloads it, --judge names another judge`);
      return undefined;
    }
  } else if (!options.quiet) {
    io.note(`${what}; downloading (--yes)`);
  }
  const { interrupted } = await pullWithProgress(catalogueFiles(entry), setup, io, options.quiet);
  return interrupted ? undefined : { model: files.model, mmproj: files.mmproj, entry };
}

/**
 * The local judge a command runs with when `--judge` is absent (the catalogue default)
 * or is `llama:<catalogue name>`; `undefined` for any other judge (a path, a hosted model).
 * `null` means the user declined the download or interrupted it.
 */
export async function catalogueJudge(
  judge: string | undefined,
  options: { yes: boolean; quiet: boolean },
  io: CommandIO,
): Promise<LocalJudgeFiles | null | undefined> {
  const named = judge?.startsWith('llama:') ? judge.slice('llama:'.length) : undefined;
  if (judge !== undefined && named === undefined) return undefined;
  // A path wins over a catalogue name: `llama:./x.gguf` never means a catalogue entry.
  if (named !== undefined && (named.includes('/') || named.includes('\\') || named.toLowerCase().endsWith('.gguf'))) return undefined;
  const setup = await localSetup(io.env);
  let entry: CatalogueModel;
  if (named === undefined) {
    entry = defaultLocalJudge(setup.catalogue);
  } else {
    const found = findCatalogueModel(setup.catalogue, named);
    if (!found) {
      throw new UsageError(
        `\`llama:${named}\` is neither a .gguf path nor a catalogue model (${setup.catalogue.models.map((m) => m.name).join(', ')})`,
      );
    }
    entry = found;
  }
  const files = await ensureCatalogueModel(entry, named === undefined ? 'No --judge given; the default local judge' : 'The judge', options, setup, io);
  return files ?? null;
}
