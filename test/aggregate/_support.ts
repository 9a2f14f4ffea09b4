/**
 * Fixture loading and tolerance checks for the statistics tests. Fixtures are written by
 * test/fixtures/stats/make-fixtures.py (SciPy, statsmodels, mpmath) and committed.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/**
 * fast-check runs with a fixed seed so CI is reproducible; set FC_SEED to explore others
 * (a failure prints the seed and path to replay it).
 */
export const propertyOptions = (numRuns: number): { numRuns: number; seed: number } => ({
  numRuns,
  seed: process.env.FC_SEED === undefined ? 20_240_607 : Number(process.env.FC_SEED),
});

/** Closed-form results must agree to this (absolute, or relative when |expected| > 1). */
export const CLOSED_FORM = 1e-9;
/** Results of an iterative fit must agree to this. */
export const FITTED = 1e-6;

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/stats/${name}`, import.meta.url), 'utf8')) as T;
}

/** |actual - expected| <= tol * max(1, |expected|). */
export function expectClose(actual: number, expected: number, tol: number, label = ''): void {
  const bound = tol * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= bound)) {
    expect.fail(`${label}: expected ${expected}, got ${actual} (|diff| ${Math.abs(actual - expected)} > ${bound})`);
  }
}

export function expectAllClose(actual: readonly number[], expected: readonly number[], tol: number, label = ''): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  expected.forEach((e, i) => expectClose(actual[i] as number, e, tol, `${label}[${i}]`));
}

/** Deep-freezes test inputs so that a function mutating its arguments throws. */
export function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value as object)) frozen(v);
    Object.freeze(value);
  }
  return value;
}
