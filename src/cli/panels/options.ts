/**
 * `--judge panel:NAME` (or a panel's bare name): the panel read from the config file's
 * `panels:` section, validated with the panel schema (every error one line naming file,
 * line and key), and its judges opened, each from its entry in `judges:` or as
 * provider:model.
 */
import { openJudge, type OpenedJudge } from '../../api/judge.js';
import { judgeReference, loadConfig, validateConfigSection, type LoadedConfig } from '../../config/index.js';
import { ConfigFileError, UsageError } from '../../core/errors.js';
import { nearest } from '../../core/nearest.js';
import { keyPathText, lineOf } from '../../config/_locate.js';
import { loadPriceTable } from '../../judges/prices.js';
import { panelEntrySchema, type PanelDefinition } from '../../judges/panels/schema.js';
import { expandHome, intArg, numArg, pathArg, str, urlArg, type Args } from '../args.js';
import { configPath } from '../judge-options.js';
import type { SessionEvent } from '../../judges/session/session.js';
import type { CommandIO } from '../main.js';

/** The prefix that names a panel where a judge is expected. */
export const PANEL_PREFIX = 'panel:';

/** A panel chosen on the command line, with the file that defines it. */
export interface PanelChoice {
  panel: PanelDefinition;
  config: LoadedConfig;
}

/**
 * The panel `--judge` names: `panel:NAME`, or a bare name that the config file defines
 * under `panels:` and not under `judges:`. Undefined when `--judge` names a judge.
 */
