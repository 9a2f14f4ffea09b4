/**
 * Test judge servers: real HTTP servers on 127.0.0.1 that speak the OpenAI
 * chat-completions and the Anthropic messages wire formats, so provider adapters are
 * tested with the real SDKs. Behind both sits a simulated judge that decodes the images
 * it receives (sharp), reads their true quality from the pixels, and answers with seeded
 * noise. They can be told to misbehave.
 *
 * @example
 * import { startOpenAIServer } from '../support/judge-server/index.js';
 * import { makeTestImage } from '../support/test-images.js';
 *
 * const server = await startOpenAIServer({ apiKey: 'sk-test', seed: 1 });
 * const client = new OpenAI({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
 * const png = (await makeTestImage({ quality: 4 })).toString('base64');
 * const res = await client.chat.completions.create({
 *   model: 'sim', temperature: 1, n: 6,
 *   messages: [{ role: 'user', content: [
 *     { type: 'text', text: 'Think in <think></think>, then one number 1-5 in <answer></answer>.' },
 *     { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
 *   ] }],
 * });                       // six choices like "<think>...</think>\n<answer>4.12</answer>"
 * server.failNext({ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'drop' });
 * server.calls; server.faults; server.requests; // counters and the request log
 * await server.close();
 *
 * SERVERS  `startOpenAIServer(options)` / `startAnthropicServer(options)` -> `JudgeServer`:
 *   `url` (SDK baseURL), `port`, `apiKey`, `calls` (completion requests answered 2xx,
 *   content faults and `slow` included), `faults` (completion requests a fault was
 *   applied to), `requests` (every request: parsed body, headers, fault, task, images with
 *   the quality used, status, request id), `queuedFaults`, `resetCounts()`,
 *   `failNext(...faults)`, `clearFaults()`, `setOptions(partial)`, `close()`.
 *   Options (`JudgeServerOptions`): `apiKey`, `port` (0), `seed` (0), `noiseSd` (0.25),
 *   `latencyMs` (0), `firstSlotBias` (0), `levelCoverage` (0.97), `levelSpread` (0.6),
 *   `levelJitter` (0.05), `scoreOffset` (0) and `scoreStretch` (1) (a judge's own use of the scale), `qualityOf` (plant true qualities), `maxChoices` (16),
 *   `models` (any), `faultRate` (0) with `faultKinds` ([500]), `choicesMode` ('honour';
 *   'ignore-n' answers one choice whatever `n`, 'reject-n' answers n > 1 with HTTP 500 as
 *   llama-server does), `logprobs` (true; false returns none, as servers without them).
 *
 * TASKS  decided from the request (see simulated-judge.ts for the exact order):
 *   structured (json_schema / forced tool / json_object) -> `{score, distortions,
 *   reasoning}` for one image, `{verdict, reasoning}` for a pair; `<answer>` in the
 *   prompt -> `<think>..</think>\n<answer>3.42</answer>` (a pair: a comparative word);
 *   OpenAI `logprobs: true` -> a level word whose top_logprobs hold the level
 *   distribution; prompt mentions JSON -> a fenced ```json block; else prose.
 *   A pair is two judged images (labels "Image A"/"Image B" in the text part right before
 *   each image; a third labelled "Reference" is set aside); levels then describe Image B
 *   relative to Image A: inferior, worse, similar, better, superior.
 *
 * TRUTH  the default true quality is `measureQuality` of the decoded pixels (coarse-scale
 *   noise, see quality.ts), cached by the sha256 of the bytes; `makeTestImage({quality})`
 *   makes images that read back within +-0.15, also after JPEG q90. `qualityOf(image)`
 *   replaces it per server (`image.sha256` is of the bytes as received: if the code under
 *   test re-encodes, key on something else, e.g. `image.measured` or the size).
 *
 * NOISE  one sampled judgement perceives quality + N(0, noiseSd); a pair's Image A also
 *   gets `firstSlotBias`, so P(B judged better) = Phi((qB - qA - bias) / (sqrt(2) noiseSd)).
 *   Deterministic: every draw is keyed by (server seed, request content, draw, choice),
 *   where draw = the request's `seed` parameter if given, else the occurrence number of
 *   that exact request on this server (so the k-th identical request answers the same in
 *   every run, whatever the arrival order of different requests); temperature 0 gives
 *   one greedy draw for every choice and repeat. Log-probabilities depend only on
 *   (server seed, request content). `faultRate` draws depend on arrival order.
 *
 * USAGE  deterministic token estimates: text ceil(chars / 4) over system, messages and
 *   prefill (tool and schema definitions not counted); images: OpenAI 85 + 170 per
 *   512px tile (85 with detail 'low'), Anthropic ceil(w * h / 750); output: simulated
 *   tokens (words with their leading space, single digits, punctuation) over all choices.
 *
 * FAULTS  see `Fault` in server.ts: status (with retry-after / retry-after-ms), drop, slow,
 *   invalid-json, missing-tags, out-of-range, text, say (the answer text is exactly the
 *   given text: `{ kind: 'say', text: '<b>hi</b>' }`), and the transport faults cut-body (200,
 *   connection dropped mid-body), not-json (200, an HTML page), no-choices (200, JSON
 *   without `choices` / `content`). Faults are taken by completion
 *   requests that passed authentication, one each, in arrival order.
 *
 * BATCHES  both servers take batches (batches.ts): OpenAI `POST /v1/files` (multipart,
 *   purpose batch), `POST /v1/batches`, `GET /v1/batches/{id}`, `GET /v1/files/{id}/content`
 *   (output and error files); Anthropic `POST /v1/messages/batches`, `GET .../{id}`,
 *   `GET .../{id}/results` (JSONL). Each request is answered by the judge above when the
 *   batch ends: after `batch.pollsBeforeEnd` status checks (0; Infinity holds it until
 *   `setOptions` changes it). `batch.outcome(customId, index)` makes a request fail
 *   (`errored`) or never run (`expired`, `canceled`). `faultRate` draws what the model says
 *   for batch requests too (`say` and the content faults; queued faults and transport
 *   faults never reach a batch). `server.batches` counts batches created and requests
 *   answered; batch requests are not in `calls`.
 */
