/**
 * `quorum report --format md`: the summary people paste into pull requests and papers,
 * from real runs (see _fixtures.ts): one section per run with its headline table, its
 * facts and links to the images; markup and table pipes from judges and file names escaped.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runQuorum } from '../support/cli.js';
import { showJson, type ShownHallucination } from './_hallucination.js';
import { HOSTILE_IMG, reportFixtures, type ReportFixtures } from './_fixtures.js';

let fx: ReportFixtures;
const runs: Record<string, string> = {};

beforeAll(async () => {
  fx = await reportFixtures();
  runs['score'] = await fx.scoreRun();
  runs['compare'] = await fx.compareRun();
  runs['rank'] = await fx.rankRun();
  runs['hostile'] = await fx.hostileRun();
  runs['halluc'] = await fx.hallucinationRun();
}, 240_000);
afterAll(() => fx.cleanup());

it('one section per run: images with score, spread and status; the comparison with its intervals; the ranking; the facts', async () => {
  const out = join(fx.dir, 'report.md');
  const r = await fx.report([runs['score']!, runs['compare']!, runs['rank']!], out, ['--format', 'md']);
  expect(r.code, r.stderr).toBe(0);
  const md = await readFile(out, 'utf8');
  const sections = md.split(/^## /m).slice(1);
  expect(sections.map((s) => s.split('\n')[0])).toEqual([
    `${runs['score']} (score, done)`,
    `${runs['compare']} (compare, done)`,
    `${runs['rank']} (rank, done)`,
  ]);
  const [score, compare, rank] = sections as [string, string, string];
  // Every input, with its status, linked by path.
  const imageRows = score.split('\n').filter((l) => l.startsWith('| ['));
  expect(imageRows).toHaveLength(13);
  expect(imageRows.filter((l) => / \| error \| /.test(l))).toHaveLength(1);
  expect(imageRows.filter((l) => / \| failed \| /.test(l))).toHaveLength(1);
  expect(imageRows.every((l) => /^\| \[[^\]]+\]\([^)]+\) \| /.test(l))).toBe(true);
  expect(score).toMatch(/^- judge: openai:sim-judge at http:\/\/127\.0\.0\.1:\d+\/v1$/m);
  expect(score).toMatch(/^- calls: 36 \(0 cached\), 3 parse failures/m);
  expect(compare).toMatch(/^\| win rate of B \| \d\.\d\d \[\d\.\d\d, \d\.\d\d\] \|$/m);
  expect(compare.split('\n').filter((l) => /^\| (cat|dog|owl|fox) \|/.test(l))).toHaveLength(4);
  const ranked = rank.split('\n').filter((l) => /^\| \d+ \|/.test(l));
  expect(ranked).toHaveLength(5);
  for (const row of ranked) expect(row).toMatch(/\| -?\d\.\d\d \| \[-?\d\.\d\d, -?\d\.\d\d\] \| \d+ \| ranked \|$/);
});

it('markup from a judge stays text in Markdown: angle brackets escaped, no raw element', async () => {
  const out = join(fx.dir, 'hostile.md');
  const r = await fx.report([runs['hostile']!], out, ['--format', 'md']);
  expect(r.code, r.stderr).toBe(0);
  const md = await readFile(out, 'utf8');
  expect(md).not.toContain(HOSTILE_IMG);
  expect(md).toContain('\\<img src=x onerror=alert(1)\\>');
  // Every `<` a judge or a file name brought is escaped (`\<`), so no element is written.
  expect(md).not.toMatch(/(^|[^\\])<(svg|script|img)/m);
  expect(md).toContain('\\<svg onload=alert(1)\\>');
});

it('a hallucination run: systems ranked with intervals beside fidelity and counts by kind, then every finding with its box', async () => {
  const out = join(fx.dir, 'halluc.md');
  const r = await fx.report([runs['halluc']!], out, ['--format', 'md']);
  expect(r.code, r.stderr).toBe(0);
  const md = await readFile(out, 'utf8');
  const shown: ShownHallucination = await showJson(fx, runs['halluc']!);
  const systems = md.split('\n').filter((l) => /^\| \d+ \| sr-/.test(l));
  expect(systems).toHaveLength(3);
  expect(systems.map((l) => l.split(' | ')[1])).toEqual([...shown.systems].sort((a, b) => a.rank - b.rank).map((s) => s.system));
  for (const row of systems) expect(row).toMatch(/\| \d\.\d\d \[\d\.\d\d, \d\.\d\d\] \(few images\) \| 1 of 1 \| \d+\.\d\d \| 0\.\d{4} \|/);
  const text = systems.find((l) => l.includes('| sr-text |')) as string;
  // Counts by kind in ELEMENT_KINDS order: texture, text, face, object, structure, colour.
  expect(text.split(' | ').slice(-6)[1]).toBe(String(shown.systems.find((s) => s.system === 'sr-text')!.findings.text));
  const outputs = md.split('\n').filter((l) => /^\| \[city\.png\]/.test(l));
  expect(outputs).toHaveLength(3);
  // The planted outputs have findings, or the loop below checks nothing.
  expect(shown.items.flatMap((i) => i.findings).length).toBeGreaterThan(0);
  for (const item of shown.items) {
    const row = outputs.find((l) => l.includes(`(${item.system})`)) as string;
    for (const f of item.findings) expect(row).toContain(`${f.kind} ${f.severity} ${[f.box.x0, f.box.y0, f.box.x1, f.box.y1].map((v) => Math.round(v)).join(',')}`);
  }
  expect(md).not.toContain(HOSTILE_IMG);
});

it('an unknown run is a usage error naming it', async () => {
  const r = await runQuorum(['report', 'no-such-run', '--db', fx.db, '--format', 'md']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^error: No run `no-such-run` in /m);
});
