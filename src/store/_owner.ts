import { hostname } from 'node:os';

/**
 * Who holds a run or a call claim: `host:pid:nonce`. A holder is alive while its lease has
 * not expired (it renews the lease with a heartbeat) and, when it runs on this host, while
 * its process exists: a process killed with `kill -9` stops counting at once instead of
 * after its lease runs out.
 */

/** How long a claim or a run heartbeat stays valid without renewal, in milliseconds. */
export const LEASE_MS = 30_000;

/** The nonce tells apart two processes that had the same pid on one host; it is no secret. */
export function newOwner(): string {
  const nonce = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${hostname()}:${process.pid}:${nonce}`;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `owner` still holds a lease that runs until `expiresAt` (ms since the epoch). */
export function ownerAlive(owner: string | null, expiresAt: number | null, now = Date.now()): boolean {
  if (!owner || expiresAt === null || expiresAt <= now) return false;
  const parts = owner.split(':');
  const pid = Number(parts[parts.length - 2]);
  const host = parts.slice(0, -2).join(':');
  if (host === hostname() && Number.isInteger(pid) && pid > 0) return processExists(pid);
  return true;
}
