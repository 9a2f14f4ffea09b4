/**
 * `quorum report` as its readers see it: reports of real runs (made through the CLI against
 * the test judge, see _fixtures.ts) opened from disk in headless Chromium, driven by
 * playwright-core. What is checked is what a reader would notice: pictures that show,
 * sorting and filters that change the rows, charts with one mark per datum, tabs, the
 * large viewer, and a page that neither reaches the network nor runs what a model wrote.
 *
 * Needs Debian's `chromium` (`/usr/bin/chromium`) or `CHROMIUM_PATH`; without it every
 * test FAILS (it does not skip): CI installs it (`.ci/run`). A screenshot of each report
 * is saved under `test-artifacts/`.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';
import { showJson, type ShownHallucination } from './_hallucination.js';
import { BLURRED, expectReported, HALLUCINATION_HOSTILE, HOSTILE_ANSWERS, HOSTILE_FILE, HOSTILE_IMG, HOSTILE_SCRIPT, reportFixtures, type ReportFixtures } from './_fixtures.js';

// The DOM as the page functions below use it (this project compiles without lib "dom").
interface ImageNode {
  readonly complete: boolean;
  readonly naturalWidth: number;
  decode(): Promise<void>;
  scrollIntoView(options: { block: string }): void;
}
interface DialogNode {
  readonly open: boolean;
}
interface PageGlobals {
  document: {
    querySelectorAll(selector: string): { length: number };
    scripts: Iterable<{ type: string; textContent: string | null }>;
  };
  __pwned?: unknown;
}

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

let fx: ReportFixtures;
let browser: Browser;
/** Report files: every kind of run in one (tabs), and the hostile run alone. */
let allReport: string;
let hostileReport: string;
let hallucinationReport: string;
const runs = { score: '', report: '', compare: '', rank: '', hostile: '', halluc: '' };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the report browser tests need Debian's chromium (apt-get install chromium) or CHROMIUM_PATH set to a Chromium binary; .ci/run installs it`,
    );
  }
  fx = await reportFixtures();
  // One judge server: runs are made one after another (faults are queued in order).
  runs.score = await fx.scoreRun();
  runs.report = await fx.reportRun();
  runs.compare = await fx.compareRun();
  runs.rank = await fx.rankRun();
  runs.hostile = await fx.hostileRun();
  runs.halluc = await fx.hallucinationRun();
  allReport = join(fx.dir, 'all.html');
  hostileReport = join(fx.dir, 'hostile.html');
  expectReported(await fx.report([runs.score, runs.report, runs.compare, runs.rank], allReport));
  expectReported(await fx.report([runs.hostile], hostileReport));
  hallucinationReport = join(fx.dir, 'halluc.html');
  expectReported(await fx.report([runs.halluc], hallucinationReport));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  await mkdir(ARTIFACTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await fx?.cleanup();
});

