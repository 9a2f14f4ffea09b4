import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
    expect(lines.at(-1)).toMatch(/^score 8\/8 calls · 3 cached · [\d.]+\/s · \d+s elapsed · 1 failed · \$0\.0123$/);
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
    expect(formatDuration(119.5)).toBe('2m00s');
    expect(formatDuration(7300)).toBe('2h01m');
  });
});

describe('a line that keeps moving while no call completes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('redraws the elapsed time every second on a terminal, with no event at all', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const out = capture(true);
    const p = new Progress('score', { stream: out.stream });
    p.setTotal(10);
    p.calls(1, 0, 0);
    vi.advanceTimersByTime(65_000);
    const frames = out.text().split('\r\x1b[2K').filter(Boolean);
    expect(frames.at(-1)).toMatch(/^score 1\/10 calls · [\d.]+\/s · ETA \S+ · 1m05s elapsed$/);
    expect(frames.length).toBeGreaterThanOrEqual(60);
    p.done();
    // done() stops the timer: nothing is drawn after the final line.
    const after = out.text();
    vi.advanceTimersByTime(10_000);
    expect(out.text()).toBe(after);
  });

  it('writes a plain line every interval in a log, and says what the run waits for', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const out = capture(false);
    const p = new Progress('score', { stream: out.stream, intervalMs: 5000 });
    p.setTotal(3);
    p.calls(1, 0, 0);
    p.waiting('waiting for rate limit (--rpm 1)');
    vi.advanceTimersByTime(15_000);
    const lines = out.text().trim().split('\n');
    expect(lines[0]).toMatch(/^score 1\/3 calls · .* · waiting for rate limit \(--rpm 1\)$/);
    expect(lines.slice(1).map((l) => /(\d+)s elapsed/.exec(l)?.[1])).toEqual(['5', '10', '15']);
    p.waiting(undefined);
    p.done();
    expect(out.text().trim().split('\n').at(-1)).not.toMatch(/waiting/);
  });
});
