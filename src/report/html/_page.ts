import { createHash } from 'node:crypto';
import { esc } from './_escape.js';

/**
 * The page around the sections: style, the one script (sorting, filters, tabs, viewer),
 * and a Content-Security-Policy that lets that script run by its hash and nothing else:
 * no network, no inline handlers, no script that came from data.
 */

const STYLE = `
:root { font: 14px/1.45 system-ui, sans-serif; color: #1d2430; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 4px 0 12px; } h2 { font-size: 18px; margin: 20px 0 8px; } h3 { font-size: 15px; margin: 16px 0 6px; }
#tabs { display: flex; gap: 6px; flex-wrap: wrap; border-bottom: 1px solid #ccd; margin-bottom: 12px; }
#tabs button { border: 1px solid #ccd; border-bottom: none; background: #f3f4f8; padding: 6px 12px; border-radius: 6px 6px 0 0; cursor: pointer; font: inherit; }
#tabs button[aria-selected="true"] { background: #fff; font-weight: 600; }
.facts dl, dl.summary, dl.bias { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
.facts dt, dl.summary dt, dl.bias dt { color: #5b6475; } dd { margin: 0; overflow-wrap: anywhere; }
.facts { background: #f7f8fb; border: 1px solid #e1e4ec; border-radius: 8px; padding: 10px 14px; }
.controls { display: flex; gap: 8px; margin: 10px 0; flex-wrap: wrap; }
.controls input, .controls select { font: inherit; padding: 3px 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #e6e8ee; }
th[data-sort] { cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
img.thumb { max-width: 96px; max-height: 96px; cursor: zoom-in; border-radius: 4px; background: #eee; }
.no-thumb { display: inline-block; width: 96px; color: #8a2b2b; font-size: 12px; }
.path { font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
.text { max-width: 460px; white-space: pre-wrap; }
.status-ok { color: #1b6e2d; } .status-partial { color: #8a6d00; } .status-failed, .status-error { color: #a32020; } .status-not-run { color: #666; }
.levels { display: flex; height: 10px; width: 120px; border-radius: 3px; overflow: hidden; background: #eee; }
.levels span { display: block; height: 100%; }
ul.distortions { margin: 4px 0 0; padding-left: 18px; font-size: 12px; }
pre.raw { white-space: pre-wrap; max-height: 200px; overflow: auto; background: #fbf3f3; padding: 6px; font-size: 12px; }
figure.chart { margin: 8px 0; } figure.chart svg { max-width: 100%; height: auto; }
article.pair { border: 1px solid #e1e4ec; border-radius: 8px; padding: 8px 12px; margin: 8px 0; }
article.pair .images { display: flex; gap: 12px; } article.pair figure { margin: 0; text-align: center; font-size: 12px; }
div.order { font-size: 13px; margin-top: 6px; white-space: pre-wrap; }
dialog#viewer { max-width: min(960px, 92vw); border: 1px solid #99a; border-radius: 8px; }
dialog#viewer img.large { width: 100%; max-height: 70vh; object-fit: contain; image-rendering: auto; }
ol.samples li { white-space: pre-wrap; margin: 6px 0; }
.warn { color: #a32020; font-weight: 600; }
table.systems td.count { text-align: right; } p.note { color: #5b6475; font-size: 12px; }
article.sr-item { border: 1px solid #e1e4ec; border-radius: 8px; padding: 8px 12px; margin: 8px 0; }
article.sr-item .sr-body { display: flex; gap: 16px; align-items: flex-start; }
.overlay { position: relative; flex: none; }
.overlay img.thumb.sr { display: block; max-width: none; max-height: none; border-radius: 0; }
.overlay svg.boxes { position: absolute; left: 0; top: 0; pointer-events: none; overflow: visible; }
svg.boxes rect { fill: none; stroke-width: 2; }
svg.boxes .sev-minor rect { stroke: #fdb863; } svg.boxes .sev-moderate rect { stroke: #e66101; } svg.boxes .sev-severe rect { stroke: #d7191c; }
svg.boxes text { font: 10px system-ui, sans-serif; fill: #fff; stroke: #000; stroke-width: 2px; paint-order: stroke; }
ul.findings { margin: 4px 0; padding-left: 18px; font-size: 12px; }
`;

