import type { ComparedPair } from '../../judges/compare-run.js';
import type { ImageScore } from '../../judges/score.js';
import type { CallRecord } from '../../store/store.js';
import { pairStatus } from '../pairs.js';
import { isPanelResult, panelVerdictText } from '../panels.js';
import type { ReportRun } from '../gather.js';
import { esc, num, numAttr } from './_escape.js';
import { page } from './_page.js';
import { preferenceBars, rankingChart, scoreHistogram } from './charts.js';
import { hallucinationSection } from './hallucination.js';
import type { Thumbnail } from './thumbnails.js';

/**
 * The HTML report: one self-contained page, one tab per run, written from the store
 * alone. Layout contract (what tests and users' scripts may rely on): `section.run`
 * per run with `data-command`; score runs have `table.items` with `tr.item` rows carrying
 * `data-score`, `data-std`, `data-status`, `data-distortions`, sortable `th[data-sort]`
 * headers and `.filter-text`, `.filter-status`, `.filter-distortion` controls; charts are
 * `figure.chart[data-chart]` holding Vega's SVG; `dialog#viewer` shows an image large
 * with every sample's reasoning. Hallucination runs: see `./hallucination.ts`.
 */
export async function renderHtmlReport(runs: readonly ReportRun[], options: { generatedAt?: string } = {}): Promise<string> {
  const sections: string[] = [];
  for (const [i, r] of runs.entries()) sections.push(await section(r, i === 0));
  return page({
    title: runs.length === 1 ? `Quorum report: ${runs[0]!.stored.run.name}` : `Quorum report: ${runs.length} runs`,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    tabs: runs.map((r) => r.stored.run.name),
    sections,
  });
}

async function section(r: ReportRun, first: boolean): Promise<string> {
  const { stored } = r;
  const body =
    stored.command === 'score'
      ? await scoreSection(r, stored.images)
      : stored.command === 'compare'
        ? await compareSection(r)
        : stored.command === 'hallucination'
          ? await hallucinationSection(r)
          : await rankSection(r);
  return `<section class="run" data-run="${esc(stored.run.name)}" data-command="${esc(stored.command)}"${first ? '' : ' hidden'}>
<h2>${esc(stored.run.name)} <small>(${esc(stored.command)}, ${esc(stored.run.status)})</small></h2>
${factsPanel(r)}
${body}
</section>`;
}

function factsPanel(r: ReportRun): string {
  const { run } = r.stored;
  const o = run.options;
  const prompt = o['prompt'] as { id?: string; version?: number; hash?: string } | undefined;
  const f = r.facts;
  const rows: [string, string][] = [
    ['judge', String(o['judge'] ?? '-')],
    ...(o['baseURL'] ? [['base URL', String(o['baseURL'])] as [string, string]] : []),
    ...(o['engine'] ? [['engine', JSON.stringify(o['engine'])] as [string, string]] : []),
    ...r.judges.map((j): [string, string] => ['judge identity', `${j.provider}:${j.model} ${JSON.stringify(j.identity)}`]),
    ['prompt', prompt ? `${prompt.id ?? '?'}@${prompt.version ?? '?'} (${(prompt.hash ?? '').slice(0, 12)})` : '-'],
    ['parameters', JSON.stringify(Object.fromEntries(Object.entries(o).filter(([k]) => !['judge', 'baseURL', 'engine', 'prompt', 'inputs', 'dirs', 'systems', 'items', 'anchors'].includes(k))))],
    ['calls', `${f.calls} (${f.cached} from the cache), ${f.parseFailures} parse failures, ${f.errors} failed requests, ${f.retries} retries`],
    ['tokens', `${f.inputTokens} in, ${f.outputTokens} out`],
    ['cost', f.costUsd > 0 ? `$${f.costUsd.toFixed(4)}` : '-'],
    ['latency', f.latencyMs ? `p50 ${f.latencyMs.p50.toFixed(0)} ms, p90 ${f.latencyMs.p90.toFixed(0)} ms, p99 ${f.latencyMs.p99.toFixed(0)} ms` : '-'],
    ['Quorum', run.quorumVersion],
    ['command', `quorum ${run.args.join(' ')}`],
    ['run', `created ${run.createdAt}, updated ${run.updatedAt}`],
  ];
  return `<section class="facts"><dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></section>`;
}

