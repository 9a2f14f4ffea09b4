/**
 * A `quorum hallucination` run in the HTML report: the systems ranked by mean
 * hallucination score with their intervals, beside fidelity and findings counted by kind;
 * then each SR output's thumbnail with the stored findings drawn over it as an SVG, its
 * scores, fidelity and the judge's reasoning. Layout contract: `table.systems` with
 * `tr.system[data-system]`; `article.sr-item[data-id][data-status]`, holding
 * `svg.boxes` whose `rect.finding` carry `data-kind`, `data-severity` and `data-box` (the
 * stored box in SR pixels: x0 y0 x1 y1) and are placed in thumbnail pixels.
 */
import { ELEMENT_KINDS } from '../../hallucination/answer.js';
import { db, ratio } from '../../hallucination/format.js';
import type { HallucinationItem } from '../../hallucination/run.js';
import type { SystemSummary } from '../../hallucination/summary.js';
import type { Finding } from '../../hallucination/tiles.js';
import type { ReportRun } from '../gather.js';
import { esc, num, numAttr } from './_escape.js';
import { rankingChart } from './charts.js';
import { THUMB_SIDE, type Thumbnail } from './thumbnails.js';

/** Size of an image's thumbnail: fitted inside THUMB_SIDE, never enlarged (as `makeThumbnails` makes it). */
export function thumbnailSize(width: number, height: number): { width: number; height: number } {
  const f = Math.min(1, THUMB_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * f)), height: Math.max(1, Math.round(height * f)) };
}

/**
 * A finding's box in thumbnail pixels: SR pixels times the thumbnail's own ratio on each
 * axis (the image is drawn at exactly `thumb` size, so the box lands where it was found).
 * @example
 * thumbnailBox({ x0: 384, y0: 0, x1: 768, y1: 96 }, { width: 768, height: 768 }, { width: 192, height: 192 });
 * // => { x: 96, y: 0, width: 96, height: 24 }
 */
export function thumbnailBox(
  box: Finding['box'],
  image: { width: number; height: number },
  thumb: { width: number; height: number },
): { x: number; y: number; width: number; height: number } {
  const sx = thumb.width / image.width;
  const sy = thumb.height / image.height;
  return { x: box.x0 * sx, y: box.y0 * sy, width: (box.x1 - box.x0) * sx, height: (box.y1 - box.y0) * sy };
}

const coord = (v: number) => String(Math.round(v * 100) / 100);

function interval(s: SystemSummary): string {
  return s.score ? `${num(s.score.estimate)} [${num(s.score.lower)}, ${num(s.score.upper)}]${s.few ? ' <span class="warn">few images</span>' : ''}` : '-';
}

function systemsTable(systems: readonly SystemSummary[]): string {
  const rows = [...systems]
    .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity))
    .map((s) => {
      const f = s.fidelity;
      const counts = ELEMENT_KINDS.map((k) => `<td class="count" data-kind="${k}">${s.findings[k]}</td>`).join('');
      return `<tr class="system" data-system="${esc(s.system)}" data-score="${numAttr(s.score?.estimate)}"><td>${s.rank ?? '-'}</td><td class="path">${esc(s.system)}</td><td>${interval(s)}</td><td>${num(s.areaScore)}</td><td>${s.scored} of ${s.outputs}${s.failed + s.errors + s.notRun ? ` (${s.failed} failed, ${s.errors} errors, ${s.notRun} not run)` : ''}</td><td>${db(f.psnrRgb)}</td><td>${ratio(f.ssimRgb)}</td><td>${db(f.psnrY)}</td><td>${ratio(f.ssimY)}</td><td>${db(f.psnrLr)}</td><td>${ratio(f.ssimLr)}</td>${counts}</tr>`;
    });
  return `<table class="systems">
<thead><tr><th>rank</th><th>system</th><th>hallucination, mean [95% CI]</th><th>area mean</th><th>scored</th><th>PSNR</th><th>SSIM</th><th>PSNR Y</th><th>SSIM Y</th><th>PSNR LR</th><th>SSIM LR</th>${ELEMENT_KINDS.map((k) => `<th>${k}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p class="note">Hallucination 0 (none) to 4 (severe), worst tile per image, mean over scored images with a seeded bootstrap 95% interval; lowest ranks first. PSNR/SSIM against the ground truth (RGB and BT.601 Y, border of the scale cropped) and, for LR, the output box-downscaled against the input. Counts: merged findings by kind.</p>`;
}

/** The thumbnail with the findings drawn over it; text in the SVG is escaped like any other. */
function overlay(item: HallucinationItem, t: Thumbnail | null | undefined): string {
  if (item.width === null || item.height === null) return `<span class="no-thumb">no image (${esc(item.status)}: see below)</span>`;
  if (!t) return `<span class="no-thumb">no image (${esc(item.sr)} could not be read)</span>`;
  const image = { width: item.width, height: item.height };
  const size = thumbnailSize(item.width, item.height);
  const boxes = item.findings.map((f) => {
    const b = thumbnailBox(f.box, image, size);
    const label = `${f.kind} · ${f.severity}`;
    return `<g class="finding sev-${esc(f.severity)}"><rect class="finding" data-kind="${esc(f.kind)}" data-severity="${esc(f.severity)}" data-box="${[f.box.x0, f.box.y0, f.box.x1, f.box.y1].map(coord).join(' ')}" x="${coord(b.x)}" y="${coord(b.y)}" width="${coord(b.width)}" height="${coord(b.height)}"><title>${esc(label)}</title></rect><text x="${coord(b.x + 2)}" y="${coord(b.y > 12 ? b.y - 3 : b.y + b.height + 11)}">${esc(label)}</text></g>`;
  });
  return `<div class="overlay" style="width:${size.width}px;height:${size.height}px"><img class="thumb sr" src="${t.dataUri}" alt="${esc(item.sr)}" width="${size.width}" height="${size.height}"><svg class="boxes" width="${size.width}" height="${size.height}" viewBox="0 0 ${size.width} ${size.height}" role="img" aria-label="${item.findings.length} findings">${boxes.join('')}</svg></div>`;
}

function itemArticle(r: ReportRun, item: HallucinationItem): string {
  const t = r.thumbnails.get(item.sr);
  const f = item.fidelity;
  const findings = item.findings
    .map((x) => `<li>${esc(x.kind)} (${esc(x.severity)}) at ${[x.box.x0, x.box.y0, x.box.x1, x.box.y1].map((v) => Math.round(v)).join(', ')}, seen ${x.support} time${x.support === 1 ? '' : 's'} in tile${x.tiles.length === 1 ? '' : 's'} ${x.tiles.join(', ')}</li>`)
    .join('');
  // The viewer lists every tile's reasoning; the article shows the image's own.
  const tiles = item.tiles.map((x, i) => `<li><strong>tile ${i} (${x.x}, ${x.y}, ${x.width} x ${x.height}): ${num(x.score)}</strong> ${esc(x.reasoning ?? x.errors.join('; '))}</li>`);
  return `<article class="sr-item" data-id="${esc(item.id)}" data-status="${esc(item.status)}" data-score="${numAttr(item.score)}" data-path="${esc(item.sr)}" data-href="${esc(t?.fileUrl ?? '')}">