/** A report opened in a fresh page, with everything that must not happen recorded. */
interface Opened {
  page: Page;
  /** Console messages of type error, page errors (uncaught exceptions). */
  errors: string[];
  /** Requests other than the report itself, data: URLs and the run's own image files. */
  requests: string[];
  /** alert/confirm/prompt dialogs: something ran that should not have. */
  dialogs: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(file).href;
  // The images a report may link by path (the viewer's large image) live in the fixture folder.
  const ownFiles = pathToFileURL(fx.dir).href;
  const opened: Opened = { page, errors: [], requests: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') opened.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => opened.errors.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const target = request.url();
    if (target === url || target.startsWith('data:')) return;
    if (target.startsWith(`${ownFiles}/`) && /\.(png|jpe?g|webp|gif|tiff?|avif)$/i.test(target)) return;
    opened.requests.push(target);
  });
  page.on('dialog', (dialog) => {
    opened.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return opened;
}

/** Nothing went wrong on the page: no errors, no requests, nothing ran; then it is closed. */
async function closeClean(opened: Opened): Promise<void> {
  await opened.page.close();
  expect(opened.errors, 'console or page errors').toEqual([]);
  expect(opened.requests, 'requests besides the report file').toEqual([]);
  expect(opened.dialogs, 'dialogs opened by script').toEqual([]);
}

async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(ARTIFACTS, `report-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

const section = (page: Page, run: string): Locator => page.locator(`section.run[data-run="${run}"]`);

async function showTab(page: Page, run: string): Promise<Locator> {
  await page.locator(`nav#tabs button[data-tab="${run}"]`).click();
  const shown = section(page, run);
  await expect.poll(() => shown.evaluate((el) => el.hasAttribute('hidden'))).toBe(false);
  return shown;
}

interface Row {
  path: string;
  score: number | null;
  status: string;
  distortions: string[];
}

/** The rows a reader sees, top to bottom (`hidden` rows left out). */
function visibleRows(scope: Locator): Promise<Row[]> {
  return scope.locator('table.items tbody tr.item').evaluateAll((rows) =>
    rows
      .filter((row) => !row.hasAttribute('hidden'))
      .map((row) => {
        const score = row.getAttribute('data-score') ?? '';
        return {
          path: row.getAttribute('data-path') ?? '',
          score: score === '' ? null : Number(score),
          status: row.getAttribute('data-status') ?? '',
          distortions: (row.getAttribute('data-distortions') ?? '').split(/\s+/).filter(Boolean),
        };
      }),
  );
}

const fileName = (path: string) => path.split(/[/\\]/).pop() ?? path;

/**
 * Every thumbnail in the scope, scrolled into view (lazy loading may wait for that) and
 * decoded: its natural width, 0 when it never decoded.
 */
function thumbWidths(scope: Locator): Promise<number[]> {
  return scope.locator('img.thumb').evaluateAll(async (images) => {
    const widths: number[] = [];
    for (const image of images as ImageNode[]) {
      image.scrollIntoView({ block: 'center' });
      const decoded = image.decode().then(
        () => image.naturalWidth,
        () => 0,
      );
      const late = new Promise<number>((resolve) => setTimeout(() => resolve(image.naturalWidth), 5000));
      widths.push(await Promise.race([decoded, late]));
    }
    return widths;
  });
}

interface Bar {
  lo: number;
  hi: number;
  count: number;
}

/** Vega's data marks (axes, grid and legends are other `role-*` groups) in one chart. */
const marks = (scope: Locator, chart: string, mark: string, element: string): Locator =>
  scope.locator(`figure.chart[data-chart="${chart}"] svg g.mark-${mark}.role-mark ${element}`);

/** Histogram bars as vega labels them for screen readers: `score (binned): 1.5 – 2; Count of Records: 3`. */
async function histogramBars(scope: Locator): Promise<{ bars: number; labelled: Bar[] }> {
  const labels = await marks(scope, 'histogram', 'rect', 'path').evaluateAll((paths) => paths.map((p) => p.getAttribute('aria-label') ?? ''));
  const labelled: Bar[] = [];
  for (const label of labels) {
    const m = /(-?\d+(?:\.\d+)?)\s*[–-]\s*(-?\d+(?:\.\d+)?)\s*;[^:]*:\s*(\d+)/.exec(label);
    if (m) labelled.push({ lo: Number(m[1]), hi: Number(m[2]), count: Number(m[3]) });
  }
  return { bars: labels.length, labelled };
}

describe('quorum report in Chromium: a score run', () => {
  it('every thumbnail decodes; an unreadable file has none and says so', async () => {
    const opened = await open(allReport);
    const score = section(opened.page, runs.score);
    expect(await score.getAttribute('data-command')).toBe('score');
    const rows = await visibleRows(score);
    expect(rows.map((r) => fileName(r.path)).sort()).toEqual([...Array.from({ length: 12 }, (_, i) => `img-${String(i).padStart(2, '0')}.png`), 'unreadable.png'].sort());
    const widths = await thumbWidths(score);
    expect(widths).toHaveLength(12);
    expect(widths.filter((w) => !(w > 0)), 'thumbnails that did not decode').toEqual([]);
    const unreadable = score.locator('tr.item[data-path$="unreadable.png"]');
    expect(await unreadable.getAttribute('data-status')).toBe('error');
    expect(await unreadable.locator('img.thumb').count()).toBe(0);
    expect(await unreadable.locator('span.no-thumb').count()).toBe(1);
    // The other tabs' thumbnails too: the compare run shows A, B and the reference for 4 pairs.
    const compare = await showTab(opened.page, runs.compare);
    const pairWidths = await thumbWidths(compare);
    expect(pairWidths).toHaveLength(12);
    expect(pairWidths.filter((w) => !(w > 0))).toEqual([]);
    const report = await showTab(opened.page, runs.report);
    const reportWidths = await thumbWidths(report);
    expect(reportWidths).toHaveLength(6);
    expect(reportWidths.filter((w) => !(w > 0))).toEqual([]);
    await showTab(opened.page, runs.score);
    await screenshot(opened.page, 'all');
    await closeClean(opened);
  });

  it('clicking the score header sorts the rows by score, then the other way', async () => {
    const opened = await open(allReport);
    const score = section(opened.page, runs.score);
    const header = score.locator('th[data-sort="score"]');
    const before = (await visibleRows(score)).map((r) => r.path);

    const directions: string[] = [];
    const orders: number[][] = [];
    const firstRows: string[] = [];
    for (let click = 0; click < 2; click++) {
      await header.click();
      const direction = await header.getAttribute('aria-sort');
      expect(direction).toMatch(/^(ascending|descending)$/);
      directions.push(direction!);
      const rows = await visibleRows(score);
      expect(rows).toHaveLength(13);
      const scores = rows.map((r) => r.score).filter((s): s is number => s !== null);
      expect(scores).toHaveLength(11); // 12 images, one failed, one unreadable file
      const sorted = [...scores].sort((a, b) => (direction === 'ascending' ? a - b : b - a));
      expect(scores).toEqual(sorted);
      orders.push(scores);
      firstRows.push(rows[0]!.path);
    }
    expect(new Set(directions).size, 'the second click reverses the order').toBe(2);
    expect(orders[1]).toEqual([...orders[0]!].reverse());
    // The rows themselves moved (not only their numbers), and none was lost.
    expect(firstRows[0]).not.toBe(firstRows[1]);
    const after = (await visibleRows(score)).map((r) => r.path);
    expect(after.slice().sort()).toEqual(before.slice().sort());
    await closeClean(opened);
  });

  it('the status filter and the text filter change which rows are visible', async () => {
    const opened = await open(allReport);
    const score = section(opened.page, runs.score);
    const status = score.locator('select.filter-status');
    const all = await visibleRows(score);
    expect(all).toHaveLength(13);

    await status.selectOption('failed');
    const failed = await visibleRows(score);
    expect(failed.map((r) => fileName(r.path))).toEqual(['img-00.png']);
    await status.selectOption('error');
    expect((await visibleRows(score)).map((r) => fileName(r.path))).toEqual(['unreadable.png']);
    await status.selectOption('ok');
    const ok = await visibleRows(score);
    expect(ok).toHaveLength(11);
    expect(ok.every((r) => r.status === 'ok')).toBe(true);
    await status.selectOption('');
    expect(await visibleRows(score)).toHaveLength(13);

    const text = score.locator('input.filter-text');
    await text.fill('img-07');
    expect((await visibleRows(score)).map((r) => fileName(r.path))).toEqual(['img-07.png']);
    // Words of the judge's reasoning match too: the noisiest images show "heavy" or "strong" grain.
    await text.fill('strong grain');
    const strong = await visibleRows(score);
    expect(strong.length).toBeGreaterThan(0);
    expect(strong.length).toBeLessThan(13);
    for (const row of strong) {
      const shown = await score.locator(`tr.item[data-path="${row.path}"]`).textContent();
      expect(shown).toContain('strong grain');
    }
    await text.fill('');
    expect(await visibleRows(score)).toHaveLength(13);
    await closeClean(opened);
  });

  it('the histogram is vega SVG with one bar per non-empty bin', async () => {
    const opened = await open(allReport);
    const score = section(opened.page, runs.score);
    expect(await score.locator('figure.chart[data-chart="histogram"] svg').count()).toBe(1);
    const scores = (await visibleRows(score)).map((r) => r.score).filter((s): s is number => s !== null);
    const { bars, labelled } = await histogramBars(score);
    expect(bars).toBeGreaterThan(0);
    expect(bars).toBeLessThanOrEqual(new Set(scores).size);
    if (labelled.length === bars) {
      // Each bar's bin holds exactly the scores it counts, none is empty, together they hold all.
      for (const bar of labelled) {
        const inside = scores.filter((s) => s >= bar.lo && (s < bar.hi || (s === bar.hi && bar === labelled.at(-1)))).length;
        expect(bar.count, `bar ${bar.lo}-${bar.hi}`).toBe(inside);
        expect(bar.count).toBeGreaterThan(0);
      }
      expect(labelled.reduce((s, b) => s + b.count, 0)).toBe(scores.length);
    } else {
      console.log(`histogram bars carry no vega aria labels (${labelled.length}/${bars}): only their number is checked`);
    }
    await closeClean(opened);
  });

  it('clicking a thumbnail opens the viewer with the image large and every sample reasoning', async () => {
    const opened = await open(allReport);
    const score = section(opened.page, runs.score);
    await score.locator('tr.item[data-path$="img-05.png"] img.thumb').click();
    const viewer = opened.page.locator('dialog#viewer');
    await expect.poll(() => viewer.evaluate((d) => (d as DialogNode).open)).toBe(true);
    const large = viewer.locator('img.large');
    await expect.poll(() => large.evaluate((img) => (img as ImageNode).complete && (img as ImageNode).naturalWidth)).toBeGreaterThan(0);
    const samples = await viewer.locator('ol.samples li').allTextContents();
    expect(samples).toHaveLength(3);
    for (const text of samples) expect(text).toMatch(/grain in flat regions/);
    await screenshot(opened.page, 'viewer');
    await closeClean(opened);
  });

  it('a failed image shows its raw answers', async () => {
    const opened = await open(allReport);
    const failed = section(opened.page, runs.score).locator('tr.item[data-status="failed"]');
    expect(await failed.count()).toBe(1);
    const raw = await failed.locator('details.failed-call pre.raw').allTextContents();
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.join('\n')).toContain('I think the image is decent.');
    await closeClean(opened);
  });
});

