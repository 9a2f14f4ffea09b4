import { UsageError, expected } from '../core/errors.js';

/** Upper bounds that keep a typo from allocating gigabytes before the first request. */
export const MAX_SAMPLES = 1000;
export const MAX_CONCURRENCY = 1024;

/** `value` when it is an integer in [min, max], `undefined` when absent; else a UsageError. */
export function integerOption(name: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(expected(name, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`, String(value)));
  }
  return value;
}

/** `value` when it is a finite number in [min, max], `undefined` when absent; else a UsageError. */
export function numberOption(name: string, value: number | undefined, min: number, max = Number.POSITIVE_INFINITY): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(expected(name, max === Number.POSITIVE_INFINITY ? `a number >= ${min}` : `a number in [${min}, ${max}]`, String(value)));
  }
  return value;
}
