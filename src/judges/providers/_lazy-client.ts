/**
 * An SDK client made when the first request goes out, once, however many requests ask at
 * the same time: a provider whose every answer is served from the cache never loads its
 * SDK (the openai and Anthropic SDKs are 100-150 modules each, most of a cached rerun's
 * start-up).
 */
export function lazyClient<C>(make: () => Promise<C>): () => Promise<C> {
  let pending: Promise<C> | undefined;
  return () => (pending ??= make());
}