describe('quorum report in Chromium: distortions, comparisons, rankings, tabs', () => {
  it('the tabs switch sections: one visible at a time, the first at first', async () => {
    const opened = await open(allReport);
    const order = [runs.score, runs.report, runs.compare, runs.rank];
    const visible = () => opened.page.locator('section.run').evaluateAll((all) => all.filter((s) => !s.hasAttribute('hidden')).map((s) => s.getAttribute('data-run')));
    expect(await opened.page.locator('nav#tabs button[data-tab]').evaluateAll((b) => b.map((x) => x.getAttribute('data-tab')))).toEqual(order);
    expect(await visible()).toEqual([runs.score]);
    for (const run of [...order.slice(1), order[0]!]) {
      await opened.page.locator(`nav#tabs button[data-tab="${run}"]`).click();
      expect(await visible()).toEqual([run]);
    }
    await closeClean(opened);
  });

  it('the distortion filter shows the rows with that kind; distortions are listed with severity and location', async () => {
    const opened = await open(allReport);
    const report = await showTab(opened.page, runs.report);
    const all = await visibleRows(report);
    expect(all).toHaveLength(6);
    const kinds = await report.locator('select.filter-distortion option').evaluateAll((o) => o.map((x) => (x as { value: string }).value));
    expect(kinds[0]).toBe('');
    expect(kinds).toContain('blur');
    const filter = report.locator('select.filter-distortion');
    await filter.selectOption('blur');
    const blurred = await visibleRows(report);
    expect(blurred).toHaveLength(1);
    expect(blurred[0]!.distortions).toContain('blur');
    const item = report.locator(`tr.item[data-path="${blurred[0]!.path}"] ul.distortions li`);
    const listed = (await item.allTextContents()).join('\n');
    for (const word of [BLURRED.distortions[0].type, BLURRED.distortions[0].severity, BLURRED.distortions[0].location]) expect(listed).toContain(word);
    if (kinds.includes('noise')) {
      await filter.selectOption('noise');
      const noisy = await visibleRows(report);
      expect(noisy.length).toBe(all.filter((r) => r.distortions.includes('noise')).length);
      expect(noisy.every((r) => r.distortions.includes('noise'))).toBe(true);
    }
    await filter.selectOption('');
    expect(await visibleRows(report)).toHaveLength(6);
    await screenshot(opened.page, 'distortions');
    await closeClean(opened);
  });

  it('a comparison shows each pair side by side with both orders, and one preference bar per judged pair', async () => {
    const opened = await open(allReport);
    const compare = await showTab(opened.page, runs.compare);
    expect(await compare.getAttribute('data-command')).toBe('compare');
    const pairs = compare.locator('article.pair');
    expect(await pairs.evaluateAll((p) => p.map((x) => x.getAttribute('data-key')).sort())).toEqual(['cat', 'dog', 'fox', 'owl']);
    for (const pair of await pairs.all()) {
      expect(await pair.locator('img.thumb').count()).toBe(3);
      const orders = await pair.locator('div.order').allTextContents();
      expect(orders).toHaveLength(2);
      for (const text of orders) expect(text).toMatch(/grain/);
    }
    expect(await compare.locator('dl.summary').textContent()).toMatch(/\d/);
    expect(await marks(compare, 'preferences', 'rect', 'path').count()).toBe(4);
    await screenshot(opened.page, 'compare');
    await closeClean(opened);
  });

  it('a ranking has one point and one interval rule per ranked item', async () => {
    const opened = await open(allReport);
    const rank = await showTab(opened.page, runs.rank);
    expect(await rank.getAttribute('data-command')).toBe('rank');
    const ranked = await rank.locator('table.ranking tr.ranked').count();
    expect(ranked).toBe(5);
    expect(await marks(rank, 'ranking', 'symbol', 'path').count()).toBe(ranked);
    expect(await marks(rank, 'ranking', 'rule', 'line').count()).toBe(ranked);
    expect(await rank.locator('dl.bias').textContent()).toMatch(/\d/);
    await screenshot(opened.page, 'rank');
    await closeClean(opened);
  });

  it('every run has its facts: judge, prompt, calls, Quorum version, command line', async () => {
    const opened = await open(allReport);
    for (const run of [runs.score, runs.report, runs.compare, runs.rank]) {
      const facts = await section(opened.page, run)
        .locator('section.facts dl dt')
        .allTextContents()
        .then((t) => t.join(' | ').toLowerCase());
      for (const fact of ['judge', 'base url', 'prompt', 'parameters', 'calls', 'tokens', 'cost', 'latency', 'quorum', 'command']) expect(facts, `${run}: ${facts}`).toContain(fact);
    }
    await closeClean(opened);
  });

  it('the page forbids the network and runs only its own script', async () => {
    const opened = await open(allReport);
    const csp = await opened.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    await closeClean(opened);
  });
});

