/** A hallucination run as `quorum show --format json` prints it: what the reports must show. */
import { runQuorum } from '../support/cli.js';
import type { ReportFixtures } from './_fixtures.js';

export interface ShownHallucination {
  items: {
    id: string;
    system: string;
    sr: string;
    status: string;
    width: number;
    height: number;
    findings: { kind: string; severity: string; box: { x0: number; y0: number; x1: number; y1: number } }[];
  }[];
  systems: { system: string; rank: number; findings: Record<string, number> }[];
}

export async function showJson(fx: ReportFixtures, run: string): Promise<ShownHallucination> {
  const r = await runQuorum(['show', run, '--db', fx.db, '--format', 'json']);
  if (r.code !== 0) throw new Error(`quorum show ${run} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ShownHallucination;
}
