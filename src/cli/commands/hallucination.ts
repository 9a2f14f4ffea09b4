import { defineCommand } from 'citty';
import { UsageError } from '../../core/errors.js';
import { hashObject } from '../../core/hash.js';
import { readSize } from '../../images/index.js';
import { hallucinationReport } from '../../prompts/builtin.js';
import { resolveTemplate } from '../../prompts/load.js';
import type { PromptTemplate } from '../../prompts/template.js';
import { formatHallucination } from '../../hallucination/format.js';
import { missingPart, runHallucination } from '../../hallucination/run.js';
import { planTiles, type TileMode } from '../../hallucination/tiles.js';
import { inferScale, matchTriplets } from '../../hallucination/triplets.js';
import { textTable } from '../../report/format.js';
import { Store } from '../../store/store.js';
import { dbPath, enumArg, intArg, numArg, str, strs, type Args } from '../args.js';
import { chooseJudge, judgeArgs, seedOf, setupJudge } from '../judge-options.js';
import { RunTerminal, runArgs } from '../judge-run.js';
import type { CommandIO } from '../main.js';
import { describeError } from '../../core/errors.js';
import { openPanelHallucination } from '../panels/hallucination.js';
import { choosePanel } from '../panels/options.js';
import { panelNotes } from '../panels/show.js';

export const usage = 'hallucination --lr <dir> --sr <dir> [--sr <dir2> ...] [--gt <dir>] --judge provider:model|name|panel:NAME [options]';

export const command = defineCommand({
  meta: {
    name: 'hallucination',
    description:
      'Score and locate hallucinations in super-resolution outputs: each SR output is judged beside its LR input (upscaled with plain bicubic) and, with --gt, its ground truth; PSNR/SSIM are measured beside it. Several --sr folders are ranked.',
  },
  args: {
    lr: { type: 'string', valueHint: 'dir', description: 'Folder of low-resolution inputs (matched to outputs by relative path, extension ignored)', required: true },
    sr: { type: 'string', valueHint: 'dir', description: 'Folder of super-resolved outputs of one system; repeat for several systems', required: true },
    gt: { type: 'string', valueHint: 'dir', description: 'Folder of ground-truth images (shown to the judge; PSNR/SSIM against it)' },
    tiles: { type: 'string', valueHint: 'auto|N|off', description: 'auto: tiles the judge sees at native resolution (one tile when the image fits --max-side); N: tiles of N x N SR pixels; off: the whole image once', default: 'auto' },
    samples: {
      type: 'string',
      valueHint: 'K',
      description: "Answers per tile; the score is their mean and the spread is kept (1-1000; default 1, with panel:NAME the panel's samples per neuron)",
    },
    temperature: { type: 'string', valueHint: 'T', description: "Sampling temperature (default 1; with panel:NAME the panel's temperature)" },
    prompt: {
      type: 'string',
      valueHint: 'id|file',
      description:
        'Prompt template of task `hallucination` (default hallucination-report): a template file (JSON or Markdown, docs/prompts.md) with `kind: report` and `task: hallucination`. Its words are yours; the answer is always the hallucination JSON (score 0-4, elements with kind, severity and box in pixels of the image as shown, reasoning), requested as structured output and checked, so the template must ask for that',
    },
    'bootstrap-seed': { type: 'string', valueHint: 'N', description: 'Seed of the bootstrap intervals', default: '0' },
    ...judgeArgs,
    ...runArgs,
    'dry-run': { type: 'boolean', description: 'Check the triplets and print the planned calls; send nothing, store nothing' },
  },
});

