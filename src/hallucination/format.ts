/** Output of `quorum hallucination` (and `quorum show` of such a run): items, then the systems' ranking. */
import { csvCell, fixed, oneLine, textTable, type OutputFormat } from '../report/format.js';
import type { HallucinationItem } from './run.js';
import type { SystemSummary } from './summary.js';

/** dB with two decimals; `inf` for identical images, `-` for none. */
export const db = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v === Number.POSITIVE_INFINITY ? 'inf' : v.toFixed(2));
/** SSIM with four decimals, `-` for none. */
export const ratio = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(4));

/** The JSON object printed per item: tiles are summarised, findings kept whole. */
export function itemJson(item: HallucinationItem): Record<string, unknown> {
  const { tiles, ...rest } = item;
  return {
    ...rest,
    tiles: tiles.map((t) => ({ x: t.x, y: t.y, width: t.width, height: t.height, sent: [t.sentWidth, t.sentHeight], score: t.score, samples: t.samples })),
  };
}

function systemRows(systems: readonly SystemSummary[]): string[][] {
  return [...systems]
    .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity))
    .map((s) => [
      s.rank === null ? '-' : String(s.rank),
      s.system,
      s.score ? `${fixed(s.score.estimate)} [${fixed(s.score.lower)}, ${fixed(s.score.upper)}]${s.few ? ' (few)' : ''}` : '-',
      fixed(s.areaScore),
      `${s.scored}/${s.outputs}`,
      db(s.fidelity.psnrY),
      ratio(s.fidelity.ssimY),
      db(s.fidelity.psnrRgb),
      ratio(s.fidelity.ssimRgb),
      db(s.fidelity.psnrLr),
      Object.entries(s.findings)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none',
    ]);
}

/** The whole output in one of the four formats. */
export function formatHallucination(
  items: readonly HallucinationItem[],
  systems: readonly SystemSummary[],
  format: OutputFormat,
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify({ items: items.map(itemJson), systems }, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'inf' : v), 2)}\n`;
    case 'jsonl':
      return [...items.map((i) => ({ type: 'item', ...itemJson(i) })), ...systems.map((s) => ({ type: 'system', ...s }))]
        .map((o) => JSON.stringify(o, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'inf' : v)))
        .join('\n')
        .concat('\n');
    case 'csv': {
      const header = 'system,key,sr,lr,gt,status,scale,score,area_score,spread,findings,psnr_rgb,ssim_rgb,psnr_y,ssim_y,psnr_lr,ssim_lr,errors\n';
      return (
        header +
        items
          .map((i) =>
            [
              i.system, i.key, i.sr, i.lr, i.gt, i.status, i.scale, i.score, i.areaScore, i.spread,
              i.findings.map((f) => `${f.kind}:${f.severity}@${Math.round(f.box.x0)},${Math.round(f.box.y0)},${Math.round(f.box.x1)},${Math.round(f.box.y1)}`).join(' '),
              ...(['psnrRgb', 'ssimRgb', 'psnrY', 'ssimY', 'psnrLr', 'ssimLr'] as const).map((m) => (i.fidelity?.[m] === Number.POSITIVE_INFINITY ? 'inf' : (i.fidelity?.[m] ?? null))),
              i.errors.join('; '),
            ]
              .map(csvCell)
              .join(','),
          )
          .join('\n')
          .concat(items.length ? '\n' : '')
      );
    }
    case 'table': {
      const rows = items.map((i) => [
        i.system,
        i.key,
        i.status,
        fixed(i.score),
        fixed(i.areaScore),
        String(i.tiles.length),
        db(i.fidelity?.psnrY),
        ratio(i.fidelity?.ssimY),
        i.findings.map((f) => `${f.kind}(${f.severity})`).join(' ') || (i.status === 'ok' ? 'none' : ''),
        oneLine(i.status === 'ok' ? i.reasoning : i.errors.join('; '), 60),
      ]);
      const header = ['system', 'image', 'status', 'worst', 'mean', 'tiles', 'psnr-y', 'ssim-y', 'findings', 'reasoning'];
      const ranking = textTable(
        ['rank', 'system', 'hallucination (95% CI)', 'area', 'scored', 'psnr-y', 'ssim-y', 'psnr', 'ssim', 'psnr-lr', 'findings'],
        systemRows(systems),
      );
      return `${textTable(header, rows)}\n\n${ranking}\n`;
    }
  }
}
