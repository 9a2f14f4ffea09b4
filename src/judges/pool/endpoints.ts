import { expected, UsageError } from '../../core/errors.js';

/**
 * One replica of an endpoint pool: an OpenAI-compatible server (vLLM, llama-server,
 * SGLang, Ollama) serving the judge's model.
 * @example { url: 'http://gpu-1:8000/v1', weight: 2, concurrency: 16 }
 */
export interface EndpointSpec {
  /** Base URL, as `--base-url` takes it: `http://127.0.0.1:8080/v1`. */
  url: string;
  /** Share of the load relative to the other endpoints: requests go where outstanding / weight is lowest. @default 1 */
  weight?: number | undefined;
  /** Requests in flight on this endpoint at most. @default no limit of its own (the run's concurrency) */
  concurrency?: number | undefined;
}

/** Checks an endpoint list (library option, config file, parsed flags); names the field of the first problem. */
export function checkEndpoints(endpoints: readonly EndpointSpec[], name = 'endpoints'): EndpointSpec[] {
  if (endpoints.length === 0) throw new UsageError(expected(name, 'at least one endpoint', '[]'));
  const seen = new Set<string>();
  return endpoints.map((e, i) => {
    const at = `${name}[${i}]`;
    let url: URL | undefined;
    try {
      url = new URL(e.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      throw new UsageError(expected(`${at}.url`, 'an http(s) URL such as http://127.0.0.1:8080/v1', e.url));
    }
    const key = e.url.replace(/\/+$/, '');
    if (seen.has(key)) throw new UsageError(`${at}.url \`${e.url}\` is given twice; give each replica once (weight sets its share)`);
    seen.add(key);
    if (e.weight !== undefined && !(Number.isFinite(e.weight) && e.weight > 0 && e.weight <= 1000)) {
      throw new UsageError(expected(`${at}.weight`, 'a number in (0, 1000]', e.weight));
    }
    if (e.concurrency !== undefined && !(Number.isSafeInteger(e.concurrency) && e.concurrency >= 1 && e.concurrency <= 1024)) {
      throw new UsageError(expected(`${at}.concurrency`, 'an integer in [1, 1024]', e.concurrency));
    }
    return { url: e.url, ...(e.weight !== undefined ? { weight: e.weight } : {}), ...(e.concurrency !== undefined ? { concurrency: e.concurrency } : {}) };
  });
}

/**
 * One `--base-url` value: a URL, optionally followed by `#` and comma-separated settings,
 * `http://gpu-1:8000/v1#weight=2,concurrency=16`. (A fragment is never sent to a server,
 * so `#` cannot clash with a real URL.)
 */
export function parseEndpoint(text: string, name = 'base-url'): EndpointSpec {
  const hash = text.indexOf('#');
  const url = hash < 0 ? text : text.slice(0, hash);
  const spec: EndpointSpec = { url };
  if (hash < 0) return spec;
  for (const part of text.slice(hash + 1).split(',')) {
    const [key, value, ...rest] = part.split('=');
    const n = value !== undefined && /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
    if (rest.length || (key !== 'weight' && key !== 'concurrency') || Number.isNaN(n)) {
      throw new UsageError(expected(name, 'URL or URL#weight=W,concurrency=C (e.g. http://gpu-1:8000/v1#weight=2,concurrency=16)', text));
    }
    spec[key] = n;
  }
  return spec;
}
