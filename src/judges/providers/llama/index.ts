/** The `llama` provider: GGUF judges in process (node-llama-cpp) and, for images, in a child process (@fugood/llama.node). */
export { createLlamaProvider, LlamaProvider, DEFAULT_CONTEXT_SIZE, type LlamaProviderStatus } from './provider.js';
export { resolveLlamaOptions, defaultThreads, type LlamaOptions, type ResolvedLlamaOptions } from './options.js';
export { jsonSchemaGrammar, thinkAnswerGrammar, grammarForRequest, type GrammarPlan, type ThinkAnswerShape } from './grammar.js';
export type { ChildEngineStats } from './child/child-engine.js';