describe('quorum report in Chromium: what a model wrote and what a file is called stay text', () => {
  it('markup in answers and file names is shown as text and runs nothing', async () => {
    const opened = await open(hostileReport);
    const { page } = opened;
    const hostile = section(page, runs.hostile);
    const text = (await hostile.textContent()) ?? '';
    expect(text).toContain(HOSTILE_FILE);
    expect(text).toContain(HOSTILE_IMG);
    expect(text).toContain(HOSTILE_SCRIPT);
    const raw = (await hostile.locator('details.failed-call pre.raw').allTextContents()).join('\n');
    expect(raw).toContain(HOSTILE_ANSWERS.unparsed);
    // The row of the file with the hostile name carries it as an attribute value, intact.
    expect(await hostile.locator('tr.item').evaluateAll((rows, name) => rows.filter((r) => (r.getAttribute('data-path') ?? '').endsWith(name)).length, HOSTILE_FILE)).toBe(1);

    // Open the viewer on the hostile file: its reasoning is shown, as text.
    await hostile.locator('tr.item[data-score="3.5"] img.thumb').click();
    const viewer = page.locator('dialog#viewer');
    await expect.poll(() => viewer.evaluate((d) => (d as DialogNode).open)).toBe(true);
    expect((await viewer.locator('ol.samples li').allTextContents()).join('\n')).toContain(HOSTILE_IMG);
    await page.waitForTimeout(200);

    const planted = await page.evaluate(() => {
      const { document, __pwned } = globalThis as unknown as PageGlobals;
      return {
        elements: document.querySelectorAll('svg[onload], img[src="x"], img[onerror], [onload]:not(body)').length,
        pwned: __pwned !== undefined,
        // Every script is the report's own code or an inert data block that parses whole.
        scripts: [...document.scripts].map((s) => ({ type: s.type, text: s.textContent ?? '' })),
      };
    });
    expect(planted.elements).toBe(0);
    expect(planted.pwned).toBe(false);
    const code = planted.scripts.filter((s) => s.type === '' || /javascript|module/i.test(s.type));
    expect(code.length).toBeLessThanOrEqual(1);
    for (const s of code) expect(s.text).not.toMatch(/alert\(/);
    for (const s of planted.scripts.filter((x) => /json/i.test(x.type))) expect(() => JSON.parse(s.text)).not.toThrow();
    await screenshot(page, 'hostile');
    await closeClean(opened);
  });
});

describe('quorum report in Chromium: a hallucination run', () => {
  let shown: ShownHallucination;
  beforeAll(async () => {
    shown = await showJson(fx, runs.halluc);
  });

  it('ranks the systems with intervals beside PSNR/SSIM and counts findings by kind', async () => {
    const opened = await open(hallucinationReport);
    const rows = await section(opened.page, runs.halluc)
      .locator('table.systems tr.system')
      .evaluateAll((all) => all.map((r) => ({ system: r.getAttribute('data-system'), cells: [...r.querySelectorAll('td')].map((c) => c.textContent ?? '') })));
    expect(rows.map((r) => r.system)).toEqual([...shown.systems].sort((a, b) => a.rank - b.rank).map((s) => s.system));
    for (const r of rows) {
      expect(r.cells[2]).toMatch(/^\d\.\d\d \[\d\.\d\d, \d\.\d\d\]/);
      // PSNR, SSIM, PSNR Y, SSIM Y against the ground truth.
      expect(r.cells.slice(5, 9).every((c) => /^\d+\.\d+$/.test(c))).toBe(true);
      const counts = shown.systems.find((s) => s.system === r.system)!.findings;
      expect(r.cells.slice(-6).map(Number)).toEqual(['texture', 'text', 'face', 'object', 'structure', 'colour'].map((k) => counts[k]));
    }
    // The ranking chart: one point and one interval rule per ranked system.
    const scope = section(opened.page, runs.halluc);
    expect(await marks(scope, 'ranking', 'symbol', 'path').count()).toBe(rows.length);
    expect(await marks(scope, 'ranking', 'rule', 'line').count()).toBe(rows.length);
    await closeClean(opened);
  });

  it('draws every stored box over its thumbnail where the finding is, labelled with kind and severity', async () => {
    const opened = await open(hallucinationReport);
    const scope = section(opened.page, runs.halluc);
    expect(await scope.locator('article.sr-item').count()).toBe(shown.items.length);
    expect((await thumbWidths(scope)).every((w) => w > 0)).toBe(true);
    let drawn = 0;
    for (const item of shown.items) {
      const article = scope.locator(`article.sr-item[data-id="${item.id}"]`);
      const geometry = await article.evaluate((el) => {
        const img = el.querySelector('img.thumb') as unknown as { getBoundingClientRect(): { x: number; y: number; width: number; height: number }; naturalWidth: number; naturalHeight: number };
        const at = img.getBoundingClientRect();
        return {
          img: { width: at.width, height: at.height, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight },
          rects: [...el.querySelectorAll('svg.boxes rect.finding')].map((r) => {
            const b = r.getBoundingClientRect();
            return { kind: r.getAttribute('data-kind'), severity: r.getAttribute('data-severity'), label: r.parentElement?.querySelector('text')?.textContent ?? '', x: b.x - at.x, y: b.y - at.y, width: b.width, height: b.height };
          }),
        };
      });
      // The thumbnail is drawn at its own size, so SR pixels map by its ratio on each axis.
      expect(geometry.img.width).toBe(geometry.img.naturalWidth);
      expect(geometry.img.height).toBe(geometry.img.naturalHeight);
      const sx = geometry.img.width / item.width;
      const sy = geometry.img.height / item.height;
      expect(geometry.rects).toHaveLength(item.findings.length);
      for (const [i, f] of item.findings.entries()) {
        const r = geometry.rects[i]!;
        expect([r.kind, r.severity]).toEqual([f.kind, f.severity]);
        expect(r.label).toBe(`${f.kind} · ${f.severity}`);
        // The rect as laid out (its geometry box, stroke not counted), relative to the image, against the stored box scaled.
        expect(Math.abs(r.x - f.box.x0 * sx)).toBeLessThan(0.05);
        expect(Math.abs(r.y - f.box.y0 * sy)).toBeLessThan(0.05);
        expect(Math.abs(r.width - (f.box.x1 - f.box.x0) * sx)).toBeLessThan(0.05);
        expect(Math.abs(r.height - (f.box.y1 - f.box.y0) * sy)).toBeLessThan(0.05);
        drawn++;
      }
    }
    // The planted text and texture, and the hostile answer's object box.
    expect(drawn).toBeGreaterThanOrEqual(3);
    await scope.locator('article.sr-item').first().scrollIntoViewIfNeeded();
    await screenshot(opened.page, 'hallucination');
    await closeClean(opened);
  });

  it("the judge's reasoning is shown as text, and the viewer lists every tile's", async () => {
    const opened = await open(hallucinationReport);
    const { page } = opened;
    const scope = section(page, runs.halluc);
    const text = (await scope.textContent()) ?? '';
    expect(text).toMatch(/sr-text\/city/);
    const hostile = scope.locator('article.sr-item', { has: page.locator('rect.finding[data-kind="object"]') });
    await hostile.locator('img.thumb').click();
    const viewer = page.locator('dialog#viewer');
    await expect.poll(() => viewer.evaluate((d) => (d as DialogNode).open)).toBe(true);
    const tiles = await viewer.locator('ol.samples li').allTextContents();
    expect(tiles).toHaveLength(4);
    expect(tiles.join('\n')).toContain(HALLUCINATION_HOSTILE.reasoning);
    const planted = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('img[src="x"], img[onerror]').length);
    expect(planted).toBe(0);
    await closeClean(opened);
  });
});
