/**
 * Reading judge answers: a sampled score from `<answer>` (strict, then lenient), and a
 * level distribution from log-probabilities (after a prefilled prefix or after the prefix
 * the judge wrote itself). An answer that cannot be read is an error value, never a score.
 */
import { describe, expect, it } from 'vitest';
import type { TokenLogprob } from '../../src/core/provider.js';
import { levelOfToken, levelsFromLogprobs, parseSampleAnswer } from '../../src/prompts/answers.js';
import { qualityLevels } from '../../src/prompts/builtin.js';

describe('parseSampleAnswer', () => {
  it('reads the number in <answer> and the reasoning in <think>', () => {
    expect(parseSampleAnswer('<think>Some grain in the sky.</think>\n<answer>3.25</answer>')).toEqual({
      ok: true,
      value: { score: 3.25, reasoning: 'Some grain in the sky.', extraction: 'strict' },
    });
  });

  it('takes the LAST <answer> block: a judge that revises itself is read at its final word', () => {
    const raw = '<think>First I thought <answer>2</answer> but the edges are clean.</think>\n<answer>4.5</answer>';
    expect(parseSampleAnswer(raw)).toMatchObject({ ok: true, value: { score: 4.5, extraction: 'strict' } });
    expect(parseSampleAnswer('<answer>1.5</answer> ... <ANSWER> 2.75 </ANSWER>')).toMatchObject({ ok: true, value: { score: 2.75 } });
  });

  it('rejects a score outside the range instead of clamping it', () => {
    expect(parseSampleAnswer('<answer>7.5</answer>')).toEqual({ ok: false, error: 'score 7.5 is outside 1..5' });
    expect(parseSampleAnswer('<answer>0.99</answer>')).toEqual({ ok: false, error: 'score 0.99 is outside 1..5' });
    expect(parseSampleAnswer('<answer>-3</answer>')).toMatchObject({ ok: false });
    // The bounds themselves are in range, and another template's range is honoured.
    expect(parseSampleAnswer('<answer>5.00</answer>')).toMatchObject({ ok: true, value: { score: 5 } });
    expect(parseSampleAnswer('<answer>7.5</answer>', [0, 10])).toMatchObject({ ok: true, value: { score: 7.5 } });
  });

  it('an <answer> without a number, or no answer at all, is an error, never a score', () => {
    expect(parseSampleAnswer('<answer>good</answer>')).toEqual({ ok: false, error: '<answer> holds no number: `good`' });
    expect(parseSampleAnswer('I think the image is decent.')).toEqual({ ok: false, error: 'no <answer>...</answer> block with a score was found' });
    expect(parseSampleAnswer('')).toMatchObject({ ok: false });
    expect(parseSampleAnswer('The image is a 4 out of 5.')).toMatchObject({ ok: false });
  });

  it('leniently reads an unclosed final <answer> (a cut answer)', () => {
    expect(parseSampleAnswer('<think>ok</think><answer> 3.5')).toEqual({ ok: true, value: { score: 3.5, reasoning: 'ok', extraction: 'lenient' } });
    expect(parseSampleAnswer('<answer> 9')).toMatchObject({ ok: false, error: 'score 9 is outside 1..5' });
  });

  it('leniently reads JSON with a numeric score: bare, fenced, embedded, or a numeric string', () => {
    expect(parseSampleAnswer('{"score": 4, "reasoning": "sharp"}')).toEqual({ ok: true, value: { score: 4, reasoning: 'sharp', extraction: 'lenient' } });
    expect(parseSampleAnswer('Here you go:\n```json\n{"score": 2.5}\n```')).toMatchObject({ ok: true, value: { score: 2.5, extraction: 'lenient' } });
    expect(parseSampleAnswer('My verdict is {"score": "3.75", "why": "noise"} overall.')).toMatchObject({ ok: true, value: { score: 3.75 } });
    expect(parseSampleAnswer('{"score": 11}')).toEqual({ ok: false, error: 'score 11 is outside 1..5' });
    expect(parseSampleAnswer('{"score": "high"}')).toMatchObject({ ok: false });
    expect(parseSampleAnswer('{"quality": 3}')).toMatchObject({ ok: false });
    expect(parseSampleAnswer('{"score": 3.4, "distortions": [{"type": "noise", "severity": ')).toMatchObject({ ok: false });
  });
});

/** A generated token with its top alternatives (probabilities, not log-probabilities). */
function token(text: string, top: Record<string, number> = {}): TokenLogprob {
  const alternatives = Object.entries({ [text]: 0.999, ...top }).map(([t, p]) => ({ token: t, logprob: Math.log(p) }));
  return { token: text, logprob: alternatives.find((a) => a.token === text)!.logprob, top: alternatives };
}

