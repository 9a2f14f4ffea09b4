/**
 * Runs the real CLI as a child process, as a user would: `node bin/quorum.js ...` over the
 * compiled `dist/` (build it first: `npx tsc -p tsconfig.build.json`, or `npm test`).
 *
 * The child gets a clean environment: PATH, HOME and the locale from this process, never
 * its API keys or QUORUM_* variables, plus whatever `env` adds. A child that outlives
 * `timeoutMs` is killed (SIGKILL) and the promise rejects with its stderr, so a hung CLI
 * fails the test instead of stalling the suite.
 *
 * @example
 * const { code, stdout, stderr } = await runQuorum(['score', dir, '--judge', 'openai:sim',
 *   '--base-url', server.url, '--format', 'json'], { cwd: dir });
 *
 * const proc = spawnQuorum(['score', dir, ...], { cwd: dir });
 * await waitUntil(() => server.calls >= 10);
 * proc.kill('SIGKILL');
 * const { code, signal } = await proc.exited; // => { code: null, signal: 'SIGKILL', ... }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const QUORUM_BIN = fileURLToPath(new URL('../../bin/quorum.js', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../dist/cli-bundle/main.cjs', import.meta.url));

export interface QuorumOptions {
  /** Added to the clean environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** @default the repository root */
  cwd?: string;
  /** Kill the child (SIGKILL) and reject after this long. @default 60000 */
  timeoutMs?: number;
  /** Run as this user (needs root), e.g. `nobody` to meet file modes root ignores. */
  user?: { uid: number; gid: number } | undefined;
}

export interface QuorumResult {
  /** Exit code; `null` when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process. */
export interface QuorumProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Sends a signal to this process only (never its siblings); a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
  /** Settles when the process has exited and its output streams are closed. */
  readonly exited: Promise<QuorumResult>;
}

/** Variables passed through from the test process; everything else is left out. */
const PASSED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'SYSTEMROOT', 'TEMP', 'TMP'];

export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED) if (process.env[name] !== undefined) env[name] = process.env[name];
  // No colours or TTY tricks: output is compared as text.
  env['NO_COLOR'] = '1';
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function assertBuilt(): void {
  if (!existsSync(DIST_MAIN)) {
    throw new Error(`${DIST_MAIN} is missing: build the CLI first (npx tsc -p tsconfig.build.json, or npm test)`);
  }
}

/** Starts `quorum <args>` and returns a handle; see `runQuorum` to just wait for it. */
export function spawnQuorum(args: readonly string[], options: QuorumOptions = {}): QuorumProcess {
  assertBuilt();
  const child = spawn(process.execPath, [QUORUM_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const exited = new Promise<QuorumResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`quorum ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr:\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close' (not 'exit'): the output streams are drained by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  if (child.pid === undefined) throw new Error('could not start node');
  const pid = child.pid;
  return {
    child,
    pid,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    kill(signal) {
      // Already gone: nothing to signal (and no other process may get it by pid reuse).
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
    },
    exited,
  };
}

/** Runs `quorum <args>` to the end. Rejects only when it cannot start or times out. */
export function runQuorum(args: readonly string[], options: QuorumOptions = {}): Promise<QuorumResult> {
  return spawnQuorum(args, options).exited;
}

/**
 * Runs `quorum <args>` as a user who cannot write `paths`. Root ignores file modes, so under
 * root the CLI runs as `nobody` (uid 65534) instead of the paths being made read-only.
 */
export async function runQuorumReadOnly(args: readonly string[], paths: readonly string[], options: QuorumOptions = {}): Promise<QuorumResult> {
  const asRoot = process.getuid?.() === 0;
  const modes = paths.map((p) => statSync(p).mode & 0o777);
  if (!asRoot) for (const p of paths) chmodSync(p, statSync(p).isDirectory() ? 0o555 : 0o444);
  try {
    return await runQuorum(args, asRoot ? { ...options, user: { uid: 65534, gid: 65534 } } : options);
  } finally {
    if (!asRoot) paths.forEach((p, i) => chmodSync(p, modes[i] as number));
  }
}

/** Polls `predicate` every `intervalMs` until it holds; rejects after `timeoutMs`. */
export async function waitUntil(
  predicate: () => boolean,
  { timeoutMs = 20_000, intervalMs = 10, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
