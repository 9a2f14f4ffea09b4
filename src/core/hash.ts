import * as crypto from 'node:crypto';
import { stableStringify } from './stable-json.js';

export { stableStringify };

/** Node's one-shot digest (20.12 and later): no Hash object per call, half the CPU for small inputs. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'hex') => string }).hash;

/** Hex sha256 of bytes or a string (UTF-8). */
export function sha256(data: Uint8Array | string): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

/** sha256 of the stable JSON form of a value. */
export function hashObject(value: unknown): string {
  return sha256(stableStringify(value));
}
