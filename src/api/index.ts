/**
 * The library API: `score`, `compare` and `rank` as the CLI runs them, with typed options
 * instead of flags. Every call is stored in a SQLite database (`db`, default `quorum.db`),
 * so reruns make no calls and interrupted runs resume.
 */
export { score, type ScoreOptions, type ScoreResult } from './score.js';
export { compare, type CompareOptions } from './compare.js';
export { rank, type RankOptions } from './rank.js';
export { openJudge, type OpenedJudge } from './judge.js';
export type { JudgeOptions, PairOptions } from './options.js';
export { MAX_CONCURRENCY, MAX_SAMPLES } from './_validate.js';
