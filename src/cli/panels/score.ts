/**
 * `quorum score --judge panel:NAME`: the panel's neurons review every image, their
 * reviews are fused, and the output says per image what the verdict was fused from.
 * A neuron that stops (server down, bad key) is said once; the panel goes on without it.
 */
import { UsageError } from '../../core/errors.js';
import type { JudgeSession } from '../../judges/session/session.js';
import { runPanel, type PanelRunOptions } from '../../judges/panels/index.js';
import { agreementLine, panelChunks } from '../../report/panels.js';
import type { OutputFormat } from '../../report/format.js';
import type { Store } from '../../store/store.js';
import { enumArg, intArg, str, type Args } from '../args.js';
import { dryRunPanel } from '../../dry-run/index.js';
import { batchExit, batchLine, judgedRun } from '../batch-run.js';
import type { BatchJudge } from '../../judges/batch/run-batched.js';
import { openRunStore, printDryRun, retryFailedOf, RunTerminal } from '../judge-run.js';
import type { CommandIO } from '../main.js';
import { checkOutputs } from '../outputs.js';
import { batchJudges, openPanel, type PanelChoice } from './options.js';
import { panelNotes } from './show.js';

/** Options of `score` that a panel's definition sets instead. */
const NOT_FOR_PANELS = ['prompt', 'anchors', 'samples', 'temperature', 'method'] as const;

export async function runPanelScore(args: Args, io: CommandIO, choice: PanelChoice, inputs: readonly string[]): Promise<number> {
  const { panel, config } = choice;
  const given = NOT_FOR_PANELS.find((o) => io.argv.some((a) => a === `--${o}` || a.startsWith(`--${o}=`)));
  if (given) {
    throw new UsageError(
      `--${given} does not apply to a panel: panels.${panel.name} in ${config.file} sets its neurons' prompts, samples and temperature`,
    );
  }
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table') satisfies OutputFormat;
  await checkOutputs(args, io.env);
  const judges = await openPanel(choice, args, io.env);
  const batch = args['batch'] === true;
  let store: Store;
  let asked: BatchJudge[];
  try {
    // Every judge the panel may ask; with --batch each needs a batch API.
    asked = batch ? batchJudges(panel, judges, ['escalation', 'meta', 'roles']) : [];
    store = openRunStore(args, io.env);
  } catch (error) {
    await judges.close();
    throw error;
  }
  if (args['dry-run'] === true) {
    try {
      const plan = await dryRunPanel({ store, panel, ...judges, retryFailed: retryFailedOf(args), inputs });
      return await printDryRun(plan, args, io, undefined);
    } finally {
      store.close();
      await judges.close();
    }
  }
  const terminal = new RunTerminal(`panel ${panel.name}`, io, args);
  // Ctrl-C: the first stops every judge's new calls, the second abandons those in flight
  // (with --batch, `judgedRun` stops collecting or waiting instead).
  const sessions: JudgeSession[] = [];
  const onInterrupt = () => {
    if (sessions.some((s) => !s.stopping)) {
      terminal.progress.clear();
      io.note('interrupted: finishing calls in flight (Ctrl-C again to abandon them)');
      for (const s of sessions) s.stop();
    } else for (const s of sessions) s.abort();
  };
  if (!batch) io.onInterrupt(onInterrupt);
  const onEvent: PanelRunOptions['onEvent'] = (e, judge) => {
    if (e.type === 'image') return;
    if (e.type === 'fatal') {
      // One judge stopped, not the run: the panel fuses the others.
      terminal.progress.clear();
      io.note(`error: ${judge ?? 'a judge'}: ${e.error}; this judge stopped, the panel goes on without it`);
      return;
    }
    terminal.event(e);
  };
  try {
    const { result, batch: summary } = await judgedRun({
      args,
      io,
      terminal,
      judges: asked,
      layered: true,
      store,
      pass: (o) =>
        runPanel({
          store,
          panel,
          members: judges.members,
          escalation: judges.escalation,
          meta: judges.meta,
          roles: judges.roles,
          inputs,
          runName: str(args, 'run') ?? `panel-${panel.name}`,
          argv: io.argv,
          runOptions: { judge: `panel:${panel.name}` },
          maxCost: judges.members[0]?.maxCost,
          concurrency: intArg(args, 'concurrency', 1),
          fresh: o.fresh ?? args['new'] === true,
          retryFailed: retryFailedOf(args),
          onSession: (s) => {
            sessions.push(s);
            o.onSession?.(s);
          },
          onEvent: o.onEvent ?? onEvent,
          defer: o.defer,
          awaiting: o.awaiting,
          hold: o.hold,
        }),
    });
    io.offInterrupt(onInterrupt);
    terminal.done();
    await terminal.output(args, panelChunks(result.results, format), result.run);

    for (const e of result.inputErrors) io.note(`error: ${e.message}`);
    for (const r of result.results) {
      if (r.status === 'failed') io.note(`failed: ${r.path}: ${r.errors.slice(0, 3).join('; ')}`);
    }
    // A batch still out leaves the images it holds not run, for one reason said once.
    const notRun = result.results.filter((r) => r.status === 'not-run');
    const waiting = summary?.reason !== undefined && notRun.length > 0;
    if (waiting) io.note(`${notRun.length} image(s) not run: ${summary.reason}`);
    // A neuron that failed everywhere is said once, not once per image.
    for (const line of panelNotes(waiting ? result.results.filter((r) => r.status !== 'not-run') : result.results)) io.note(line);
    const reviewed = result.results.filter((r) => r.panel.escalated && r.panel.neuronsUsed > 0).length;
    io.note(
      agreementLine({
        alpha: Number.isFinite(result.alpha) ? result.alpha : null,
        meanSpread: Number.isFinite(result.meanSpread) ? result.meanSpread : null,
        neurons: panel.neurons.length,
      }),
    );
    const scored = result.results.filter((r) => r.status === 'ok' || r.status === 'partial').length;
    const c = result.calls;
    io.note(
      `run ${result.run.name}: ${scored}/${result.results.length} images scored (${panel.fusion} fusion${panel.escalation ? `, panel called on ${reviewed}` : ''}), ` +
        `${c.requests} requests, ${c.cached} cached samples${c.costUsd > 0 ? `, $${c.costUsd.toFixed(4)}` : ''}; db ${store.file}`,
    );
    const line = batchLine(summary);
    if (line) io.note(line);
    if (!batch && sessions.some((s) => s.stopping && s.fatal === undefined && !s.budgetExceeded)) return 130;
    // A batch still processing (`--no-wait`) leaves images not run without failing the run.
    const failed = result.results.some((r) => r.status === 'failed' || (r.status === 'not-run' && !summary?.pending.length));
    return batchExit(failed || result.inputErrors.length > 0 || result.budgetExceeded ? 1 : 0, summary);
  } finally {
    io.offInterrupt(onInterrupt);
    store.close();
    await judges.close();
  }
}
