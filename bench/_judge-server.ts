/**
 * The OpenAI test server for benches, in its own process: `node --import tsx
 * bench/_judge-server.ts LATENCY_MS [PORT]` prints its base URL and serves until killed. Unlike
 * test/support/serve.ts it forgets its request log every second: the log keeps every
 * parsed body (the images' base64 included), which over a bench's tens of thousands of
 * requests grew the server's heap by hundreds of MiB, and its garbage collection took
 * CPU from whichever side of the comparison was running late in the bench.
 */
import { startOpenAIServer } from '../test/support/judge-server/index.js';

const latencyMs = Number(process.argv[2] ?? 50);
// A fixed port keeps the base URL, part of a judge's identity and so of every cache key, across benches.
const server = await startOpenAIServer({ latencyMs, port: Number(process.argv[3] ?? 0) });
console.log(server.url);
setInterval(() => server.resetCounts(), 1000).unref();
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
