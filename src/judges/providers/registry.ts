import { ConfigError, UsageError } from '../../core/errors.js';
import type { Provider, ProviderConfig } from '../../core/provider.js';

export interface ProviderEntry {
  id: string;
  description: string;
  /** Environment variable holding the API key, read by the CLI. */
  keyEnv?: string;
  /** In-process or loopback judges cost nothing. */
  local?: (config: ProviderConfig) => boolean;
  create(config: ProviderConfig): Provider | Promise<Provider>;
}

/**
 * Adding a provider: a folder under `providers/` and one line here. Each loads on demand:
 * an SDK costs 130-270 ms of CPU to import, more than a cached rerun of 10,000 images
 * spends on everything else, and a run uses one provider.
 */
export const providerRegistry: Readonly<Record<string, ProviderEntry>> = {
  openai: {
    id: 'openai',
    description: 'OpenAI chat completions; with --base-url any OpenAI-compatible server (llama-server, vLLM, Ollama)',
    keyEnv: 'OPENAI_API_KEY',
    local: (c) => c.baseURL !== undefined && !c.baseURL.startsWith('https://api.openai.com'),
    create: async (config) => (await import('./openai/index.js')).createOpenAIProvider(config),
  },
  anthropic: {
    id: 'anthropic',
    description: 'Anthropic messages API',
    keyEnv: 'ANTHROPIC_API_KEY',
    create: async (config) => (await import('./anthropic/index.js')).createAnthropicProvider(config),
  },
  llama: {
    id: 'llama',
    description: 'In-process GGUF model (node-llama-cpp; images through @fugood/llama.node with --mmproj)',
    local: () => true,
    // The native engines are the largest of all.
    create: async (config) => (await import('./llama/index.js')).createLlamaProvider(config),
  },
};

/** `openai:gpt-4o` -> provider and model. The model part may itself contain colons (paths, tags). */
export function parseJudgeSpec(spec: string): { provider: string; model: string } {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) {
    throw new UsageError(`Expected \`--judge\` to look like provider:model (e.g. openai:gpt-4o), got \`${spec}\``);
  }
  const provider = spec.slice(0, colon);
  if (!providerRegistry[provider]) {
    throw new UsageError(
      `Unknown provider \`${provider}\` in --judge; known: ${Object.keys(providerRegistry).join(', ')}`,
    );
  }
  return { provider, model: spec.slice(colon + 1) };
}

export async function createProvider(provider: string, config: ProviderConfig): Promise<Provider> {
  const entry = providerRegistry[provider];
  if (!entry) throw new ConfigError(`Unknown provider \`${provider}\``);
  return entry.create(config);
}
