import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatDuration, Progress } from '../../src/cli/progress.js';

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  Object.assign(stream, { isTTY });
  return { stream, text: () => text };
}

describe('progress on stderr', () => {
  it('writes plain lines when stderr is not a terminal, and a final line with done/total, cache, failures and cost', () => {
    const out = capture(false);
    const p = new Progress('score', { stream: out.stream, intervalMs: 0 });
    p.setTotal(10);
    p.unplan(2); // a bad file: its calls will not happen
    p.cached(3);
    p.calls(4, 1, 0.0123);
    p.done();
    const lines = out.text().trim().split('\n');
    expect(lines.every((l) => !l.includes('\r') && !l.includes('\x1b'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^score 8\/8 calls · 3 cached · [\d.]+\/s · 1 failed · \$0\.0123$/);
  });

  it('rewrites one line in place on a terminal', () => {
    const out = capture(true);
    const p = new Progress('rank', { stream: out.stream });
    p.setTotal(4);
    p.calls(1, 0, 0);
    p.done();
    expect(out.text()).toMatch(/^\r\x1b\[2Krank 1\/4 calls/);
    expect(out.text().endsWith('\n')).toBe(true);
  });

  it('prints nothing when quiet', () => {
    const out = capture(false);
    const p = new Progress('score', { stream: out.stream, quiet: true });
    p.setTotal(2);
    p.calls(2, 0, 0);
    p.done();
    expect(out.text()).toBe('');
  });

  it('formats an ETA', () => {
    expect(formatDuration(12.2)).toBe('13s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(7300)).toBe('2h01m');
  });
});
