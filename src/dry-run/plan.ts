import { createRandom } from '../aggregate/random.js';
import { sha256 } from '../core/hash.js';
import type { CompletionRequest, ImagePart, Provider } from '../core/provider.js';
import { collectInputs, readImageFile } from '../images/index.js';
import { activeBudget } from '../judges/active.js';
import { pairParams, pairRequest, type PairSettings } from '../judges/compare.js';
import { matchFolders } from '../judges/match.js';
import { batchPriceFactor, batchPriceOf, costOf, type Price } from '../judges/prices.js';
import { judgeIdOf } from '../judges/run.js';
import { scoreGroupSpec, scoreParams, type ScoreSettings } from '../judges/score.js';
import { choicesPerRequest, estimateInputTokens, sampleSlots } from '../judges/session/session.js';
import type { RetryFailed, Store } from '../store/store.js';

/**
 * `--dry-run`: what a judging command would ask, worked out without asking anyone. Files
 * are read and hashed (no decode), cache keys are built exactly as the run builds them and
 * looked up in the store, and requests are counted the way the session sends them (all
 * of an item's missing samples in one request, up to the judge's known `n`). Nothing is
 * written: no run, no image rows, no probe.
 */

/** One judge's share of a planned command. */
export interface DryRunJudge {
  /** `provider:model`. */
  judge: string;
  /** The config name it was chosen by, if any. */
  name?: string | undefined;
  method: string;
  prompt: string;
  /** Items asked about: images (score), orders of pairs (compare, rank). */
  items: number;
  samplesPerItem: number;
  /** Samples the command needs in all; `cached` of them are in the store. */
  samples: number;
  cached: number;
  /** Requests the run would send for the rest (each carries up to `choicesPerRequest` samples). */
  requests: number;
  choicesPerRequest: number;
  /** A one-token log-probability probe sent before the first run of a judge whose support is unknown. */
  probes: number;
  /** Input tokens of those requests, estimated: text / 4, an image as pixels / 750 (at most 1600) + 85, at the judge's image side. */
  inputTokens: number;
  /** Output tokens at most: every sample at the request's `maxTokens` (answers are usually shorter). */
  outputTokensAtMost: number;
  /** USD for those tokens at the judge's price (an upper bound through the output); null without a price. */
  costUsdAtMost: number | null;
  /** The same at the provider's batch price (`--batch`); null without a price or for a provider without a batch API. */
  batchCostUsdAtMost: number | null;
  /** True when the real count depends on answers (the active strategy stops when the order is settled): the figures are a ceiling. */
  upperBound: boolean;
}

export interface DryRunPlan {
  command: 'score' | 'compare' | 'rank';
  dryRun: true;
  judges: DryRunJudge[];
  /** Inputs that could not be read (never asked about). */
  inputErrors: string[];
  notes: string[];
}

export interface DryRunJudgeInput {
  store: Store;
  provider: Provider;
  price: Price | undefined;
  retryFailed: RetryFailed;
  name?: string | undefined;
}

/** An image as the plan knows it: identity and the size it is sent at. */
export interface PlannedImage {
  sha256: string;
  part: ImagePart;
}

/** Reads and hashes a file; its size from the store (seen before) or the header. */
export async function planImage(store: Store, path: string, maxSide: number): Promise<PlannedImage> {
  const source = await readImageFile(path);
  const hash = sha256(source.data);
  let size = store.getImage(hash);
  if (!size) {
    const sharp = (await import('sharp')).default;
    const meta = await sharp(source.data, { failOn: 'none' }).metadata();
    size = { width: meta.width ?? 0, height: meta.height ?? 0 } as NonNullable<typeof size>;
  }
  const scale = Math.min(1, maxSide / Math.max(1, size.width, size.height));
  const part: ImagePart = {
    type: 'image',
    data: new Uint8Array(0),
    mediaType: 'image/png',
    sha256: hash,
    width: Math.max(1, Math.round(size.width * scale)),
    height: Math.max(1, Math.round(size.height * scale)),
  };
  return { sha256: hash, part };
}

