import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import PQueue from 'p-queue';
import { loadSharp } from '../../images/index.js';

/** Longest side of an embedded thumbnail, in pixels; also what the viewer enlarges. */
export const THUMB_SIDE = 192;

/** A thumbnail as a data URI, and the full image's address. */
export interface Thumbnail {
  dataUri: string;
  fileUrl: string;
}

/**
 * Thumbnails for the report: each image read from its path, turned upright, shrunk to
 * `THUMB_SIDE` and embedded as WebP, so the page is one file that opens offline (about
 * 5-10 kB an image). A path that cannot be read gets none; the page says so.
 */
export async function makeThumbnails(paths: Iterable<string>): Promise<Map<string, Thumbnail | null>> {
  const sharp = await loadSharp();
  const out = new Map<string, Thumbnail | null>();
  const queue = new PQueue({ concurrency: 4 });
  for (const path of new Set(paths)) {
    if (!path) continue;
    void queue.add(async () => {
      try {
        const data = await sharp(path, { failOn: 'error', limitInputPixels: 1e9 })
          .rotate()
          .resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 70 })
          .toBuffer();
        out.set(path, { dataUri: `data:image/webp;base64,${data.toString('base64')}`, fileUrl: pathToFileURL(resolve(path)).href });
      } catch {
        out.set(path, null);
      }
    });
  }
  await queue.onIdle();
  return out;
}
