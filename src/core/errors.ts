/**
 * One error hierarchy for Quorum. Every error carries typed fields and, where it wraps
 * another failure, the original as `cause`. Expected failures that are data (a judge
 * answer that does not parse) are result values, not exceptions: see `result.ts`.
 */
export class QuorumError extends Error {
  override readonly name: string = 'QuorumError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad command-line usage or options. The CLI shows usage and exits with code 2. */
export class UsageError extends QuorumError {
  override readonly name: string = 'UsageError';
}

/** A configuration problem (missing API key, unknown provider, bad template file). */
export class ConfigError extends QuorumError {
  override readonly name: string = 'ConfigError';
}

/**
 * A problem in a configuration file, located: `quorum.config.yaml:12: judges.fast.judge:
 * unknown provider "opnai" (known: openai, anthropic, llama)`. A usage error (exit 2),
 * printed as that one line.
 */
export class ConfigFileError extends UsageError {
  override readonly name: string = 'ConfigFileError';
  readonly file: string;
  /** 1-based; the line of the key, or of the nearest enclosing key when it is missing. */
  readonly line: number | undefined;
  /** Dotted key path, `judges.fast.judge`, `panels.p.neurons[2].judge`; empty for the whole file. */
  readonly keyPath: string;
  readonly reason: string;
  constructor(file: string, line: number | undefined, keyPath: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${keyPath ? `${keyPath}: ` : ''}${reason}`, options);
    this.file = file;
    this.line = line;
    this.keyPath = keyPath;
    this.reason = reason;
  }
}

/** A problem with one input file. The run goes on with the other inputs. */
export class InputError extends QuorumError {
  override readonly name: string = 'InputError';
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`${path}: ${reason}`, options);
    this.path = path;
    this.reason = reason;
  }
}

export interface ProviderErrorFields {
  provider: string;
  status?: number | undefined;
  requestId?: string | undefined;
  retryable: boolean;
  /** Server-requested wait before the next attempt, from `retry-after` / `retry-after-ms`. */
  retryAfterMs?: number | undefined;
  /**
   * No retry and no other item can succeed (bad key, unknown model, a server that takes no
   * images, a host that does not exist): the run stops at the first one. @default false
   */
  fatal?: boolean | undefined;
  /** The request never got an HTTP answer (refused, reset, unreachable): counts for the circuit breaker. */
  connection?: boolean | undefined;
  /** The system error code and address when the connection failed, e.g. `ECONNREFUSED 127.0.0.1:9`. */
  errno?: string | undefined;
}

/** A provider call failed. `retryable` follows the policy in `judges/session/retry.ts`. */
export class ProviderError extends QuorumError {
  override readonly name: string = 'ProviderError';
  readonly provider: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly fatal: boolean;
  readonly connection: boolean;
  readonly errno: string | undefined;
  constructor(message: string, fields: ProviderErrorFields, options?: { cause?: unknown }) {
    super(message, options);
    this.provider = fields.provider;
    this.status = fields.status;
    this.requestId = fields.requestId;
    this.retryable = fields.retryable;
    this.retryAfterMs = fields.retryAfterMs;
    this.fatal = fields.fatal ?? false;
    this.connection = fields.connection ?? false;
    this.errno = fields.errno;
  }
}

export class RateLimitError extends ProviderError {
  override readonly name: string = 'RateLimitError';
}
export class AuthError extends ProviderError {
  override readonly name: string = 'AuthError';
}
export class TimeoutError extends ProviderError {
  override readonly name: string = 'TimeoutError';
}
/** The provider or model cannot do what was asked (no log-probabilities, no images). */
export class CapabilityError extends QuorumError {
  override readonly name: string = 'CapabilityError';
}

/** A judge answer that could not be turned into a valid result, with everything it said. */
export class ParseError extends QuorumError {
  override readonly name: string = 'ParseError';
  readonly raw: string;
  readonly attempts: number;
  constructor(message: string, raw: string, attempts: number, options?: { cause?: unknown }) {
    super(message, options);
    this.raw = raw;
    this.attempts = attempts;
  }
}

/** The run stopped because the next call would pass `--max-cost`. */
export class BudgetError extends QuorumError {
  override readonly name: string = 'BudgetError';
}

/** A local model file is unusable (not GGUF, truncated, wrong architecture, bad projector). */
export class ModelFileError extends QuorumError {
  override readonly name: string = 'ModelFileError';
  readonly path: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`${path}: ${reason}`, options);
    this.path = path;
  }
}

/** The database file cannot be used (missing folder, not SQLite, corrupt, foreign, read-only). */
export class StoreError extends QuorumError {
  override readonly name: string = 'StoreError';
  readonly path: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`database ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** Validation message template: Expected `samples` to be an integer >= 1, got `0`. */
export function expected(name: string, what: string, got: unknown): string {
  return `Expected \`${name}\` to be ${what}, got \`${typeof got === 'string' ? got : JSON.stringify(got)}\``;
}

/** A short, single-line description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}