function thumb(t: Thumbnail | null | undefined, alt: string): string {
  return t ? `<img class="thumb" src="${t.dataUri}" alt="${esc(alt)}">` : `<span class="no-thumb">no image (${esc(alt)} could not be read)</span>`;
}

const LEVEL_COLOURS = ['#1b7837', '#7fbf7b', '#d9d9d9', '#f4a582', '#b2182b'];

function levelBar(levels: Record<string, number>): string {
  return `<div class="levels" title="${esc(Object.entries(levels).map(([k, p]) => `${k} ${(p * 100).toFixed(0)}%`).join(', '))}">${Object.values(levels)
    .map((p, i) => `<span style="width:${(p * 100).toFixed(1)}%;background:${LEVEL_COLOURS[i] ?? '#999'}"></span>`)
    .join('')}</div>`;
}

/** Every sample's words for the viewer: reasoning of answers that parsed, raw text of those that did not. */
function samplesTemplate(calls: readonly CallRecord[]): string {
  const items = calls.map((c) => {
    const parsed = c.parsed as { score?: number; reasoning?: string; mean?: number } | null;
    const head = c.status === 'ok' ? `sample ${c.sampleIndex}: ${num(parsed?.score ?? parsed?.mean ?? null)}` : `sample ${c.sampleIndex}: ${c.status}`;
    const words = c.status === 'ok' ? (parsed?.reasoning ?? c.raw ?? '') : `${c.error ?? ''}\n${c.raw ?? ''}`;
    return `<li><strong>${esc(head)}</strong> ${esc(words)}</li>`;
  });
  return `<template class="samples">${items.join('') || '<li>no sample text stored</li>'}</template>`;
}