const SCRIPT = `(() => {
  const tabs = document.querySelectorAll('#tabs button');
  const show = (name) => {
    for (const b of tabs) b.setAttribute('aria-selected', String(b.dataset.tab === name));
    for (const s of document.querySelectorAll('section.run')) s.hidden = s.dataset.run !== name;
  };
  for (const b of tabs) b.addEventListener('click', () => show(b.dataset.tab));
  const numeric = new Set(['score', 'std']);
  const compare = (key, x, y) => {
    if (numeric.has(key)) {
      const a = x === '' ? NaN : Number(x), b = y === '' ? NaN : Number(y);
      if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) - Number.isNaN(b);
      return a - b;
    }
    return (x || '').localeCompare(y || '');
  };
  for (const section of document.querySelectorAll('section.run[data-command="score"]')) {
    const table = section.querySelector('table.items');
    if (!table) continue;
    const body = table.tBodies[0];
    for (const th of table.querySelectorAll('th[data-sort]')) {
      th.addEventListener('click', () => {
        const key = th.dataset.sort;
        const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        for (const other of table.querySelectorAll('th[data-sort]')) other.removeAttribute('aria-sort');
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        const rows = [...body.rows];
        // Rows without a value stay last in both directions.
        rows.sort((a, b) => {
          const x = a.dataset[key], y = b.dataset[key];
          if (numeric.has(key) && (x === '') !== (y === '')) return x === '' ? 1 : -1;
          return dir * compare(key, x, y);
        });
        body.append(...rows);
      });
    }
    const text = section.querySelector('.filter-text');
    const status = section.querySelector('.filter-status');
    const kind = section.querySelector('.filter-distortion');
    const apply = () => {
      const words = (text ? text.value : '').trim().toLowerCase();
      for (const row of body.rows) {
        const ok = (!status || !status.value || row.dataset.status === status.value)
          && (!kind || !kind.value || (row.dataset.distortions || '').split(' ').includes(kind.value))
          && (!words || row.textContent.toLowerCase().includes(words) || (row.dataset.path || '').toLowerCase().includes(words));
        row.hidden = !ok;
      }
    };
    for (const control of [text, status, kind]) if (control) { control.addEventListener('input', apply); control.addEventListener('change', apply); }
  }
  const viewer = document.getElementById('viewer');
  document.addEventListener('click', (event) => {
    const img = event.target instanceof Element ? event.target.closest('img.thumb') : null;
    if (!img || !viewer) return;
    const holder = img.closest('[data-path]');
    const large = viewer.querySelector('img.large');
    // The full image from disk when the page was opened from disk; else the thumbnail, larger.
    if (holder && holder.dataset.href && location.protocol === 'file:') {
      large.onerror = () => { large.onerror = null; large.src = img.src; };
      large.src = holder.dataset.href;
    } else {
      large.onerror = null;
      large.src = img.src;
    }
    viewer.querySelector('.caption').textContent = holder ? holder.dataset.path : '';
    const link = viewer.querySelector('a.full');
    if (holder && holder.dataset.href) { link.href = holder.dataset.href; link.hidden = false; } else link.hidden = true;
    const list = viewer.querySelector('ol.samples');
    list.replaceChildren();
    const samples = holder ? holder.querySelector('template.samples') : null;
    if (samples) list.append(samples.content.cloneNode(true));
    viewer.showModal();
  });
  if (viewer) viewer.querySelector('button.close').addEventListener('click', () => viewer.close());
})();`;

const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

/** The whole page: title, tabs over the runs, their sections, the viewer, the script. */
export function page(input: { title: string; generatedAt: string; tabs: readonly string[]; sections: readonly string[] }): string {
  // file: lets the viewer show a run's own image from disk; nothing is fetched over a network.
  const csp = `default-src 'none'; img-src data: file:; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(input.title)}</h1>
<p class="generated">Written ${esc(input.generatedAt)} by Quorum from its database; no judge was called.</p>
<nav id="tabs">${input.tabs.map((t, i) => `<button type="button" data-tab="${esc(t)}" aria-selected="${i === 0}">${esc(t)}</button>`).join('')}</nav>
${input.sections.join('\n')}
<dialog id="viewer"><button type="button" class="close">Close</button> <a class="full" hidden>open the full image</a>
<p class="caption path"></p><img class="large" alt=""><ol class="samples"></ol></dialog>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
