import { ELEMENT_KINDS } from '../hallucination/answer.js';
import { db, ratio } from '../hallucination/format.js';
import { oneLine } from './format.js';
import type { ReportRun } from './gather.js';
import { pairStatus } from './pairs.js';
import { isPanelResult, panelVerdictText } from './panels.js';
import type { StoredRun } from './stored.js';

/**
 * The Markdown report, for pull requests and papers: per run a headline table (images with
 * score, spread and status; the comparison's summary; the ranking with intervals; the SR
 * systems' hallucination ranking beside fidelity, and every finding with its box), the facts,
 * and links to the images by path. Text from judges and file names is escaped for tables.
 */
export function renderMarkdownReport(runs: readonly ReportRun[]): string {
  const out = ['# Quorum report', ''];
  for (const r of runs) {
    const { run } = r.stored;
    out.push(`## ${cell(run.name)} (${run.command}, ${run.status})`, '');
    if (r.stored.command === 'score') {
      out.push('| image | score | spread | status | description |', '| --- | ---: | ---: | --- | --- |');
      for (const i of r.stored.images) {
        const words = i.status === 'ok' || i.status === 'partial' ? (i.reasoning ?? '') : i.errors.join('; ');
        // A panel's verdict: its interval and how many neurons it was fused from, in the spread column.
        out.push(`| ${link(i.path)} | ${n(i.score)} | ${isPanelResult(i) ? cell(panelVerdictText(i)) : n(i.std)} | ${i.status} | ${cell(words, 160)} |`);
      }
    } else if (r.stored.command === 'compare') {
      const s = r.stored.summary;
      if (s) {
        out.push(
          `| | ${cell(s.b)} (B) vs ${cell(s.a)} (A) |`,
          '| --- | --- |',
          `| pairs judged | ${s.judged} of ${s.pairs} |`,
          `| wins | B ${s.winsB}, ties ${s.ties}, A ${s.winsA} |`,
          `| win rate of B | ${iv(s.winRateB)} |`,
          `| Bradley-Terry B-A | ${s.positionArtefacts ? 'not reported: POSITION ARTEFACTS' : iv(s.bradleyTerry)} |`,
        );
      }
      out.push('', '| pair | A | B | verdict | P(B better) |', '| --- | --- | --- | --- | ---: |');
      for (const p of r.stored.pairs) out.push(`| ${cell(p.key)} | ${link(p.a.path)} | ${link(p.b.path)} | ${p.verdict ?? pairStatus(p)} | ${n(p.preference)} |`);
    } else if (r.stored.command === 'hallucination') {
      out.push(...hallucinationLines(r.stored));
    } else if (r.stored.view) {
      out.push('| rank | name | score | 95% interval | pairs | status |', '| ---: | --- | ---: | --- | ---: | --- |');
      for (const x of r.stored.view.ranking) {
        out.push(`| ${x.rank ?? '-'} | ${cell(x.name)} | ${n(x.score)} | ${x.lower === null ? '-' : `[${n(x.lower)}, ${n(x.upper)}]`} | ${x.comparisons} | ${x.status} |`);
      }
    }
    const f = r.facts;
    const o = run.options;
    const prompt = o['prompt'] as { id?: string; version?: number } | undefined;
    out.push(
      '',
      `- judge: ${cell(String(o['judge'] ?? '-'))}${o['baseURL'] ? ` at ${cell(String(o['baseURL']))}` : ''}`,
      `- prompt: ${prompt ? `${prompt.id}@${prompt.version}` : '-'}; method ${cell(String(o['method'] ?? '-'))}, samples ${cell(String(o['samples'] ?? '-'))}, temperature ${cell(String(o['temperature'] ?? '-'))}`,
      `- calls: ${f.calls} (${f.cached} cached), ${f.parseFailures} parse failures, ${f.errors} failed requests; tokens ${f.inputTokens} in, ${f.outputTokens} out${f.costUsd > 0 ? `; $${f.costUsd.toFixed(4)}` : ''}`,
      `- Quorum ${run.quorumVersion}: \`quorum ${run.args.join(' ').replace(/`/g, "'")}\``,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

/** A hallucination run: systems ranked with intervals, fidelity and counts by kind; then each output's findings (boxes in SR pixels). */
function hallucinationLines({ items, systems }: Extract<StoredRun, { command: 'hallucination' }>): string[] {
  const out: string[] = [];
  if (systems) {
    out.push(
      `| rank | system | hallucination [95% CI] | scored | PSNR | SSIM | PSNR Y | SSIM Y | PSNR LR | ${ELEMENT_KINDS.join(' | ')} |`,
      `| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ${ELEMENT_KINDS.map(() => '---:').join(' | ')} |`,
    );
    for (const s of [...systems].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity))) {
      const f = s.fidelity;
      out.push(
        `| ${s.rank ?? '-'} | ${cell(s.system)} | ${s.score ? `${iv(s.score)}${s.few ? ' (few images)' : ''}` : '-'} | ${s.scored} of ${s.outputs} | ${db(f.psnrRgb)} | ${ratio(f.ssimRgb)} | ${db(f.psnrY)} | ${ratio(f.ssimY)} | ${db(f.psnrLr)} | ${ELEMENT_KINDS.map((k) => s.findings[k]).join(' | ')} |`,
      );
    }
    out.push('');
  } else out.push('No summary yet: the run was interrupted before it finished.', '');
  out.push('| output | status | score (worst, area) | findings (kind, severity, box x0,y0,x1,y1 in SR pixels) | reasoning |', '| --- | --- | --- | --- | --- |');
  for (const i of items) {
    const findings = i.findings.map((f) => `${f.kind} ${f.severity} ${[f.box.x0, f.box.y0, f.box.x1, f.box.y1].map((v) => Math.round(v)).join(',')}`).join('; ');
    const words = i.status === 'ok' ? (i.reasoning ?? '') : i.errors.filter(Boolean).join('; ');
    out.push(`| ${link(i.sr)} (${cell(i.system)}) | ${i.status} | ${n(i.score)}, ${n(i.areaScore)} | ${cell(findings || (i.status === 'ok' ? 'none' : '-'), 400)} | ${cell(words, 160)} |`);
  }
  return out;
}

const n = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2));
const iv = (i: { estimate: number; lower: number; upper: number } | null) => (i ? `${n(i.estimate)} [${n(i.lower)}, ${n(i.upper)}]` : '-');

/** Text for a table cell: one line, pipes and markup characters escaped, shortened. */
function cell(text: string, max = 200): string {
  return oneLine(text, max).replace(/[\\|<>[\]*_`]/g, (c) => `\\${c}`);
}

/** A link to an image by path (spaces and parentheses encoded so the link holds). */
function link(path: string): string {
  if (!path) return '-';
  const target = encodeURI(path).replace(/[()]/g, (c) => (c === '(' ? '%28' : '%29'));
  return `[${cell(path.split(/[/\\]/).pop() ?? path)}](${target})`;
}
