/**
 * The parent side of the engine child process. Jobs go one at a time over IPC; the
 * child is started lazily and replaced after a crash, a hang (per-call timeout), an
 * abort or the engine's "stuck" defect. A crash or hang fails the call with a retryable
 * `ProviderError`; samples finished before it are kept by the child protocol, and a
 * stuck engine is replaced and the job resumed at the next sample, so no sample is
 * lost or drawn twice.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModelFileError, ProviderError, TimeoutError } from '../../../../core/errors.js';
import { packageRoot } from '../../../../core/package-root.js';
import type { CandidateOutput, Engine, EngineJob, EngineOutput, RunControl, SampleOutput } from '../job.js';
import type { ChildLoadInfo, ChildLoadOptions, FromChild, LoadStage, ToChild } from './protocol.js';

/** Times a stuck engine is replaced within one call before the call fails. */
const MAX_STUCK_RESTARTS = 3;
/** Bytes of the child's own output kept for error messages. */
const LOG_TAIL = 8192;

/** Where the child script lives, under `src/` and `dist/`. */
const CHILD_DIR = join('judges', 'providers', 'llama', 'child');

/**
 * The child script: the compiled `engine-child.js` (from `dist` or the CLI bundle), or
 * the TypeScript source run through tsx's loader (from `src` under tsx or vitest).
 */
export function childScript(): { path: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  // From src (tsx, vitest) the TypeScript source; from dist or the CLI bundle the compiled file.
  const fromSource = here.endsWith('.ts');
  const js = join(packageRoot(), 'dist', CHILD_DIR, 'engine-child.js');
  if (!fromSource && existsSync(js)) return { path: js, execArgv: [] };
  const ts = join(packageRoot(), 'src', CHILD_DIR, 'engine-child.ts');
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return { path: ts, execArgv: ['--import', pathToFileURL(tsx).href] };
}

export interface ChildEngineOptions extends ChildLoadOptions {
  /** Longest wait for the engine to load model and projector, in ms. */
  loadTimeoutMs: number;
  /** Engine name for errors and records (`@fugood/llama.node@1.7.15`). */
  engineName: string;
  /** Another child script speaking the same protocol (tests of crash and restart handling). */
  script?: { path: string; execArgv: string[] } | undefined;
}

interface Running {
  child: ChildProcess;
  id: number;
  onMessage(message: FromChild): void;
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

/** Counters for diagnostics, tests and the bench. */
export interface ChildEngineStats {
  pid: number | undefined;
  starts: number;
  crashes: number;
  timeouts: number;
  stuckRestarts: number;
  /** Children let go on purpose (engine state piling up, or `close()`). */
  retired: number;
  lastLoad: ChildLoadInfo | undefined;
}

export class ChildEngine implements Engine {
  readonly name: string;
  private child: ChildProcess | undefined;
  private loading: Promise<void> | undefined;
  /** A model file the engine cannot load: every later call fails the same way, without respawning. */
  private fatal: Error | undefined;
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private log = '';
  readonly stats: ChildEngineStats = { pid: undefined, starts: 0, crashes: 0, timeouts: 0, stuckRestarts: 0, retired: 0, lastLoad: undefined };

  constructor(private readonly options: ChildEngineOptions) {
    this.name = options.engineName;
  }

  start(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    this.loading ??= this.spawn().catch((error: unknown) => {
      this.loading = undefined;
      if (error instanceof ModelFileError) this.fatal = error;
      throw error;
    });
    return this.loading;
  }

  private spawn(): Promise<void> {
    const script = this.options.script ?? childScript();
    const child = fork(script.path, [], {
      execArgv: script.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // One pool thread: the child gates native work on it (see engine-child.ts).
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
    });
    this.child = child;
    this.log = '';
    this.stats.starts++;
    this.stats.pid = child.pid;
    // Native logs are drained (a full pipe would block the engine) and the tail kept.
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString('utf8')).slice(-LOG_TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // Events of a replaced child never reach the work of its successor.
    child.on('message', (message: FromChild) => {
      if (this.running?.child === child) this.running.onMessage(message);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.loading = undefined;
        this.stats.pid = undefined;
      }
      if (this.running?.child === child) this.running.onExit(code, signal);
    });
    // An IPC write to a dying child errors asynchronously; the exit handler reports it.
    // A child that never started (no pid) gets no exit event: report it here.
    child.on('error', () => {
      if (child.pid === undefined && this.running?.child === child) this.running.onExit(null, null);
    });

