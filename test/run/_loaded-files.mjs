// Preloaded with `node --import` into a CLI process whose loaded files a test checks: as the
// process exits, prints one `loaded <path>` line on stderr for every file it loaded, ES
// modules (seen by a loader hook on its own thread, drained here synchronously) and
// CommonJS modules (the require cache).
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

const hooks = `let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
const { port1, port2 } = new MessageChannel();
port1.unref();
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });

process.on('exit', () => {
  const files = new Set();
  for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) {
    if (m.message.startsWith('file:')) files.add(fileURLToPath(m.message));
  }
  for (const file of Object.keys(createRequire(import.meta.url).cache)) files.add(file);
  process.stderr.write(`\n${[...files].map((f) => `loaded ${f}\n`).join('')}`);
});