async function scoreSection(r: ReportRun, images: readonly ImageScore[]): Promise<string> {
  const kinds = [...new Set(images.flatMap((i) => (i.distortions ?? []).map((d) => d.type)))].sort();
  const statuses = ['ok', 'partial', 'failed', 'error', 'not-run'];
  const rows = images.map((img) => {
    const calls = img.sha256 ? (r.callsByImage.get(img.sha256) ?? []) : [];
    const failedCalls = calls.filter((c) => c.status !== 'ok');
    const t = r.thumbnails.get(img.path);
    // A failed image's errors are in its failed samples below, each with its raw answer.
    const words =
      img.status === 'ok' || img.status === 'partial'
        ? (img.reasoning ?? '')
        : img.status === 'failed' && failedCalls.length
          ? `no sample could be read (${failedCalls.length} failed)`
          : img.errors.join('; ');
    const distortions = (img.distortions ?? [])
      .map((d) => `<li>${esc(d.type)} (${esc(d.severity)}${d.location ? `, ${esc(d.location)}` : ''})</li>`)
      .join('');
    return `<tr class="item" data-path="${esc(img.path)}" data-href="${esc(t?.fileUrl ?? '')}" data-score="${numAttr(img.score)}" data-std="${numAttr(img.std)}" data-status="${esc(img.status)}" data-distortions="${esc((img.distortions ?? []).map((d) => d.type).join(' '))}">
<td>${thumb(t, img.path)}</td>
<td class="path">${esc(img.path)}${img.duplicateOf ? `<br><small>same picture as ${esc(img.duplicateOf)}</small>` : ''}</td>
<td>${num(img.score)}</td>
<td>${isPanelResult(img) ? `<span class="panel-verdict">${esc(panelVerdictText(img))}</span>` : img.levels ? `${levelBar(img.levels)}${img.coverage !== null && img.coverage < 0.5 ? `<span class="warn">LOW level coverage ${num(img.coverage)}</span>` : ''}` : num(img.std)}</td>
<td class="status-${esc(img.status)}">${esc(img.status)}</td>
<td class="text">${esc(words)}${distortions ? `<ul class="distortions">${distortions}</ul>` : ''}${failedCalls
      .map((c) => `<details class="failed-call"><summary>sample ${c.sampleIndex}: ${esc(c.status)} ${esc(c.error ?? '')}</summary><pre class="raw">${esc(c.raw ?? '')}</pre></details>`)
      .join('')}${samplesTemplate(calls)}</td>
</tr>`;
  });
  const scores = images.map((i) => i.score).filter((s): s is number => s !== null);
  const histogram = scores.length ? `<figure class="chart" data-chart="histogram">${await scoreHistogram(scores)}<figcaption>Scores of ${scores.length} images</figcaption></figure>` : '';
  const counts = statuses.map((s) => [s, images.filter((i) => i.status === s).length] as const).filter(([, n]) => n > 0);
  return `<h3>Images</h3>
<p>${counts.map(([s, n]) => `${n} ${esc(s)}`).join(', ')}</p>
${histogram}
<div class="controls">
<input class="filter-text" type="search" placeholder="filter by path or text" aria-label="filter by path or text">
<select class="filter-status" aria-label="status"><option value="">every status</option>${statuses.map((s) => `<option value="${s}">${s}</option>`).join('')}</select>
<select class="filter-distortion" aria-label="distortion"><option value="">every distortion</option>${kinds.map((k) => `<option value="${esc(k)}">${esc(k)}</option>`).join('')}</select>
</div>
<table class="items">
<thead><tr><th>image</th><th data-sort="path">path</th><th data-sort="score">score</th><th data-sort="std">spread / levels</th><th data-sort="status">status</th><th>description</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function interval(i: { estimate: number; lower: number; upper: number } | null): string {
  return i ? `${num(i.estimate)} [${num(i.lower)}, ${num(i.upper)}]` : '-';
}

function biasList(b: { pairsBothOrders: number; swapDisagreementRate: number | null; firstSlotPreference: number | null; decidedOrders: number }): string {
  const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(0)}%`);
  return `<dl class="bias"><dt>pairs judged in both orders</dt><dd>${b.pairsBothOrders}</dd><dt>orders disagreed</dt><dd>${pct(b.swapDisagreementRate)}</dd><dt>first slot won</dt><dd>${pct(b.firstSlotPreference)} of ${b.decidedOrders} decided orders</dd></dl>`;
}

async function compareSection(r: ReportRun): Promise<string> {
  if (r.stored.command !== 'compare') return '';
  const { pairs, summary: s } = r.stored;
  const summary = s
    ? `<dl class="summary"><dt>${esc(s.b)} (B) vs ${esc(s.a)} (A)</dt><dd>${s.judged} of ${s.pairs} pairs judged</dd>
<dt>wins</dt><dd>B ${s.winsB}, ties ${s.ties}, A ${s.winsA}</dd>
<dt>win rate of B</dt><dd>${interval(s.winRateB)} (95% Wilson; ties count 1/2)</dd>
<dt>Bradley-Terry B-A</dt><dd>${s.positionArtefacts ? '<span class="warn">POSITION ARTEFACTS: the verdicts follow the slot, not the images; no difference is reported</span>' : `${interval(s.bradleyTerry)} log-odds (&gt;0: B better)`}</dd>
${s.few ? '<dt>few pairs</dt><dd class="warn">the intervals rest mostly on the prior</dd>' : ''}
</dl>${biasList(s.positionBias)}`
    : '<p class="warn">This compare run has no summary yet (interrupted before it finished).</p>';
  const judged = pairs.filter((p): p is ComparedPair & { preference: number } => p.preference !== null);
  const chart = judged.length
    ? `<figure class="chart" data-chart="preferences">${await preferenceBars(judged.map((p) => ({ key: p.key, preference: p.preference })))}<figcaption>P(B better) per judged pair</figcaption></figure>`
    : '';
  const articles = pairs.map((p) => pairArticle(r, p));
  return `<h3>Summary</h3>${summary}${chart}<h3>Pairs</h3>${articles.join('\n')}`;
}

