import { constants, createWriteStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { describeError, QuorumError, UsageError } from '../core/errors.js';
import { databasePathProblem } from '../store/index.js';
import { dbPath, pathArg, str, type Args } from './args.js';
import type { OutputStream } from './output.js';

/** Why a new or existing output file cannot be written, or undefined when it can (as far as the file system says now). */
async function unwritable(path: string): Promise<string | undefined> {
  const folder = dirname(resolve(path));
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'ENOTDIR' ? undefined : error));
  if (info instanceof Error) return describeError(info);
  if (info?.isDirectory()) return 'it is a folder';
  const parent = await stat(folder).catch(() => undefined);
  if (!parent) return `the folder ${folder} does not exist`;
  if (!parent.isDirectory()) return `${folder} is not a folder`;
  if (info) return (await access(path, constants.W_OK).then(() => false, () => true)) ? 'the file is read-only' : undefined;
  return (await access(folder, constants.W_OK).then(() => false, () => true)) ? `the folder ${folder} is read-only` : undefined;
}

/**
 * Checks `--db` and `--out` before any judge is called, so a typo in a path costs
 * nothing: a missing folder, a read-only file or folder, or a folder where a file should
 * be is a usage error naming the option, the path and the reason.
 */
export async function checkOutputs(args: Args, env: NodeJS.ProcessEnv): Promise<void> {
  const db = dbPath(args, env);
  if (db !== ':memory:') {
    const reason = databasePathProblem(db);
    if (reason) throw new UsageError(`Cannot use --db ${db}: ${reason}`);
  }
  const out = pathArg(args, 'out', env);
  if (out) {
    const reason = await unwritable(out);
    if (reason) throw new UsageError(`Cannot write --out ${out}: ${reason}`);
  }
}

/**
 * Writes a run's output to `--out FILE` (or stdout). The results are already in the
 * store, so a failed write (the folder vanished, the disk filled) loses nothing: the
 * error says which command prints them again.
 */
export async function writeOutput(
  args: Args,
  env: NodeJS.ProcessEnv,
  stdout: OutputStream,
  text: string | Iterable<string>,
  run: { name: string },
  /** The command that prints the output again. @default `quorum show RUN ...` */
  again?: string,
): Promise<void> {
  const out = pathArg(args, 'out', env);
  const chunks = typeof text === 'string' ? [text] : text;
  if (!out) {
    await writeChunks(stdout, chunks);
    return;
  }
  try {
    const file = createWriteStream(out);
    // Settles on 'finish' or rejects on the stream's error (a folder gone, a full disk). Not
    // stream/promises' `finished`: that module would load Node's streams for every command.
    const done = new Promise<void>((resolve, reject) => {
      file.once('finish', resolve);
      file.once('error', reject);
    });
    await Promise.race([writeChunks(file, chunks), done]);
    file.end();
    await done;
  } catch (cause) {
    const command = again ?? `quorum show ${run.name} --db ${dbPath(args, env)} --format ${str(args, 'format') ?? 'table'} > FILE`;
    throw new QuorumError(`Cannot write --out ${out}: ${describeError(cause)}; nothing is lost: \`${command}\` prints it again`, { cause });
  }
}

/** Characters gathered before one write: a line per write cost a system call per row on stdout. */
const WRITE_BATCH = 64 * 1024;

/** Writes chunks, gathered into writes of about 64 KiB, waiting whenever the stream asks to (a million rows never pile up in memory). */
async function writeChunks(stream: OutputStream, chunks: Iterable<string>): Promise<void> {
  const write = async (text: string) => {
    if (!stream.write(text)) await new Promise((resolve) => stream.once('drain', resolve));
  };
  let gathered = '';
  for (const chunk of chunks) {
    gathered += chunk;
    if (gathered.length >= WRITE_BATCH) {
      await write(gathered);
      gathered = '';
    }
  }
  if (gathered) await write(gathered);
}
