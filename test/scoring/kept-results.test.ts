/**
 * A rerun keeps an image's stored result when nothing it came from changed: the run (so
 * the judge, prompt and options), the file's content, the version of Quorum that wrote
 * it, and every sample answered. Everything else is scored again, from the store or the
 * judge. Kept results must be exactly what scoring again would print.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { runQuorum } from '../support/cli.js';
import { completions, lines, spread, tempDir, withDb, writeImages, type TempDir } from './_support.js';

const KEY = 'sk-test-kept';
const env = { OPENAI_API_KEY: KEY };
let tmp: TempDir;
let server: JudgeServer;

beforeEach(async () => {
  tmp = await tempDir();
  await writeImages(tmp.images, spread(5));
  server = await startOpenAIServer({ apiKey: KEY });
});
afterEach(async () => {
  await server.close();
  await tmp.cleanup();
});

const scoreArgs = (method: string, samples: number, extra: string[] = []) => [
  'score', tmp.images, '--judge', 'openai:sim', '--base-url', server.url, '--method', method, '--samples', String(samples),
  '--concurrency', '1', '--db', tmp.path('q.db'), '--run', `kept-${method}-${extra.join('')}`, '--format', 'jsonl', ...extra,
];

/** Per image path, its output line. */
const perImage = (stdout: string) => new Map(lines(stdout).map((l) => [(JSON.parse(l) as { path: string }).path, l]));

const score = (method: string, samples: number) => scoreArgs(method, samples);

describe('a cached rerun', () => {
  it.each([
    ['sample', 3, []],
    ['levels', 1, []],
    ['sample', 2, ['--prompt', 'quality-report']],
  ])('keeps %s results (%i samples, %j) exactly as scoring them again from the store prints them', async (method, samples, prompt) => {
    const score = (m: string, k: number, extra: string[] = []) => scoreArgs(m, k, [...prompt, ...extra]);
    const first = await runQuorum(score(method, samples), { env });
    expect(first.code, first.stderr).toBe(0);
    const asked = completions(server).length;

    // The first rerun rewrites each row once (its cached count changes from 0); the second keeps them as they are.
    const again = await runQuorum(score(method, samples), { env });
    const kept = await runQuorum(score(method, samples), { env });
    // --new: a fresh run of the same name, every result computed again from the stored answers.
    const recomputed = await runQuorum([...score(method, samples), '--new'], { env });
    for (const r of [again, kept, recomputed]) expect(r.code, r.stderr).toBe(0);
    expect(completions(server)).toHaveLength(asked);
    expect(kept.stdout).toBe(again.stdout);
    expect(kept.stdout).toBe(recomputed.stdout);
    expect(kept.stderr).toMatch(new RegExp(`5/5 images scored, 0 requests, ${5 * samples} cached samples`));
    expect(kept.stdout).toBe(first.stdout.replace(/"cached":0/g, `"cached":${samples}`));
  });

  it('keeps only complete results of this version for unchanged files, and scores the rest again', async () => {
    // The first request answers nonsense: one image fails to parse and stays failed.
    server.failNext({ kind: 'say', text: 'no score here' }, { kind: 'say', text: 'still no score' });
    // Exit 1: an image failed.
    const first = await runQuorum(score('sample', 1), { env });
    expect(first.code, first.stderr).toBe(1);
    const failed = [...perImage(first.stdout)].filter(([, l]) => JSON.parse(l).status !== 'ok').map(([p]) => p);
    expect(failed).toHaveLength(1);
    await runQuorum(score('sample', 1), { env });

    // Mark every stored result: a kept one shows the mark, one scored again does not.
    const db = tmp.path('q.db');
    const mark = (where = '') =>
      withDb(db, (d) =>
        d.prepare(`UPDATE results SET value = json_set(value, '$.reasoning', 'as stored') WHERE kind = 'image' ${where}`).run(),
      );
    const marked = (stdout: string) => [...perImage(stdout)].filter(([, l]) => JSON.parse(l).reasoning === 'as stored').map(([p]) => p);
    mark();
    const all = [...perImage(first.stdout).keys()];
    const ok = all.filter((p) => !failed.includes(p));
    const rerun = await runQuorum(score('sample', 1), { env });
    expect(rerun.code, rerun.stderr).toBe(1);
    expect(marked(rerun.stdout).sort()).toEqual([...ok].sort());
    expect(rerun.stderr).toMatch(/4\/5 images scored, 0 requests, 5 cached samples/);

    // A result another version of Quorum wrote is scored again (and rewritten by this one).
    const older = ok[0]!;
    withDb(db, (d) => d.prepare("UPDATE results SET print = replace(print, '|0.1.0', '|0.0.9') WHERE item_key = ?").run(older));
    const afterVersion = await runQuorum(score('sample', 1), { env });
    expect(marked(afterVersion.stdout).sort()).toEqual(ok.filter((p) => p !== older).sort());
    expect(withDb(db, (d) => d.prepare('SELECT print FROM results WHERE item_key = ?').pluck().get(older))).toMatch(/\|0\.1\.0\|[0-9a-f]{16}$/);

    // A result whose samples were asked differently (its fingerprint's basis: judge, prompt,
    // parameters and count) is scored again too, whatever the run's configuration says.
    const other = ok[2]!;
    mark(`AND item_key = '${older}'`);
    withDb(db, (d) => d.prepare("UPDATE results SET print = substr(print, 1, length(print) - 16) || '0123456789abcdef' WHERE item_key = ?").run(other));
    const afterBasis = await runQuorum(score('sample', 1), { env });
    expect(marked(afterBasis.stdout).sort()).toEqual(ok.filter((p) => p !== other).sort());

    // A file whose content changed under the same path is judged again; the others are kept.
    const changed = ok[1]!;
    await writeImages(tmp.images, [{ name: changed.split('/').pop()!, quality: 1.2, seed: 99 }]);
    const before = completions(server).length;
    const afterChange = await runQuorum(score('sample', 1), { env });
    expect(afterChange.code, afterChange.stderr).toBe(1);
    expect(completions(server).length - before).toBe(1);
    expect(marked(afterChange.stdout).sort()).toEqual(ok.filter((p) => p !== other && p !== changed).sort());
    expect(JSON.parse(perImage(afterChange.stdout).get(changed)!).sha256).not.toBe(JSON.parse(perImage(first.stdout).get(changed)!).sha256);
  });

  it('stores a kept result under its new position when files were added before it', async () => {
    const first = await runQuorum(score('sample', 1), { env });
    expect(first.code, first.stderr).toBe(0);
    await runQuorum(score('sample', 1), { env });
    // A name that sorts first moves every other image one place down.
    await writeImages(tmp.images, [{ name: '000-new.png', quality: 3 }]);
    const rerun = await runQuorum(score('sample', 1), { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    const order = lines(rerun.stdout).map((l) => (JSON.parse(l) as { path: string }).path);
    // Each row's own position, not only their order (rows left at their old places would tie).
    const stored = withDb(tmp.path('q.db'), (d) =>
      d.prepare("SELECT item_key AS path, position FROM results WHERE kind = 'image' ORDER BY item_key").all(),
    );
    expect(stored).toEqual(order.map((path, position) => ({ path, position })).sort((a, b) => (a.path < b.path ? -1 : 1)));
    const shown = await runQuorum(['show', 'kept-sample-', '--db', tmp.path('q.db'), '--format', 'jsonl']);
    expect(shown.stdout, shown.stderr).toBe(rerun.stdout);
  });
});
