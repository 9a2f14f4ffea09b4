import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { expect, it } from 'vitest';

it('serve.ts prints a base URL the SDK can use, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve.ts', '--openai', '--api-key', 'k', '--latency-ms', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [url] = (await once(lines, 'line')) as [string];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const client = new OpenAI({ baseURL: url, apiKey: 'k', maxRetries: 0 });
    expect((await client.models.list()).data[0]!.id).toBe('sim-judge');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
});

it('serve.ts exits with code 2 on bad usage', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve.ts', '--port', 'x', '--openai'], { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(2);
});