function pairArticle(r: ReportRun, p: ComparedPair): string {
  const status = pairStatus(p);
  const ref = r.referenceOf.get(p.key);
  const figure = (label: string, path: string) =>
    `<figure data-path="${esc(path)}" data-href="${esc(r.thumbnails.get(path)?.fileUrl ?? '')}">${thumb(r.thumbnails.get(path), path)}<figcaption>${esc(label)}</figcaption></figure>`;
  const orders = p.orders
    .map((o) => {
      const aFirst = o.first === p.a.sha256;
      return `<div class="order"><strong>${aFirst ? 'A shown first' : 'B shown first'}:</strong> ${esc(o.verdict ?? 'no verdict')} (P(second better) ${num(o.preference)})${o.coverage !== null && o.coverage < 0.5 ? ' <span class="warn">LOW level coverage</span>' : ''}${o.reasoning ? `\n${esc(o.reasoning)}` : ''}${o.errors.length ? `\n${esc(o.errors.join('; '))}` : ''}</div>`;
    })
    .join('');
  const verdict = p.verdict === null ? status : p.verdict === 'tie' ? (p.consistent === false ? 'tie (orders disagree)' : 'tie') : `${p.verdict.toUpperCase()} better`;
  return `<article class="pair" data-key="${esc(p.key)}" data-status="${esc(status)}">
<h4>${esc(p.key)}: ${esc(verdict)} <small>P(B better) ${num(p.preference)}</small></h4>
<div class="images">${p.a.path ? figure('A', p.a.path) : ''}${p.b.path ? figure('B', p.b.path) : ''}${ref ? figure('reference', ref) : ''}</div>
${orders}${p.errors?.length && !p.orders.length ? `<div class="order">${esc(p.errors.join('; '))}</div>` : ''}
</article>`;
}

async function rankSection(r: ReportRun): Promise<string> {
  if (r.stored.command !== 'rank') return '';
  const view = r.stored.view;
  if (!view) return '<p class="warn">This rank run has no ranking yet (interrupted before it finished).</p>';
  const ranked = view.ranking.filter(
    (x): x is typeof x & { score: number; lower: number; upper: number } => x.status !== 'not-ranked' && x.score !== null && x.lower !== null && x.upper !== null,
  );
  const chart = ranked.length
    ? `<figure class="chart" data-chart="ranking">${await rankingChart(ranked.map((x) => ({ name: x.name, score: x.score, lower: x.lower, upper: x.upper })))}<figcaption>Bradley-Terry scores with 95% intervals, best first</figcaption></figure>`
    : '';
  const rows = view.ranking.map(
    (x) =>
      `<tr class="ranked" data-status="${esc(x.status)}"><td>${x.rank ?? '-'}</td><td class="path">${esc(x.name)}</td><td>${num(x.score)}</td><td>${x.lower === null ? '-' : `[${num(x.lower)}, ${num(x.upper)}]`}${x.few ? ' <span class="warn">few pairs</span>' : ''}</td><td>${x.comparisons}</td><td>${esc(x.status)}${x.reason ? `: ${esc(x.reason)}` : ''}</td></tr>`,
  );
  return `<h3>Ranking</h3>
<p>${esc(view.strategy)} strategy, ${view.judgedOrders} judged orders of a budget of ${view.budget}${view.settled ? ', settled' : ''}.${view.positionArtefacts ? ' <span class="warn">POSITION ARTEFACTS: the verdicts follow the slot, not the images.</span>' : ''}</p>
${chart}
<table class="ranking"><thead><tr><th>rank</th><th>name</th><th>score</th><th>95% interval</th><th>pairs</th><th>status</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<h3>Position bias</h3>${biasList(view.positionBias)}`;
}
