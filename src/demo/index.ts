/**
 * Try Quorum with no API key and no model: a simulated judge behind an OpenAI-compatible
 * server on 127.0.0.1, and images whose true quality it reads back from the pixels.
 *
 * The judge is a stand-in, not a model: it measures the coarse-scale noise of an image
 * (the less noise, the better; quality 1-5), perceives it with seeded Gaussian noise
 * (sd 0.25) and answers in whatever format the request asks for (reasoned samples, level
 * log-probabilities, JSON reports, pairwise verdicts). Answers are deterministic for a
 * given seed. Nothing is downloaded.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { startOpenAIServer } from './judge-server/openai.js';
import { makeTestImage } from './test-images.js';

/** The judge spec that names the simulated judge: give it with the server's `url` as base URL. */
export const DEMO_JUDGE = 'openai:simulated';

export interface DemoServerOptions {
  /** Port on 127.0.0.1. @default 0 (any free port) */
  port?: number | undefined;
  /** Seeds every answer: the same seed and request give the same answer. @default 0 */
  seed?: number | undefined;
}

/** A running simulated judge. */
export interface DemoServer {
  /** OpenAI-compatible base URL, `http://127.0.0.1:PORT/v1`: Quorum's `--base-url` / `baseURL`. */
  readonly url: string;
  readonly port: number;
  /** The judge spec to use with `url`: {@link DEMO_JUDGE}. */
  readonly judge: typeof DEMO_JUDGE;
  /** Completion requests answered so far. */
  readonly calls: number;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Starts the simulated judge on 127.0.0.1. It needs no API key (any key is accepted and
 * ignored) and knows any model name.
 * @example
 * const demo = await startDemoServer();
 * await score(['photos/'], { judge: demo.judge, baseURL: demo.url });
 * await demo.close();
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const port = options.port ?? 0;
  let server;
  try {
    server = await startOpenAIServer({ port, seed: options.seed ?? 0 });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'EADDRINUSE'
        ? `Port ${port} on 127.0.0.1 is in use (EADDRINUSE); choose another port`
        : `Cannot start the simulated judge on 127.0.0.1:${port}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return {
    url: server.url,
    port: server.port,
    judge: DEMO_JUDGE,
    get calls() {
      return server.calls;
    },
    close: () => server.close(),
  };
}

/** One generated image and the quality the simulated judge reads from it. */
export interface DemoImage {
  path: string;
  quality: number;
}

/** What `writeDemoImages` wrote. */
export interface DemoImages {
  /** Folder of images of known quality (the quality is in each file name). */
  images: string;
  /** Two systems' outputs of the same four scenes, matched by name; B is the better system. */
  systemA: string;
  systemB: string;
  /** Every image written, with its true quality. */
  files: DemoImage[];
}

/** Qualities of the `images/` folder, worst first. */
const IMAGE_QUALITIES = [1.5, 2.2, 2.9, 3.6, 4.3, 4.9] as const;
/** Per scene: system A's quality; system B is `SYSTEM_B_GAIN` better. */
const SCENE_QUALITIES = [2, 2.6, 3.2, 3.8] as const;
const SYSTEM_B_GAIN = 0.9;
const WIDTH = 160;
const HEIGHT = 120;

/**
 * Writes small PNGs of known quality under `dir` (created if needed; other files are left
 * alone): `images/quality-1.5.png` ... `quality-4.9.png` to score or rank, and
 * `system-a/` and `system-b/` (four matched scenes, B better by 0.9) to compare.
 * Same bytes every time.
 * @example
 * const demo = await writeDemoImages('demo');
 * demo.images;   // => 'demo/images'
 * demo.files[0]; // => { path: 'demo/images/quality-1.5.png', quality: 1.5 }
 */
export async function writeDemoImages(dir: string): Promise<DemoImages> {
  const images = join(dir, 'images');
  const systemA = join(dir, 'system-a');
  const systemB = join(dir, 'system-b');
  const planned: (DemoImage & { seed: number })[] = [
    ...IMAGE_QUALITIES.map((quality, i) => ({ path: join(images, `quality-${quality.toFixed(1)}.png`), quality, seed: i })),
    ...SCENE_QUALITIES.flatMap((quality, i) => [
      { path: join(systemA, `scene-${i + 1}.png`), quality, seed: 100 + i },
      { path: join(systemB, `scene-${i + 1}.png`), quality: Math.min(5, quality + SYSTEM_B_GAIN), seed: 100 + i },
    ]),
  ];
  try {
    for (const folder of [images, systemA, systemB]) await mkdir(folder, { recursive: true });
    for (const file of planned) {
      await writeFile(file.path, await makeTestImage({ quality: file.quality, width: WIDTH, height: HEIGHT, seed: file.seed }));
    }
  } catch (cause) {
    const error = cause as NodeJS.ErrnoException;
    throw new ConfigError(`Cannot write the demo images under ${dir}: ${error.code ?? error.message}${error.path ? ` (${error.path})` : ''}`, { cause });
  }
  return { images, systemA, systemB, files: planned.map(({ path, quality }) => ({ path, quality })) };
}
