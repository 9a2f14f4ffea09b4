/**
 * GBNF grammars built from a request's answer format, so a local model can only write
 * answers the parser accepts: a JSON document valid under (a bounded subset of) the
 * response schema, or `<think>...</think><answer>...</answer>` with a score in range or
 * one of the allowed words. Both engines run llama.cpp's grammar sampler on the text.
 *
 * Termination is guaranteed by construction: every string, array and thinking span has
 * a length cap, so the grammar's longest output is finite. Caps are sized so the answer
 * fits the caller's `maxTokens` counting one token per character (real tokens carry
 * several); the engine's hard token limit is the grammar's longest output in BYTES
 * (every token emits at least one byte), so a constrained answer is never cut off.
 * One free-text span holds at most `MAX_REPETITION` (1999) characters, llama.cpp's limit.
 */
import type { CompletionRequest } from '../../../core/provider.js';

/** A grammar and the generation limit that lets any of its outputs finish. */
export interface GrammarPlan {
  gbnf: string;
  /** Hard token limit for the engine: the grammar's longest output in bytes, plus the end token. */
  maxTokens: number;
  /** The caps chosen to fit the budget (for the record). */
  caps: { stringChars: number; arrayItems: number; thinkChars?: number };
}

type Node =
  | { k: 'lit'; s: string }
  | { k: 'str'; min: number; max: number | undefined }
  | { k: 'think'; max: number }
  | { k: 'seq'; xs: Node[] }
  | { k: 'alt'; xs: Node[] }
  | { k: 'opt'; x: Node }
  | { k: 'list'; item: Node; min: number; max: number | undefined }
  | { k: 'raw'; gbnf: string; chars: number };

const lit = (s: string): Node => ({ k: 'lit', s });
const seq = (...xs: Node[]): Node => ({ k: 'seq', xs });
const alt = (xs: Node[]): Node => (xs.length === 1 ? xs[0]! : { k: 'alt', xs });
const opt = (x: Node): Node => ({ k: 'opt', x });
const SPACE = opt(lit(' '));

/** llama.cpp refuses grammars with a repetition count of 2000 or more (`{0,2000}`). */
export const MAX_REPETITION = 1999;
/** Default item cap of arrays without `maxItems`. */
const ARRAY_CAP = 8;
/** Widest UTF-8 character, in bytes (a JSON escape is 2). */
const MAX_CHAR_BYTES = 4;
/** At most this many alternatives when a numeric range is spelt out value by value. */
const MAX_ENUMERATED = 2000;

interface Caps {
  str: number;
  arr: number;
}

/** Longest output of a node: in characters (`unit` 1) or bytes (`unit` 4 per free character). */
function longest(n: Node, caps: Caps, unit: number): number {
  switch (n.k) {
    case 'lit':
      return Buffer.byteLength(n.s);
    case 'str':
      return 2 + strMax(n, caps) * unit;
    case 'think':
      return n.max * unit;
    case 'seq':
      return n.xs.reduce((a, x) => a + longest(x, caps, unit), 0);
    case 'alt':
      return Math.max(0, ...n.xs.map((x) => longest(x, caps, unit)));
    case 'opt':
      return longest(n.x, caps, unit);
    case 'list': {
      const items = listMax(n, caps);
      return 2 + items * longest(n.item, caps, unit) + Math.max(0, items - 1) * 2;
    }
    case 'raw':
      return n.chars;
  }
}

const strMax = (n: { min: number; max: number | undefined }, caps: Caps): number =>
  Math.min(MAX_REPETITION, Math.max(n.min, Math.min(n.max ?? Infinity, caps.str)));
const listMax = (n: { min: number; max: number | undefined }, caps: Caps): number =>
  Math.min(MAX_REPETITION, Math.max(n.min, Math.min(n.max ?? ARRAY_CAP, caps.arr)));