<h4><span class="path">${esc(item.id)}</span> <span class="status-${esc(item.status)}">${esc(item.status)}</span></h4>
<div class="sr-body">${overlay(item, t)}
<div>
<dl class="summary"><dt>hallucination</dt><dd>${num(item.score)} worst tile, ${num(item.areaScore)} area mean${item.spread !== null ? `, spread ${num(item.spread)}` : ''}, ${item.tiles.length} tile${item.tiles.length === 1 ? '' : 's'}${item.scale ? `, x${item.scale}` : ''}</dd>
<dt>fidelity</dt><dd>${f ? `PSNR ${db(f.psnrRgb)}, SSIM ${ratio(f.ssimRgb)}, PSNR Y ${db(f.psnrY)}, SSIM Y ${ratio(f.ssimY)}, PSNR LR ${db(f.psnrLr)}, SSIM LR ${ratio(f.ssimLr)}` : '-'}</dd></dl>
${findings ? `<ul class="findings">${findings}</ul>` : item.status === 'ok' ? '<p>no hallucinated element found</p>' : ''}
<p class="text">${esc(item.status === 'ok' || item.status === 'failed' ? (item.reasoning ?? '') : '')}${item.errors.filter(Boolean).length ? `\n${esc(item.errors.filter(Boolean).join('; '))}` : ''}</p>
</div></div>
<template class="samples">${tiles.join('') || '<li>no tile was judged</li>'}</template>
</article>`;
}

export async function hallucinationSection(r: ReportRun): Promise<string> {
  if (r.stored.command !== 'hallucination') return '';
  const { items, systems } = r.stored;
  const ranked = [...(systems ?? [])].filter((x): x is SystemSummary & { score: NonNullable<SystemSummary['score']> } => x.score !== null).sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
  const chart = ranked.length
    ? `<figure class="chart" data-chart="ranking">${await rankingChart(
        ranked.map((x) => ({ name: x.system, score: x.score.estimate, lower: x.score.lower, upper: x.score.upper })),
        'hallucination 0-4 (mean, 95% interval)',
      )}<figcaption>Mean hallucination score per system with its bootstrap 95% interval, least first</figcaption></figure>`
    : '';
  const summary = systems ? `${chart}${systemsTable(systems)}` : '<p class="warn">This hallucination run has no summary yet (interrupted before it finished).</p>';
  const counts = (['ok', 'failed', 'error', 'not-run'] as const).map((s) => [s, items.filter((i) => i.status === s).length] as const).filter(([, n]) => n > 0);
  return `<h3>Systems</h3>${summary}<h3>Outputs</h3><p>${counts.map(([s, n]) => `${n} ${s}`).join(', ')}</p>${items.map((i) => itemArticle(r, i)).join('\n')}`;
}