/** Accumulates questions (one image, one pair order) into a judge's figures. */
export class Tally {
  readonly #input: DryRunJudgeInput;
  readonly #judgeId: string;
  readonly #maxChoices: number;
  samples = 0;
  cached = 0;
  requests = 0;
  inputTokens = 0;
  outputTokens = 0;

  constructor(input: DryRunJudgeInput) {
    this.#input = input;
    this.#judgeId = judgeIdOf(input.provider);
    this.#maxChoices = choicesPerRequest(input.store, input.provider, this.#judgeId).max;
  }

  get maxChoices(): number {
    return this.#maxChoices;
  }

  /**
   * One question. `unknown`: its prompt depends on answers not given yet (a panel's later
   * layers), so its cache cannot be looked up: every sample counts as to ask.
   */
  add(question: { promptHash: string; imageHashes: string[]; params: Record<string, unknown>; count: number; request: () => CompletionRequest; unknown?: boolean }): void {
    const slots = sampleSlots({ judgeId: this.#judgeId, ...question });
    const missing = question.unknown ? question.count : slots.filter((s) => !this.#input.store.cachedCall(s.cacheKey, this.#input.retryFailed)).length;
    this.samples += question.count;
    this.cached += question.count - missing;
    if (missing === 0) return;
    const request = question.request();
    const requests = Math.ceil(missing / this.#maxChoices);
    this.requests += requests;
    this.inputTokens += requests * estimateInputTokens(request.messages);
    this.outputTokens += missing * request.maxTokens;
  }

  result(fields: Pick<DryRunJudge, 'method' | 'prompt' | 'items' | 'samplesPerItem' | 'probes'> & { upperBound?: boolean }): DryRunJudge {
    const { provider, price, name } = this.#input;
    return {
      judge: `${provider.id}:${provider.model}`,
      ...(name !== undefined ? { name } : {}),
      ...fields,
      samples: this.samples,
      cached: this.cached,
      requests: this.requests + fields.probes,
      choicesPerRequest: this.#maxChoices,
      inputTokens: Math.round(this.inputTokens),
      outputTokensAtMost: this.outputTokens,
      ...costs(provider.id, price, this.inputTokens, this.outputTokens),
      upperBound: fields.upperBound ?? false,
    };
  }
}

/** Cost at the live price and, where the provider has a batch API, at its batch price. */
function costs(provider: string, price: Price | undefined, inputTokens: number, outputTokens: number): Pick<DryRunJudge, 'costUsdAtMost' | 'batchCostUsdAtMost'> {
  const batchPrice = batchPriceOf(provider, price);
  return {
    costUsdAtMost: costOf(price, inputTokens, outputTokens),
    batchCostUsdAtMost: batchPrice && batchPriceFactor[provider] !== undefined ? costOf(batchPrice, inputTokens, outputTokens) : null,
  };
}

/** The readable inputs as planned images, each content once (a duplicate shares its first copy's calls, as in the run). */
export async function planInputs(store: Store, inputs: readonly string[], maxSide: number): Promise<{ images: PlannedImage[]; inputErrors: string[] }> {
  const collected = await collectInputs([...inputs]);
  const inputErrors = collected.errors.map((e) => e.message);
  const images: PlannedImage[] = [];
  const seen = new Set<string>();
  for (const file of collected.files) {
    try {
      const image = await planImage(store, file.path, maxSide);
      if (seen.has(image.sha256)) continue;
      seen.add(image.sha256);
      images.push(image);
    } catch (error) {
      inputErrors.push(`${file.path}: ${(error as Error).message}`);
    }
  }
  return { images, inputErrors };
}

/**
 * Every image asked one score question of `provider` under `settings`; `unknown` when the
 * prompt quotes answers not given yet (its cache cannot be looked up).
 */
export function tallyScores(tally: Tally, provider: Provider, settings: ScoreSettings, images: readonly PlannedImage[], unknown = false): { samplesPerItem: number } {
  const count = settings.method === 'levels' ? 1 : settings.samples;
  const params = scoreParams(provider, settings);
  for (const image of images) {
    tally.add({ promptHash: settings.template.hash, imageHashes: [image.sha256], params, count, unknown, request: () => scoreGroupSpec(provider, settings, image.part).request });
  }
  return { samplesPerItem: count };
}

/** The plan of `quorum score` (sample, report and levels methods). */
export async function dryRunScore(input: DryRunJudgeInput & { inputs: readonly string[]; settings: ScoreSettings; probes: number }): Promise<DryRunPlan> {
  const { store, provider, settings } = input;
  const { images, inputErrors } = await planInputs(store, input.inputs, provider.maxImageSide);
  const tally = new Tally(input);
  const { samplesPerItem } = tallyScores(tally, provider, settings, images);
  return {
    command: 'score',
    dryRun: true,
    judges: [tally.result({ method: settings.method, prompt: settings.template.id, items: images.length, samplesPerItem, probes: input.probes })],
    inputErrors,
    notes: [],
  };
}

/** Counts the orders of pairs: each (first, second[, reference]) is one question. */
function addPair(tally: Tally, provider: Provider, settings: PairSettings, first: PlannedImage, second: PlannedImage, reference?: PlannedImage): void {
  const count = settings.template.kind === 'levels' ? 1 : settings.samples;
  tally.add({
    promptHash: settings.template.hash,
    imageHashes: [...(reference ? [reference.sha256] : []), first.sha256, second.sha256],
    params: pairParams(provider, settings),
    count,
    request: () => pairRequest(provider, settings, { reference: reference?.part, first: first.part, second: second.part }).request,
  });
}

/** The plan of `quorum compare`: every matched pair, in both orders (or the one order `fixed`/`random` judge). */
export async function dryRunCompare(
  input: DryRunJudgeInput & { dirs: readonly [string, string]; reference?: string | undefined; settings: PairSettings; order: 'both' | 'random' | 'fixed'; seed: number; probes: number },
): Promise<DryRunPlan> {
  const { store, provider, settings } = input;
  const folders = [...input.dirs, ...(input.reference ? [input.reference] : [])];
  const matched = await matchFolders(folders);
  const inputErrors = matched.errors.map((e) => e.message);
  const tally = new Tally(input);
  // The run's coins for `--order random`: drawn up front, in key order, from the seed.
  const random = createRandom(input.seed);
  const coins = matched.keys.map(() => random.uniform() < 0.5);
  let orders = 0;
  for (const [position, key] of matched.keys.entries()) {
    let sides: PlannedImage[];
    try {
      sides = await Promise.all(folders.map((_, f) => planImage(store, matched.paths[f]?.get(key) as string, provider.maxImageSide)));
    } catch (error) {
      inputErrors.push(`${key}: ${(error as Error).message}`);
      continue;
    }
    const [a, b, ref] = sides as [PlannedImage, PlannedImage, PlannedImage | undefined];
    const chosen: [PlannedImage, PlannedImage][] =
      input.order === 'both' ? [[a, b], [b, a]] : input.order === 'fixed' || !coins[position] ? [[a, b]] : [[b, a]];
    for (const [first, second] of chosen) addPair(tally, provider, settings, first, second, ref);
    orders += chosen.length;
  }
  return {
    command: 'compare',
    dryRun: true,
    judges: [tally.result({ method: `pair-${settings.template.kind}`, prompt: settings.template.id, items: orders, samplesPerItem: settings.template.kind === 'levels' ? 1 : settings.samples, probes: input.probes })],
    inputErrors,
    notes: matched.unmatched.length ? [`${matched.unmatched.length} file(s) have no counterpart and are not judged`] : [],
  };
}

/**
 * The plan of `quorum rank`. Round-robin (within its budget: every pair) is counted pair by
 * pair against the cache; `random` and `active` choose pairs as the run goes, so they are
 * planned at their budget (a ceiling: active stops early once the order is settled), with
 * the cache counted only where the budget covers every pair.
 */
export async function dryRunRank(
  input: DryRunJudgeInput & {
    target: { systems: readonly string[] } | { items: string };
    settings: PairSettings;
    strategy: 'active' | 'round-robin' | 'random';
    budget: number | undefined;
    probes: number;
  },
): Promise<DryRunPlan> {
  const { store, provider, settings } = input;
  const inputErrors: string[] = [];
  const notes: string[] = [];
  const plan = async (path: string): Promise<PlannedImage | undefined> => {
    try {
      return await planImage(store, path, provider.maxImageSide);
    } catch (error) {
      inputErrors.push(`${path}: ${(error as Error).message}`);
      return undefined;
    }
  };
  // Pairs as the run forms them: every two readable images, or each content across systems.
  const pairs: [PlannedImage, PlannedImage][] = [];
  let itemCount: number;
  if ('items' in input.target) {
    const collected = await collectInputs([input.target.items]);
    inputErrors.push(...collected.errors.map((e) => e.message));
    itemCount = collected.files.length;
    const images = (await Promise.all(collected.files.map((f) => plan(f.path)))).filter((i): i is PlannedImage => i !== undefined);
    for (let i = 0; i < images.length; i++) for (let j = i + 1; j < images.length; j++) pairs.push([images[i] as PlannedImage, images[j] as PlannedImage]);
  } else {
    const systems = input.target.systems;
    const matched = await matchFolders(systems, 2);
    inputErrors.push(...matched.errors.map((e) => e.message));
    itemCount = matched.names.length;
    for (const key of matched.keys) {
      const sides = await Promise.all(systems.map((_, s) => (matched.paths[s]?.has(key) ? plan(matched.paths[s]?.get(key) as string) : undefined)));
      for (let a = 0; a < systems.length; a++) {
        for (let b = a + 1; b < systems.length; b++) {
          const x = sides[a];
          const y = sides[b];
          if (x && y) pairs.push([x, y]);
        }
      }
    }
  }
  const all = pairs.length * 2;
  const budget = Math.min(all, input.budget ?? (input.strategy === 'active' ? activeBudget(itemCount) : all));
  const perOrder = settings.template.kind === 'levels' ? 1 : settings.samples;
  const tally = new Tally(input);
  const everyPair = budget >= all && input.strategy !== 'active';
  if (everyPair) for (const [a, b] of pairs) for (const [first, second] of [[a, b], [b, a]] as const) addPair(tally, provider, settings, first, second);
  const judged = tally.result({
    method: `pair-${settings.template.kind}`,
    prompt: settings.template.id,
    items: everyPair ? all : budget,
    samplesPerItem: perOrder,
    probes: input.probes,
    upperBound: !everyPair,
  });
  if (!everyPair) {
    // Pairs are chosen during the run: the ceiling assumes none cached, each order one request group.
    const [a, b] = pairs[0] ?? [];
    let request: CompletionRequest | undefined;
    if (a && b) request = pairRequest(provider, settings, { first: a.part, second: b.part }).request;
    const requestsPerOrder = Math.ceil(perOrder / judged.choicesPerRequest);
    const inputTokens = request ? budget * requestsPerOrder * estimateInputTokens(request.messages) : 0;
    const outputTokens = request ? budget * perOrder * request.maxTokens : 0;
    Object.assign(judged, {
      samples: budget * perOrder,
      cached: 0,
      requests: budget * requestsPerOrder + input.probes,
      inputTokens: Math.round(inputTokens),
      outputTokensAtMost: outputTokens,
      ...costs(input.provider.id, input.price, inputTokens, outputTokens),
    });
    notes.push(
      `${input.strategy} chooses pairs as the run goes: at most ${budget} of ${all} orders${input.strategy === 'active' ? ' (it stops early once the order is settled)' : ''}; samples already stored are not subtracted`,
    );
  }
  return { command: 'rank', dryRun: true, judges: [judged], inputErrors, notes };
}
