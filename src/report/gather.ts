import { collectInputs } from '../images/index.js';
import { contentKey } from '../judges/match.js';
import type { CallRecord, JudgeRecord, RunRecord, Store } from '../store/store.js';
import { makeThumbnails, type Thumbnail } from './html/thumbnails.js';
import { readStoredRun, runFacts, type RunFacts, type StoredRun } from './stored.js';

/** Everything a report shows about one run, read from the store (and thumbnails from the images' paths). */
export interface ReportRun {
  stored: StoredRun;
  facts: RunFacts;
  judges: JudgeRecord[];
  /** A score run's calls per image (sha256), sample order. */
  callsByImage: Map<string, CallRecord[]>;
  thumbnails: Map<string, Thumbnail | null>;
  /** A compare run with a reference folder: the reference image of each pair key. */
  referenceOf: Map<string, string>;
}

/** Reads runs for a report. No judge is called; images are read only for thumbnails. */
export async function gatherReport(store: Store, runs: readonly RunRecord[], options: { thumbnails?: boolean } = {}): Promise<ReportRun[]> {
  const out: ReportRun[] = [];
  for (const run of runs) {
    const stored = readStoredRun(store, run);
    const calls = store.runCalls(run.id);
    const facts = runFacts(calls, store.runErrorCalls(run.id));
    const judges = [...new Set(calls.map((c) => c.judgeId))].map((id) => store.getJudge(id)).filter((j): j is JudgeRecord => j !== undefined);
    const callsByImage = new Map<string, CallRecord[]>();
    if (stored.command === 'score') {
      for (const c of calls) {
        if (c.imageHashes.length !== 1) continue; // anchor comparisons belong to no one image
        const sha = c.imageHashes[0] as string;
        const list = callsByImage.get(sha) ?? [];
        list.push(c);
        callsByImage.set(sha, list);
      }
      for (const list of callsByImage.values()) list.sort((a, b) => a.sampleIndex - b.sampleIndex || a.id - b.id);
    }
    const referenceOf = new Map<string, string>();
    const reference = run.options['reference'];
    if (stored.command === 'compare' && typeof reference === 'string') {
      const found = await collectInputs([reference]).catch(() => undefined);
      for (const f of found?.files ?? []) referenceOf.set(contentKey(f.relPath), f.path);
    }
    const paths =
      stored.command === 'score'
        ? stored.images.filter((i) => i.sha256 !== null).map((i) => i.path)
        : stored.command === 'compare'
          ? [...stored.pairs.flatMap((p) => [p.a.path, p.b.path]), ...referenceOf.values()]
          : stored.command === 'hallucination'
            ? stored.items.filter((i) => i.width !== null).map((i) => i.sr)
            : [];
    const thumbnails = options.thumbnails === false ? new Map<string, Thumbnail | null>() : await makeThumbnails(paths);
    out.push({ stored, facts, judges, callsByImage, thumbnails, referenceOf });
  }
  return out;
}