/** GBNF string literal. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const rep = (item: string, min: number, max: number): string => (max <= 0 ? '' : `${item}{${min},${max}}`);

function render(n: Node, caps: Caps): string {
  switch (n.k) {
    case 'lit':
      return quote(n.s);
    case 'str': {
      const max = strMax(n, caps);
      return max === 0 ? '"\\"\\""' : `"\\"" ${rep('char', Math.min(n.min, max), max)} "\\""`;
    }
    case 'think':
      return n.max === 0 ? '""' : rep('[^<]', 0, n.max);
    case 'seq':
      return n.xs.map((x) => render(x, caps)).filter((s) => s !== '' && s !== '""').join(' ') || '""';
    case 'alt':
      return `(${n.xs.map((x) => render(x, caps)).join(' | ')})`;
    case 'opt':
      return `(${render(n.x, caps)})?`;
    case 'list': {
      const max = listMax(n, caps);
      if (max === 0) return '"[]"';
      const item = render(n.item, caps);
      const more = max > 1 ? ` ("," " "? ${item}){${Math.max(0, n.min - 1)},${max - 1}}` : '';
      const body = `${item}${more}`;
      return n.min > 0 ? `"[" ${body} "]"` : `"[" (${body})? "]"`;
    }
    case 'raw':
      return n.gbnf;
  }
}

const RULES = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt]';

// ---------------------------------------------------------------------------------------
// Numbers

const GENERIC_NUMBER: Node = { k: 'raw', gbnf: '("-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,6})?)', chars: 24 };
const GENERIC_INTEGER: Node = { k: 'raw', gbnf: '("-"? ("0" | [1-9] [0-9]{0,15}))', chars: 17 };
const NON_NEGATIVE_INTEGER: Node = { k: 'raw', gbnf: '("0" | [1-9] [0-9]{0,15})', chars: 16 };

function formatNumber(v: number, decimals: number): string {
  return String(Number(v.toFixed(decimals)));
}

/**
 * Numbers in [min, max] written with at most `decimals` decimals. Non-negative integer
 * bounds get a compact form (`[1-4]` then an optional fraction, or `5` with zeros);
 * other bounded ranges are spelt out when short enough; otherwise any number.
 */
export function numberInRange(min: number, max: number, decimals = 2, integer = false): Node {
  if (!(Number.isFinite(min) && Number.isFinite(max)) || min > max) return integer ? GENERIC_INTEGER : GENERIC_NUMBER;
  if (integer) {
    const lo = Math.ceil(min);
    const hi = Math.floor(max);
    if (hi - lo + 1 > MAX_ENUMERATED) return lo >= 0 ? NON_NEGATIVE_INTEGER : GENERIC_INTEGER;
    const xs: Node[] = [];
    for (let v = lo; v <= hi; v++) xs.push(lit(String(v)));
    return alt(xs);
  }
  if (Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max - min <= MAX_ENUMERATED) {
    const whole: Node[] = [];
    for (let v = min; v < max; v++) whole.push(lit(String(v)));
    const fraction = decimals > 0 ? `("." ${rep('[0-9]', 1, decimals)})?` : '';
    const zeros = decimals > 0 ? `("." ${rep('"0"', 1, decimals)})?` : '';
    const tail: Node[] = [];
    if (whole.length > 0) tail.push(seq(alt(whole), { k: 'raw', gbnf: fraction, chars: decimals + 1 }));
    tail.push(seq(lit(String(max)), { k: 'raw', gbnf: zeros, chars: decimals + 1 }));
    return alt(tail);
  }
  const step = 10 ** -decimals;
  const count = Math.floor((max - min) / step + 1e-9) + 1;
  if (count > MAX_ENUMERATED) return GENERIC_NUMBER;
  const xs: Node[] = [];
  const start = Math.ceil(min / step - 1e-9);
  for (let i = 0; i < count; i++) {
    const v = (start + i) * step;
    if (v <= max + 1e-12) xs.push(lit(formatNumber(v, decimals)));
  }
  return xs.length > 0 ? alt(xs) : GENERIC_NUMBER;
}

// ---------------------------------------------------------------------------------------
// JSON schema

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

const SCALAR: Node = alt([{ k: 'str', min: 0, max: undefined }, GENERIC_NUMBER, lit('true'), lit('false'), lit('null')]);

