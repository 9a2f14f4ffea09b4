/**
 * A loopback "model hub" speaking the parts of Hugging Face's HTTP interface that
 * node-llama-cpp's resolver and downloader use, so `quorum pull` can be tested with
 * nothing leaving the machine (point `MODEL_ENDPOINT` at `hub.url`):
 *
 * - `GET|HEAD /{user}/{repo}/resolve/{branch}/{file}` (and any other path given in
 *   `files`): the file, with `Accept-Ranges: bytes` and single-range `Range` requests;
 * - `GET /v2/{user}/{repo}/manifests/{tag}`: `{ ggufFile: { rfilename } }` from `manifests`;
 * - `HEAD /`: 200 (a reachability check).
 *
 * Every request is logged with its range and the body bytes the hub wrote for it.
 * Faults: `dropOnce` ends the first ranged response of a path after N body bytes by
 * destroying the socket; `stallAfter` stops sending after N bytes and holds the
 * connection open (for a client to be killed mid-download).
 *
 * @example
 * const hub = await startModelHub({ files: { '/me/tiny-GGUF/resolve/main/tiny.gguf': bytes } });
 * await runQuorum(['pull', 'hf:me/tiny-GGUF/tiny.gguf'], { env: { MODEL_ENDPOINT: hub.url } });
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HubRequest {
  method: string;
  path: string;
  /** `start-end` of a Range request, else undefined. */
  range: string | undefined;
  status: number;
  /** Body bytes written for this request. */
  bytes: number;
}

export interface ModelHubOptions {
  /** URL path -> file contents. */
  files: Record<string, Buffer>;
  /** `/v2/{user}/{repo}/manifests/{tag}` -> file name in that repo. */
  manifests?: Record<string, string>;
  /** The first ranged response for `path` is cut after `afterBytes` body bytes. */
  dropOnce?: { path: string; afterBytes: number } | undefined;
  /** Every response for `path` stops after `afterBytes` and hangs until the hub closes. */
  stallAfter?: { path: string; afterBytes: number } | undefined;
}

export interface ModelHub {
  url: string;
  requests: HubRequest[];
  /** Body bytes written for requests of `path` (with a Range header only, when `ranged`). */
  bytesServed(path: string, options?: { ranged?: boolean }): number;
  options: ModelHubOptions;
  close(): Promise<void>;
}

export async function startModelHub(options: ModelHubOptions): Promise<ModelHub> {
  const requests: HubRequest[] = [];
  const sockets = new Set<Socket>();
  let dropped = false;

  const serve = (req: IncomingMessage, res: ServerResponse, path: string, body: Buffer, log: HubRequest): void => {
    const size = body.length;
    let start = 0;
    let end = size - 1;
    const rangeHeader = req.headers.range;
    const m = rangeHeader ? /^bytes=(\d+)-(\d*)$/.exec(rangeHeader) : null;
    if (rangeHeader && !m) {
      log.status = 416;
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        log.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      log.range = `${start}-${end}`;
    }
    const length = end - start + 1;
    log.status = m ? 206 : 200;
    res.writeHead(log.status, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(length),
      'Accept-Ranges': 'bytes',
      ...(m ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let limit = length;
    let after: 'drop' | 'stall' | undefined;
    const o = hub.options;
    if (m && !dropped && o.dropOnce?.path === path && length > o.dropOnce.afterBytes) {
      dropped = true;
      limit = o.dropOnce.afterBytes;
      after = 'drop';
    } else if (o.stallAfter?.path === path && length > o.stallAfter.afterBytes - start && o.stallAfter.afterBytes > start) {
      limit = o.stallAfter.afterBytes - start;
      after = 'stall';
    }
    const slice = body.subarray(start, start + limit);
    log.bytes += slice.length;
    res.write(slice, () => {
      if (after === 'drop') req.socket.destroy();
      else if (after !== 'stall') res.end();
    });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const path = decodeURIComponent(url.pathname);
    const log: HubRequest = { method: req.method ?? 'GET', path, range: undefined, status: 0, bytes: 0 };
    requests.push(log);
    if (path === '/' && req.method === 'HEAD') {
      log.status = 200;
      res.writeHead(200).end();
      return;
    }
    const manifest = hub.options.manifests?.[path];
    if (manifest !== undefined) {
      log.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ggufFile: { rfilename: manifest } }));
      return;
    }
    const body = hub.options.files[path];
    if (!body) {
      log.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    serve(req, res, path, body, log);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const hub: ModelHub = {
    url: `http://127.0.0.1:${port}/`,
    requests,
    options,
    bytesServed: (path, o = {}) => requests.filter((r) => r.path === path && (!o.ranged || r.range !== undefined)).reduce((n, r) => n + r.bytes, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return hub;
}
