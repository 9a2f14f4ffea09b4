import type { ReportRun } from './gather.js';
import { pairStatus } from './pairs.js';

/**
 * The Markdown report, for pull requests and papers: per run a headline table (images with
 * score, spread and status; the comparison's summary; the ranking with intervals), the facts,
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
        out.push(`| ${link(i.path)} | ${n(i.score)} | ${n(i.std)} | ${i.status} | ${cell(words, 160)} |`);
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

const n = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2));
const iv = (i: { estimate: number; lower: number; upper: number } | null) => (i ? `${n(i.estimate)} [${n(i.lower)}, ${n(i.upper)}]` : '-');

/** Text for a table cell: one line, pipes and markup characters escaped, shortened. */
function cell(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const short = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return short.replace(/[\\|<>[\]*_`]/g, (c) => `\\${c}`);
}

/** A link to an image by path (spaces and parentheses encoded so the link holds). */
function link(path: string): string {
  if (!path) return '-';
  const target = encodeURI(path).replace(/[()]/g, (c) => (c === '(' ? '%28' : '%29'));
  return `[${cell(path.split(/[/\\]/).pop() ?? path)}](${target})`;
}
