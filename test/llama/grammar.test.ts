import { describe, expect, it } from 'vitest';
import { grammarForRequest, jsonSchemaGrammar, thinkAnswerGrammar } from '../../src/judges/providers/llama/index.js';
import { qualityReportJsonSchema } from './fixtures.js';

describe('answer grammars', () => {
  it('bounds a 1..5 score to integers or two decimals, 5 only with zeros', () => {
    const { gbnf } = thinkAnswerGrammar({ maxThinkChars: 10 }, 100);
    expect(gbnf).toContain('("1" | "2" | "3" | "4") ("." [0-9]{1,2})?');
    expect(gbnf).toContain('"5" ("." "0"{1,2})?');
    expect(gbnf).toMatch(/"<think>" \[\^<\]\{0,10\} "<\/think>"/);
  });

  it('offers only the given words for a comparison answer', () => {
    const { gbnf } = thinkAnswerGrammar({ maxThinkChars: 10, choices: ['A', 'B', 'same'] }, 100);
    expect(gbnf).toContain('"<answer>" ("A" | "B" | "same") "</answer>"');
  });

  it('spells out short non-integer ranges', () => {
    const { gbnf } = jsonSchemaGrammar({ type: 'number', minimum: 0.5, maximum: 0.53 }, 50);
    expect(gbnf).toContain('("0.5" | "0.51" | "0.52" | "0.53")');
  });

  it('shortens thinking to what the token budget leaves', () => {
    const plan = thinkAnswerGrammar({ maxThinkChars: 1500 }, 100);
    expect(plan.caps.thinkChars).toBeLessThan(100);
    expect(plan.caps.thinkChars).toBeGreaterThan(50);
    // The hard limit lets the longest possible answer finish, byte by byte.
    expect(plan.maxTokens).toBeGreaterThan(4 * plan.caps.thinkChars!);
  });

  it('caps free strings and arrays so the JSON answer fits the budget', () => {
    const small = jsonSchemaGrammar(qualityReportJsonSchema, 120);
    const large = jsonSchemaGrammar(qualityReportJsonSchema, 1000);
    expect(small.caps.stringChars).toBeLessThan(large.caps.stringChars);
    expect(large.caps.arrayItems).toBe(8);
    expect(large.gbnf).toContain('"\\"reasoning\\":"');
    expect(large.gbnf).toContain('("\\"minor\\"" | "\\"moderate\\"" | "\\"severe\\"")');
    // Declared bounds survive: the distortion type is 1 to 20 characters.
    expect(large.gbnf).toContain('char{1,20}');
  });

  it('picks the grammar from the request', () => {
    expect(grammarForRequest({ maxTokens: 50 })).toBeUndefined();
    expect(grammarForRequest({ maxTokens: 50, answerShape: { kind: 'think-answer', maxThinkChars: 20 } })?.gbnf).toContain('<answer>');
    expect(grammarForRequest({ maxTokens: 50, responseSchema: { name: 'x', schema: { type: 'boolean' } } })?.gbnf).toBe('root ::= ("true" | "false")\nchar ::= [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt]\n');
  });
});