export async function choosePanel(args: Args, env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<PanelChoice | undefined> {
  const given = str(args, 'judge');
  if (given === undefined) return undefined;
  const prefixed = given.startsWith(PANEL_PREFIX);
  if (!prefixed && given.includes(':')) return undefined;
  const config = await loadConfig({ explicit: pathArg(args, 'config', env), cwd });
  const name = prefixed ? given.slice(PANEL_PREFIX.length) : given;
  const panels = Object.keys(config?.data.panels ?? {});
  if (!prefixed && (!panels.includes(name) || config?.data.judges?.[name] !== undefined)) return undefined;
  if (!config || !panels.includes(name)) {
    const guess = nearest(name, panels);
    throw new UsageError(
      config
        ? `Unknown panel \`${name}\` in ${config.file}${guess ? ` (did you mean \`${guess}\`?)` : panels.length ? ` (panels: ${panels.join(', ')})` : ' (it defines no panels:)'}`
        : `Unknown panel \`${name}\`: panels are defined under panels: in quorum.config.yaml (or the file given with --config), and there is none`,
    );
  }
  const judges = Object.keys(config.data.judges ?? {});
  const body = validateConfigSection(config.source, ['panels', name], panelEntrySchema(judgeReference(judges)));
  return { panel: { name, ...body }, config };
}

/** The judges of a panel, opened: one per neuron (same order), the escalation, meta and roles judges. */
export interface OpenedPanel {
  members: OpenedJudge[];
  escalation: OpenedJudge | undefined;
  meta: OpenedJudge | undefined;
  roles: OpenedJudge | undefined;
  close(): Promise<void>;
}

/**
 * Opens every judge the panel names. A name from the config's `judges:` brings its own
 * settings (base URL, key variable, price, timeout, retries, concurrency, rpm, seed, image
 * side, engine options); a provider:model neuron takes its own `baseUrl`, else the
 * command's flags. `--max-cost` needs a price for each judge. On any failure the judges
 * already opened are closed.
 */
export async function openPanel(choice: PanelChoice, args: Args, env: NodeJS.ProcessEnv): Promise<OpenedPanel> {
  const { panel, config } = choice;
  const opened: OpenedJudge[] = [];
  const close = async () => {
    for (const j of opened) await j.close();
  };
  const pricesFile = pathArg(args, 'prices', env) ?? (env['QUORUM_PRICES'] ? expandHome(env['QUORUM_PRICES'], env) : undefined);
  const fileTable = pricesFile ? await loadPriceTable(pricesFile) : {};
  const maxCost = numArg(args, 'max-cost', 0);
  const open = async (ref: { judge: string; baseUrl?: string | undefined }, where: readonly PropertyKey[]) => {
    const entry = config.data.judges?.[ref.judge];
    const spec = entry ? entry.judge : ref.judge;
    let apiKey: string | undefined;
    if (entry?.apiKeyEnv) {
      apiKey = env[entry.apiKeyEnv];
      if (!apiKey) {
        const at = ['judges', ref.judge, 'apiKeyEnv'];
        throw new ConfigFileError(config.file, lineOf(config.source, at), at.join('.'), `${entry.apiKeyEnv} is not set: export it to use the judge ${ref.judge}`);
      }
    }
    const engine: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(entry?.options ?? {})) {
      if (key === 'temperature' || key === 'maxTokens' || value === undefined) continue;
      engine[key] = key === 'mmproj' ? configPath(config, String(value), env) : value;
    }
    const model = spec.slice(spec.indexOf(':') + 1);
    const judge = await openJudge(
      {
        judge: spec.startsWith('llama:') && entry ? `llama:${configPath(config, model, env)}` : spec,
        baseURL: ref.baseUrl ?? entry?.baseUrl ?? entry?.endpoints?.[0]?.url ?? (entry ? undefined : urlArg(args, 'base-url')),
        apiKey,
        timeout: entry?.timeout ?? numArg(args, 'timeout', 0.001),
        maxImageSide: entry?.maxSide ?? intArg(args, 'max-side', 16),
        engine,
        seed: entry?.seed ?? intArg(args, 'seed', 0),
        prices: { ...(entry?.price ? { [spec]: entry.price } : {}), ...fileTable },
        concurrency: entry?.concurrency ?? intArg(args, 'concurrency', 1),
        rpm: entry?.rpm ?? intArg(args, 'rpm', 1),
        retries: entry?.retries ?? intArg(args, 'retries', 0),
        maxCost,
      },
      env,
      { mmproj: `give options.mmproj in judges.${ref.judge} of ${config.file}` },
    ).catch((error: unknown) => {
      // Name the place in the file: a panel has several judges.
      if (error instanceof UsageError && !(error instanceof ConfigFileError)) {
        const at = ['panels', panel.name, ...where];
        throw new ConfigFileError(config.file, lineOf(config.source, at), keyPathText(at), error.message, { cause: error });
      }
      throw error;
    });
    opened.push(judge);
    return judge;
  };
  try {
    const members: OpenedJudge[] = [];
    for (const [i, neuron] of panel.neurons.entries()) members.push(await open(neuron, ['neurons', i, 'judge']));
    const escalation = panel.escalation ? await open(panel.escalation, ['escalation', 'judge']) : undefined;
    const meta = panel.meta ? await open(panel.meta, ['meta', 'judge']) : undefined;
    const roles = panel.roles && !Array.isArray(panel.roles) ? await open(panel.roles, ['roles', 'judge']) : undefined;
    return { members, escalation, meta, roles, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `--batch` with a panel: the judges of `opened` that the command asks (its neurons, then
 * the helpers named in `helpers`), each of which needs a batch API; the first without one
 * is one usage line naming its place in the panel.
 */
export function batchJudges(panel: PanelDefinition, opened: OpenedPanel, helpers: readonly ('escalation' | 'meta' | 'roles')[]): OpenedJudge[] {
  const everyone = [
    ...opened.members.map((judge, r) => ({ judge, where: `neuron ${r + 1}` })),
    ...helpers.flatMap((k) => (opened[k] ? [{ judge: opened[k], where: `the ${k} judge` }] : [])),
  ];
  const without = everyone.find(({ judge }) => !judge.provider.batch);
  if (without) {
    throw new UsageError(
      `--batch needs every judge of panels.${panel.name} to have a batch API (openai, anthropic); ${without.where} (${without.judge.provider.id}:${without.judge.provider.model}) has none`,
    );
  }
  return everyone.map(({ judge }) => judge);
}

/**
 * The events of a panel's judges: a judge that stops (bad key, unknown model) is said
 * once and the panel judges on without it; every other event goes to `onEvent`.
 */
export function neuronEvents(io: CommandIO, onEvent: (e: SessionEvent) => void): (e: SessionEvent, judge: string) => void {
  const stopped = new Set<string>();
  return (e, judge) => {
    if (e.type === 'fatal') {
      if (!stopped.has(judge)) io.note(`error: ${judge}: ${e.error}; this judge stopped, the panel goes on without it`);
      stopped.add(judge);
      return;
    }
    onEvent(e);
  };
}
