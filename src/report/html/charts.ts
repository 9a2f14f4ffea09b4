/**
 * Charts drawn by Vega-Lite when the report is written: the page carries the SVG, so it
 * needs no script and no network to show them. Vega escapes the text it draws.
 */
type Spec = Record<string, unknown>;

let engine: Promise<{ vega: typeof import('vega'); vl: typeof import('vega-lite') }> | undefined;

async function render(spec: Spec): Promise<string> {
  engine ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, vl }));
  const { vega, vl } = await engine;
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec } as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Histogram of scores: one bar per non-empty bin. */
export function scoreHistogram(scores: readonly number[]): Promise<string> {
  return render({
    width: 420,
    height: 160,
    data: { values: scores.map((score) => ({ score })) },
    mark: { type: 'bar', tooltip: false },
    encoding: {
      x: { field: 'score', type: 'quantitative', bin: { maxbins: 20 }, title: 'score' },
      y: { aggregate: 'count', type: 'quantitative', title: 'images' },
    },
  });
}

/** P(B better) per judged pair, one bar each, with the 0.5 line. */
export function preferenceBars(pairs: readonly { key: string; preference: number }[]): Promise<string> {
  return render({
    width: Math.min(900, Math.max(200, pairs.length * 14)),
    height: 160,
    data: { values: pairs.map((p, i) => ({ pair: `${i + 1}`, key: p.key, preference: p.preference })) },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'pair', type: 'ordinal', sort: null, title: 'pair', axis: { labels: pairs.length <= 40 } },
          y: { field: 'preference', type: 'quantitative', scale: { domain: [0, 1] }, title: 'P(B better)' },
        },
      },
      { mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { y: { datum: 0.5 } } },
    ],
  });
}

/** Ranked items: the score as a point, its 95% interval as a rule, best first. */
export function rankingChart(
  items: readonly { name: string; score: number; lower: number; upper: number }[],
  axis = 'Bradley-Terry score (log-odds), 95% interval',
): Promise<string> {
  const order = items.map((i) => i.name);
  const y = { field: 'name', type: 'nominal', sort: order, title: null };
  return render({
    width: 420,
    height: Math.max(60, items.length * 18),
    data: { values: items },
    layer: [
      { mark: { type: 'rule' }, encoding: { y, x: { field: 'lower', type: 'quantitative', title: axis }, x2: { field: 'upper' } } },
      { mark: { type: 'point', filled: true, size: 50 }, encoding: { y, x: { field: 'score', type: 'quantitative' } } },
    ],
  });
}