export const examples = `Examples:
  quorum hallucination --lr data/lr --sr out/esrgan --sr out/diffusion --gt data/hr --judge openai:gpt-4o
  quorum hallucination --lr data/lr --sr out/model --judge anthropic:claude-sonnet-4-6 --samples 3 --format json
  quorum hallucination --lr data/lr --sr out/model --judge openai:gpt-4o --tiles 512 --dry-run
  quorum hallucination --lr data/lr --sr out/model --judge openai:gpt-4o --prompt my-hallucination.md
  quorum hallucination --lr data/lr --sr out/model --judge panel:sr-panel --format json

The judge answers a 0-4 hallucination score (0 none, 1 slight, 2 moderate, 3 strong,
4 severe) and the invented elements (texture, text, face, object, structure, colour) with
boxes, stored in SR pixels. An image's score is its worst tile (the area-weighted mean is
kept too). Systems are ranked by mean score with 95% bootstrap intervals, beside PSNR and
SSIM against the GT (RGB and BT.601 Y, border of \`scale\` pixels cropped) and against the
LR input after a box downscale. With --judge panel:NAME (a one-layer panel of
quorum.config.yaml) each neuron judges every tile from its role; the image's score is the
mean of the neurons' scores (their spread kept), findings are their boxes merged, and a
failing neuron is recorded and said once. See docs/hallucination.md.`;

/**
 * The template of `--prompt`: a built-in or a file of task `hallucination` (a report
 * template). Another task is refused: its images, answer and parsing are another command's.
 */
async function hallucinationTemplate(args: Args): Promise<PromptTemplate> {
  const name = str(args, 'prompt');
  if (!name) return hallucinationReport;
  const template = await resolveTemplate(name);
  if (template.task !== 'hallucination') {
    throw new UsageError(
      `Expected \`prompt\` to be a template of task \`hallucination\` (kind report), got \`${template.id}\` of task \`${template.task}\`; quorum prompts lists them, docs/prompts.md describes template files`,
    );
  }
  return template;
}

function tileMode(args: Args): TileMode {
  const v = str(args, 'tiles') ?? 'auto';
  if (v === 'auto' || v === 'off') return v;
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 64) throw new UsageError(`Expected \`tiles\` to be auto, off or an integer >= 64, got \`${v}\``);
  return n;
}

export async function run(args: Args, io: CommandIO): Promise<number> {
  const lr = str(args, 'lr');
  const srs = strs(args, 'sr');
  if (!lr) throw new UsageError('Missing required option --lr (the folder of low-resolution inputs)');
  if (srs.length === 0) throw new UsageError('Missing required option --sr (a folder of super-resolved outputs)');
  const gt = str(args, 'gt');
  const tiles = tileMode(args);
  const given = intArg(args, 'samples', 1);
  const givenTemperature = numArg(args, 'temperature', 0, 2);
  const seed = intArg(args, 'bootstrap-seed', 0) ?? 0;
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const template = await hallucinationTemplate(args);
  const base = { template, seed: intArg(args, 'seed', 0) };
  // A panel (`--judge panel:NAME`): its neurons judge every tile in place of one judge.
  const panelChoice = await choosePanel(args, io.env);
  let terminal: RunTerminal | undefined;
  const panel = panelChoice ? await openPanelHallucination(args, io, panelChoice, base, (e) => void terminal?.event(e)) : undefined;
  // One judge: its config entry's seed reaches the requests as in `quorum score`.
  const choice = panel ? undefined : await chooseJudge(args, io);
  const judge = panel ? panel.judge : await setupJudge(args, io, choice);
  const samples = panel?.samples ?? given ?? 1;
  const temperature = panel?.temperature ?? givenTemperature ?? 1;
  const settings = { ...base, ...(choice ? { seed: seedOf(args, choice) } : {}), samples, temperature };
  try {
    if (args['dry-run'] === true) return await dryRun({ lr, srs, gt, tiles, samples, maxSide: judge.provider.maxImageSide, format }, io);
    const runOptions = {
      judge: panelChoice ? `panel:${panelChoice.panel.name}` : `${judge.provider.id}:${judge.provider.model}`,
      ...(panelChoice ? { panel: panelChoice.panel } : {}),
      lr,
      srs,
      gt: gt ?? null,
      tiles,
      samples,
      temperature,
      prompt: { id: template.id, version: template.version, hash: template.hash },
    };
    const store = Store.open(dbPath(args, io.env));
    const term = new RunTerminal('hallucination', io, args);
    terminal = term;
    try {
      const result = await runHallucination({
        store,
        provider: judge.provider,
        lr,
        srs,
        gt,
        tiles,
        settings,
        seed,
        judging: panel?.judging,
        runName: str(args, 'run') ?? `hallucination-${hashObject(runOptions).slice(0, 10)}`,
        runOptions,
        ...terminal.runOptions(judge),
        onEvent: (e) => void term.event(e),
      });
      terminal.done();
      await terminal.output(args, formatHallucination(result.items, result.systems, format), result.run);
      for (const u of result.unmatched) io.note(`unmatched: ${u.path} (${u.reason})`);
      for (const e of result.inputErrors) io.note(`error: ${e.message}`);
      const byPanel = result.items.flatMap((i) => (i.panel ? [{ ...i, panel: i.panel }] : []));
      for (const line of panelNotes(byPanel)) io.note(line);
      for (const i of byPanel) for (const e of i.panel.errors) io.note(`panel ${i.panel.name}: ${i.sr}: ${e}`);
      const failed = result.items.filter((i) => i.status === 'failed');
      if (failed.length) io.note(`${failed.length} output(s) failed: \`quorum show ${result.run.name} --calls\` has the details`);
      if (result.renamed) io.note(`the earlier run named ${result.run.name} is kept as ${result.renamed}`);
      const c = result.counts;
      io.note(`run ${result.run.name}${result.resumed ? ' (resumed)' : ''}: ${c.requests} requests${c.rejected ? `, ${c.rejected} rejected` : ''}, ${c.cached} cached; db ${store.file}`);
      if (result.fatal) return 1;
      if (result.interrupted) return 130;
      return failed.length > 0 || result.inputErrors.length > 0 || result.budgetExceeded ? 1 : 0;
    } finally {
      terminal.done();
      store.close();
    }
  } finally {
    await (panel ? panel.close() : judge.provider.close?.());
  }
}