    const { model, mmproj } = this.options;
    return new Promise<void>((resolve, reject) => {
      let stage: LoadStage = 'engine';
      const timer = setTimeout(() => {
        this.kill(child);
        finish(new ProviderError(`${this.name} did not finish loading within ${this.options.loadTimeoutMs} ms`, { provider: 'llama', retryable: true }));
      }, this.options.loadTimeoutMs);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.running = undefined;
        if (error) reject(error);
        else resolve();
      };
      const fileAt = (s: LoadStage): string | undefined => (s === 'projector' ? mmproj : s === 'model' ? model : undefined);
      this.running = {
        child,
        id: 0,
        onMessage: (message) => {
          if (message.type === 'stage') stage = message.stage;
          else if (message.type === 'loaded') {
            this.stats.lastLoad = message.info;
            finish();
          } else if (message.type === 'load-error') {
            this.kill(child);
            const file = fileAt(message.stage);
            finish(
              file !== undefined
                ? new ModelFileError(file, `${this.name} cannot load it: ${message.message}`)
                : new ProviderError(`${this.name} failed to start: ${message.message}`, { provider: 'llama', retryable: false }),
            );
          }
        },
        onExit: (code, signal) => {
          const how = signal ? `crashed (${signal})` : `exited with code ${code}`;
          const file = fileAt(stage);
          const tail = lastLines(this.log);
          finish(
            file !== undefined
              ? new ModelFileError(
                  file,
                  `${this.name} ${how} while loading it: the file is malformed or not supported by this llama.cpp build${tail ? ` (engine log: ${tail})` : ''}`,
                )
              : new ProviderError(`${this.name} ${how} while starting${tail ? ` (engine log: ${tail})` : ''}`, { provider: 'llama', retryable: true }),
          );
        },
      };
      this.send(child, { type: 'load', options: stripEngineOnly(this.options) });
    });
  }

  /** Runs one job; jobs are queued so only one is in the child at a time. */
  run(job: EngineJob, control: RunControl): Promise<EngineOutput> {
    const result = this.queue.then(() => this.runNow(job, control));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(job: EngineJob, control: RunControl): Promise<EngineOutput> {
    control.signal?.throwIfAborted();
    const samples: SampleOutput[] = [];
    let stuck = 0;
    let spent = 0;
    for (;;) {
      await this.start();
      const began = Date.now();
      const outcome = await this.attempt({ ...job, firstSample: job.firstSample + samples.length }, control.timeoutMs - spent, control.signal, samples);
      spent += Date.now() - began;
      if (outcome.kind === 'candidates') return outcome;
      if (outcome.kind === 'done') return { kind: 'samples', samples };
      // The engine is stuck: replace it and go on from the next sample.
      this.stats.stuckRestarts++;
      if (++stuck > MAX_STUCK_RESTARTS) {
        throw new ProviderError(`${this.name} kept getting stuck ("${outcome.message}"), ${MAX_STUCK_RESTARTS} restarts in one call`, {
          provider: 'llama',
          retryable: true,
        });
      }
    }
  }

  private attempt(
    job: EngineJob,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    samples: SampleOutput[],
  ): Promise<{ kind: 'done' } | { kind: 'stuck'; message: string } | { kind: 'candidates'; candidates: CandidateOutput }> {
    const child = this.child;
    if (!child) return Promise.reject(new ProviderError(`${this.name} is not running`, { provider: 'llama', retryable: true }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.running = undefined;
      };
      const fail = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const timer = setTimeout(() => {
        this.stats.timeouts++;
        this.kill(child);
        fail(
          new TimeoutError(`${this.name} did not answer within the per-call timeout; the engine was stopped and restarts on the next call`, {
            provider: 'llama',
            retryable: true,
          }),
        );
      }, Math.max(0, timeoutMs));
      const onAbort = (): void => {
        this.kill(child);
        const reason: unknown = signal?.reason;
        fail(reason instanceof Error ? reason : new ProviderError('the call was aborted', { provider: 'llama', retryable: false }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.running = {
        child,
        id,
        onMessage: (message) => {
          if (!('id' in message) || message.id !== id) return;
          switch (message.type) {
            case 'sample':
              samples.push(message.sample);
              break;
            case 'candidates':
              cleanup();
              if (message.retire) void this.retire(child);
              resolve({ kind: 'candidates', candidates: message.result });
              break;
            case 'done':
              cleanup();
              resolve({ kind: 'done' });
              break;
            case 'run-error':
              if (message.kind === 'stuck') {
                this.kill(child);
                cleanup();
                resolve({ kind: 'stuck', message: message.message });
              } else {
                // A failed completion leaves the engine unusable: replace it for the next call.
                this.kill(child);
                fail(new ProviderError(`${this.name} failed: ${message.message}`, { provider: 'llama', retryable: false }));
              }
              break;
          }
        },
        onExit: (code, signal) => {
          this.stats.crashes++;
          const tail = lastLines(this.log);
          fail(
            new ProviderError(
              `${this.name} ${signal ? `crashed (${signal})` : `exited with code ${code}`} during the call; it restarts on the next call${tail ? ` (engine log: ${tail})` : ''}`,
              { provider: 'llama', retryable: true },
            ),
          );
        },
      };
      this.send(child, { type: 'run', id, job });
    });
  }

  private send(child: ChildProcess, message: ToChild): void {
    if (child.connected) child.send(message);
  }

  private kill(child: ChildProcess): void {
    if (this.child === child) {
      this.child = undefined;
      this.loading = undefined;
      this.stats.pid = undefined;
    }
    child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    if (this.child) await this.retire(this.child);
  }

  /** Lets a child exit; the next call starts a fresh one. */
  private async retire(child: ChildProcess): Promise<void> {
    if (this.child === child) {
      this.child = undefined;
      this.loading = undefined;
      this.stats.pid = undefined;
    }
    this.stats.retired++;
    // Never `release()` the native context (it can crash); exit and let the OS reclaim.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 2000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (child.connected) child.send({ type: 'exit' } satisfies ToChild);
      else child.kill('SIGKILL');
    });
  }
}

function stripEngineOnly(o: ChildEngineOptions): ChildLoadOptions {
  return { model: o.model, mmproj: o.mmproj, contextSize: o.contextSize, batchSize: o.batchSize, threads: o.threads, gpuLayers: o.gpuLayers };
}

/** The last few meaningful lines of an engine log, on one line. */
function lastLines(log: string): string {
  return log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(-3)
    .join(' | ')
    .slice(-400);
}
