export { CONFIG_NAMES, judgeLine, loadConfig, parseConfig, validateConfigSection } from './load.js';
export type { LoadedConfig, NamedJudge } from './load.js';
export type { ConfigSource } from './_locate.js';
export { ConfigFile, Endpoint, JudgeEntry, JudgeSpec, judgeReference, panelReferences } from './schema.js';
