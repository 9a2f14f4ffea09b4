/**
 * Quorum's public API. `score`, `compare` and `rank` run judges as the CLI does
 * (`api`); `startDemoServer` is a simulated judge to try them on (`demo`); statistics are
 * pure (`aggregate`); the run functions below them take a `Store` and a provider
 * (see README "Library").
 */
export * from './api/index.js';
export { DEMO_JUDGE, startDemoServer, writeDemoImages, type DemoImage, type DemoImages, type DemoServer, type DemoServerOptions } from './demo/index.js';
export * from './aggregate/index.js';
export * from './core/index.js';
export { Store } from './store/store.js';
export type { CallRecord, ImageRecord, JudgeParseRate, ResultRecord, RunRecord } from './store/store.js';
export { builtinTemplates, compareLevels, compareSample, qualityLevels, qualityReport, qualityScore } from './prompts/builtin.js';
export { defineTemplate, type PromptTemplate, type TemplateSpec } from './prompts/template.js';
export { loadTemplateFile, resolveTemplate } from './prompts/load.js';
export { parseSampleAnswer, parseWordAnswer, parseJsonAnswer, levelsFromLogprobs, QualityReport } from './prompts/answers.js';
export { collectInputs, encodeForJudge, loadImage } from './images/index.js';
export { DecodeBudget, DEFAULT_DECODE_MEMORY, sharedDecodeBudget } from './images/decode-budget.js';
export { createProvider, parseJudgeSpec, providerRegistry } from './judges/providers/registry.js';
export { createOpenAIProvider } from './judges/providers/openai/index.js';
export { createAnthropicProvider } from './judges/providers/anthropic/index.js';
export { createLlamaProvider } from './judges/providers/llama/index.js';
export { listModels, type LocalModel } from './local/index.js';
export { defaultRetryPolicy, type RetryPolicy } from './judges/session/retry.js';
export { batchPriceFactor, batchPriceOf, defaultPrices, liveAndBatchCost, priceFor, type Price, type PriceTable } from './judges/prices.js';
export { runBatched, type BatchEvent, type BatchOptions, type BatchSummary } from './judges/batch/run-batched.js';
export { BatchLedger, type BatchRecord } from './judges/batch/ledger.js';
export { JudgeSession } from './judges/session/session.js';
export { runScore, type ScoreRunEvent, type ScoreRunOptions, type ScoreRunResult } from './judges/score-run.js';
export { resolveMethod, type ImageScore, type ScoreMethod, type ScoreSettings } from './judges/score.js';
export { runCompare, summariseCompare, type ComparedPair, type CompareRunResult, type CompareSummary } from './judges/compare-run.js';
export { runRank, type RankedItem, type RankedPair, type RankRunResult, type RankStrategy } from './judges/rank-run.js';
export { judgePair, judgeOrder, positionBias, type PairResult, type PairSettings } from './judges/compare.js';
export { loadAnchors, type Anchor } from './judges/anchors.js';
export { QUORUM_VERSION } from './version.js';