function resolveRef(root: Schema, ref: string): Schema | undefined {
  if (ref === '#') return root;
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!m) return undefined;
  const defs = root[m[1]!];
  const def = isSchema(defs) ? defs[decodeURIComponent(m[2]!.replace(/~1/g, '/').replace(/~0/g, '~'))] : undefined;
  return isSchema(def) ? def : undefined;
}

function schemaNode(s: unknown, root: Schema, depth: number): Node {
  if (s === true || s === undefined) return SCALAR;
  if (!isSchema(s) || depth > 16) return SCALAR; // recursion or nonsense: any scalar is still JSON
  if (typeof s.$ref === 'string') {
    const target = resolveRef(root, s.$ref);
    return target ? schemaNode(target, root, depth + 1) : SCALAR;
  }
  if ('const' in s) return lit(JSON.stringify(s.const));
  if (Array.isArray(s.enum) && s.enum.length > 0) return alt(s.enum.map((v) => lit(JSON.stringify(v))));
  const variants = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as unknown[] | undefined;
  if (variants && variants.length > 0) return alt(variants.map((v) => schemaNode(v, root, depth + 1)));
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return schemaNode(s.allOf[0], root, depth + 1);
  if (Array.isArray(s.type)) return alt(s.type.map((t) => schemaNode({ ...s, type: t }, root, depth + 1)));
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  switch (s.type) {
    case 'string':
      return { k: 'str', min: Math.max(0, num(s.minLength) ?? 0), max: num(s.maxLength) };
    case 'boolean':
      return alt([lit('true'), lit('false')]);
    case 'null':
      return lit('null');
    case 'integer':
    case 'number': {
      const integer = s.type === 'integer';
      const step = integer ? 1 : 0.01;
      const lo = num(s.minimum) ?? (num(s.exclusiveMinimum) !== undefined ? num(s.exclusiveMinimum)! + step : undefined);
      const hi = num(s.maximum) ?? (num(s.exclusiveMaximum) !== undefined ? num(s.exclusiveMaximum)! - step : undefined);
      if (lo !== undefined && hi !== undefined) return numberInRange(lo, hi, 2, integer);
      if (integer && lo !== undefined && lo >= 0) return NON_NEGATIVE_INTEGER;
      return integer ? GENERIC_INTEGER : GENERIC_NUMBER;
    }
    case 'array': {
      const item = isSchema(s.items) ? schemaNode(s.items, root, depth + 1) : SCALAR;
      return { k: 'list', item, min: Math.max(0, num(s.minItems) ?? 0), max: num(s.maxItems) };
    }
    case 'object':
      return objectNode(s, root, depth);
    default:
      if (isSchema(s.properties)) return objectNode(s, root, depth);
      return SCALAR;
  }
}

/**
 * Properties in declared order, required ones always written, optional ones each
 * optional after them. Unknown properties are never written (valid under any
 * `additionalProperties`).
 */
function objectNode(s: Schema, root: Schema, depth: number): Node {
  const props = isSchema(s.properties) ? s.properties : {};
  const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
  const names = Object.keys(props);
  const member = (name: string): Node => seq(lit(`${JSON.stringify(name)}:`), SPACE, schemaNode(props[name], root, depth + 1));
  const req = names.filter((n) => required.has(n));
  const optional = names.filter((n) => !required.has(n));
  if (req.length === 0 && optional.length === 0) return lit('{}');
  const parts: Node[] = [lit('{')];
  if (req.length > 0) {
    req.forEach((n, i) => parts.push(...(i > 0 ? [lit(','), SPACE] : []), member(n)));
    for (const n of optional) parts.push(opt(seq(lit(','), SPACE, member(n))));
  } else {
    // No required member: the optional ones form a chain that may stop anywhere.
    let chain: Node | undefined;
    for (const n of [...optional].reverse()) chain = chain ? seq(member(n), opt(seq(lit(','), SPACE, chain))) : member(n);
    parts.push(opt(chain!));
  }
  parts.push(lit('}'));
  return seq(...parts);
}

/** Strings get at least this many characters before arrays get their default item count. */
const MIN_STRING_CHARS = 48;