/** Matches and checks the triplets from their headers and prints the calls a run would make. */
async function dryRun(
  o: { lr: string; srs: string[]; gt: string | undefined; tiles: TileMode; samples: number; maxSide: number; format: string },
  io: CommandIO,
): Promise<number> {
  const matched = await matchTriplets(o.lr, o.srs, o.gt);
  const rows: { system: string; key: string; status: string; size: string; scale: number | null; tiles: number; calls: number; reason: string }[] = [];
  for (const t of matched.triplets) {
    const system = matched.systems[t.system] as string;
    const row = { system, key: t.key, status: 'planned', size: '-', scale: null as number | null, tiles: 0, calls: 0, reason: '' };
    const missing = missingPart(t, o.lr, o.gt);
    try {
      if (missing) throw new Error(missing);
      const [sr, lr, gt] = await Promise.all([readSize(t.sr), readSize(t.lr as string), t.gt ? readSize(t.gt) : undefined]);
      const scale = inferScale(sr, lr, gt);
      if (!scale.ok) throw new Error(`${t.sr}: ${scale.reason}`);
      const n = planTiles(sr.width, sr.height, o.tiles, o.maxSide).length;
      Object.assign(row, { size: `${sr.width}x${sr.height}`, scale: scale.scale, tiles: n, calls: n * o.samples });
    } catch (error) {
      Object.assign(row, { status: 'error', reason: describeError(error) });
    }
    rows.push(row);
  }
  const calls = rows.reduce((s, r) => s + r.calls, 0);
  if (o.format === 'table') {
    io.stdout.write(`${textTable(['system', 'image', 'status', 'size', 'scale', 'tiles', 'calls', 'reason'], rows.map((r) => [r.system, r.key, r.status, r.size, r.scale === null ? '-' : `x${r.scale}`, String(r.tiles), String(r.calls), r.reason]))}\n`);
  } else io.stdout.write(`${JSON.stringify({ dryRun: true, calls, items: rows })}\n`);
  for (const u of matched.unmatched) io.note(`unmatched: ${u.path} (${u.reason})`);
  io.note(`dry run: ${calls} call(s) planned (${o.samples} per tile, before the cache); nothing sent, nothing stored`);
  return rows.some((r) => r.status === 'error') ? 1 : 0;
}