const sentence = (level: string, top: Record<string, number>) => [
  token('The'),
  token(' quality'),
  token(' of'),
  token(' the'),
  token(' image'),
  token(' is'),
  token(level, top),
  token('.'),
];

describe('levelsFromLogprobs', () => {
  const levels = qualityLevels.levels!;

  it('prefilled: reads the first generated token, renormalises over the levels, reports coverage', () => {
    const r = levelsFromLogprobs([token(' good', { ' good': 0.5, ' fair': 0.3, ' very': 0.2 })], qualityLevels, true);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.position).toBe(0);
    expect(r.value.coverage).toBeCloseTo(0.8, 12);
    expect(r.value.probabilities.map((p) => +p.toFixed(6))).toEqual([0, 0.625, 0.375, 0, 0]);
  });

  it('prefilled: skips whitespace-only tokens before the level word', () => {
    const r = levelsFromLogprobs([token(' '), token('\n'), token('Poor', { Poor: 0.6, bad: 0.4 })], qualityLevels, true);
    expect(r).toMatchObject({ ok: true, value: { position: 2, coverage: expect.closeTo(1, 12) } });
    if (r.ok) expect(r.value.probabilities.map((p) => +p.toFixed(6))).toEqual([0, 0, 0, 0.6, 0.4]);
  });

  it('merges spellings of one level (case, leading space) before renormalising', () => {
    const r = levelsFromLogprobs(
      [token(' good', { ' good': 0.54, good: 0.036, ' Good': 0.024, ' excellent': 0.2, ' Excellent': 0.1, ' nice': 0.09 })],
      qualityLevels,
      true,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.coverage).toBeCloseTo(0.9, 12);
    expect(r.value.probabilities[0]).toBeCloseTo(0.3 / 0.9, 12);
    expect(r.value.probabilities[1]).toBeCloseTo(0.6 / 0.9, 12);
    expect(r.value.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('a token listed twice in the top list counts once', () => {
    const t: TokenLogprob = {
      token: ' fair',
      logprob: Math.log(0.5),
      top: [
        { token: ' fair', logprob: Math.log(0.5) },
        { token: ' fair', logprob: Math.log(0.5) },
        { token: ' poor', logprob: Math.log(0.25) },
      ],
    };
    const r = levelsFromLogprobs([t], qualityLevels, true);
    expect(r).toMatchObject({ ok: true, value: { coverage: expect.closeTo(0.75, 12) } });
  });

  it('not prefilled: finds the prefix the judge wrote and reads the token after it', () => {
    const r = levelsFromLogprobs(sentence(' excellent', { ' excellent': 0.7, ' good': 0.2 }), qualityLevels, false);
    expect(r).toMatchObject({ ok: true, value: { position: 6, coverage: expect.closeTo(0.9, 12) } });
    if (r.ok) expect(r.value.probabilities[0]).toBeCloseTo(0.7 / 0.9, 12);
    // Prefix case and spacing do not matter.
    const shouted = [token('THE'), token(' QUALITY'), token('  of'), token(' the'), token(' image'), token(' is'), token(' bad', { ' bad': 0.9 })];
    expect(levelsFromLogprobs(shouted, qualityLevels, false)).toMatchObject({ ok: true, value: { position: 6 } });
  });

  it('not prefilled: an answer without the prefix is an error, not a guess', () => {
    const r = levelsFromLogprobs([token('I'), token(' like'), token(' it', { ' good': 0.3 })], qualityLevels, false);
    expect(r).toEqual({ ok: false, error: 'the answer did not contain the prefix "The quality of the image is"' });
  });

  it('no level word among the alternatives, or no token at all, is an error', () => {
    expect(levelsFromLogprobs([token(' nice', { ' decent': 0.3 })], qualityLevels, true)).toEqual({
      ok: false,
      error: 'none of the level words appeared among the returned log-probabilities',
    });
    expect(levelsFromLogprobs([], qualityLevels, true)).toEqual({ ok: false, error: 'the answer ended before a level word' });
    expect(levelsFromLogprobs(sentence(' good', {}).slice(0, 6), qualityLevels, false)).toEqual({ ok: false, error: 'the answer ended before a level word' });
  });

  it('levelOfToken: case, spaces and trailing punctuation ignored; unique prefixes of two letters or more', () => {
    expect([' Good', 'good.', ' EXCELLENT', 'exc', 'po', 'p', ' b', 'ba', 'fairly', 'g'].map((t) => levelOfToken(t, levels))).toEqual([
      1, 1, 0, 0, 3, -1, -1, 4, -1, -1,
    ]);
  });
});
