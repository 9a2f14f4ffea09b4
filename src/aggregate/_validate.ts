/**
 * Argument checks shared by the statistics functions. Every failure is a
 * `StatisticsInputError` whose message follows the project template
 * "Expected `x` to be ..., got `...`".
 */
import { expected } from '../core/errors.js';
import { StatisticsInputError } from './errors.js';

export function fail(name: string, what: string, got: unknown): never {
  throw new StatisticsInputError(name, expected(name, what, got));
}

/** Every entry finite (no NaN, no +/-Infinity). Reports the first offending index. */
export function assertFiniteArray(name: string, x: readonly number[], minLength = 0): void {
  if (!Array.isArray(x)) fail(name, 'an array of numbers', x);
  if (x.length < minLength) fail(name, `an array of at least ${minLength} numbers`, `length ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${name}[${i}]`, 'a finite number', v);
  }
}

export function assertSameLength(nameA: string, a: readonly unknown[], nameB: string, b: readonly unknown[]): void {
  if (a.length !== b.length) {
    fail(nameB, `an array of the same length as \`${nameA}\` (${a.length})`, `length ${b.length}`);
  }
}

/** Paired numeric samples: same length, finite, at least `minLength` pairs. */
export function assertPaired(x: readonly number[], y: readonly number[], minLength: number): void {
  assertFiniteArray('x', x);
  assertFiniteArray('y', y);
  assertSameLength('x', x, 'y', y);
  if (x.length < minLength) fail('x', `an array of at least ${minLength} numbers`, `length ${x.length}`);
}

export function assertProbability(name: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(name, 'a probability in [0, 1]', p);
}

export function assertPositive(name: string, v: number): void {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) fail(name, 'a finite number > 0', v);
}

export function assertNonNegative(name: string, v: number): void {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) fail(name, 'a finite number >= 0', v);
}

export function assertInteger(name: string, v: number, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(name, `an integer >= ${min}`, v);
}