/**
 * Caps under which the longest output (in characters) fits the budget: the most array
 * items (up to 8) that still leave every free string `MIN_STRING_CHARS`, then the
 * longest strings that fit.
 */
function fitCaps(root: Node, budget: number): Caps {
  const longestString = (arr: number): number => {
    let lo = 0;
    let hi = Math.max(0, budget);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (longest(root, { str: mid, arr }, 1) <= budget) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  for (let arr = ARRAY_CAP; arr > 0; arr--) {
    const str = longestString(arr);
    if (str >= MIN_STRING_CHARS) return { str, arr };
  }
  return { str: longestString(0), arr: 0 };
}

/**
 * A grammar for JSON answers under `schema`, sized for `budget` tokens.
 *
 * Supported: objects (`properties`, `required`), strings (`minLength`, `maxLength`),
 * numbers and integers with bounds (written with at most two decimals), booleans,
 * null, arrays (`items`, `minItems`, `maxItems`), `enum`, `const`, `anyOf`/`oneOf`,
 * type lists, local `$ref`. Other keywords (`pattern`, `format`, ...) are not enforced:
 * the answer is still JSON, and the parser has the last word.
 *
 * @example
 * jsonSchemaGrammar({ type: 'object', properties: { score: { type: 'number', minimum: 1, maximum: 5 } }, required: ['score'] }, 64).gbnf;
 */
export function jsonSchemaGrammar(schema: Record<string, unknown>, budget: number): GrammarPlan {
  const root = schemaNode(schema, schema, 0);
  const caps = fitCaps(root, budget);
  return {
    gbnf: `root ::= ${render(root, caps)}\n${RULES}\n`,
    maxTokens: longest(root, caps, MAX_CHAR_BYTES) + 1,
    caps: { stringChars: caps.str, arrayItems: caps.arr },
  };
}

export interface ThinkAnswerShape {
  maxThinkChars: number;
  /** Words allowed in `<answer>` (comparisons); otherwise a number in `range`. */
  choices?: readonly string[] | undefined;
  /** @default [1, 5] */
  range?: readonly [number, number] | undefined;
}

/**
 * `<think>` reasoning (no `<`; at most `maxThinkChars`, what the budget leaves, and
 * `MAX_REPETITION` characters), then
 * `<answer>` with a number in range (at most two decimals) or one of the choices.
 *
 * @example
 * thinkAnswerGrammar({ maxThinkChars: 500 }, 256).gbnf;
 */
export function thinkAnswerGrammar(shape: ThinkAnswerShape, budget: number): GrammarPlan {
  const [lo, hi] = shape.range ?? [1, 5];
  const answer = shape.choices && shape.choices.length > 0 ? alt(shape.choices.map(lit)) : numberInRange(lo, hi, 2);
  const ws: Node = { k: 'raw', gbnf: '[ \\n]?', chars: 1 };
  const build = (think: number): Node => seq(lit('<think>'), { k: 'think', max: think }, lit('</think>'), ws, lit('<answer>'), answer, lit('</answer>'));
  const fixed = longest(build(0), { str: 0, arr: 0 }, 1);
  const think = Math.max(0, Math.min(Math.floor(shape.maxThinkChars), budget - fixed, MAX_REPETITION));
  const root = build(think);
  const caps = { str: 0, arr: 0 };
  return {
    gbnf: `root ::= ${render(root, caps)}\n`,
    maxTokens: longest(root, caps, MAX_CHAR_BYTES) + 1,
    caps: { stringChars: 0, arrayItems: 0, thinkChars: think },
  };
}

/** The grammar a request's answer format calls for, or `undefined` for free text. */
export function grammarForRequest(request: Pick<CompletionRequest, 'responseSchema' | 'answerShape' | 'maxTokens'>): GrammarPlan | undefined {
  const budget = Math.max(1, request.maxTokens - 1);
  if (request.responseSchema) return jsonSchemaGrammar(request.responseSchema.schema, budget);
  if (request.answerShape?.kind === 'think-answer') return thinkAnswerGrammar(request.answerShape, budget);
  return undefined;
}