export { startOpenAIServer, openaiProtocol } from '../../../src/demo/judge-server/openai.js';
export { startAnthropicServer, anthropicProtocol } from './anthropic.js';
export { startJudgeServer, textTokens, sniffMediaType, HttpError } from '../../../src/demo/judge-server/server.js';
export type { Fault, JudgeServer, JudgeServerOptions, RecordedRequest, RecordedImage, WireProtocol } from '../../../src/demo/judge-server/server.js';
export type { BatchServerOptions } from '../../../src/demo/judge-server/batches.js';
export { measureQuality, roughness, qualityFromRoughness, roughnessForQuality, decodeImage } from '../../../src/demo/judge-server/quality.js';
export type { DecodedImage } from '../../../src/demo/judge-server/quality.js';
export {
  answer,
  decideTask,
  contentKey,
  drawKey,
  levelDistribution,
  levelProbabilities,
  levelWord,
  comparativeWord,
  tokenize,
  LEVELS,
  LEVEL_WEIGHTS,
  COMPARATIVE_LEVELS,
  COMPARATIVE_WEIGHTS,
  DEFAULT_JUDGE_OPTIONS,
} from '../../../src/demo/judge-server/simulated-judge.js';
export type { JudgeOptions, JudgeRequest, JudgeImage, JudgeAnswer, JudgeChoice, SimToken, Task, TaskKind, ContentFault } from '../../../src/demo/judge-server/simulated-judge.js';
export { createRng, normalCdf } from '../../../src/demo/judge-server/random.js';
