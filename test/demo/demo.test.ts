import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuorum, spawnQuorum, waitUntil } from '../support/cli.js';

/**
 * `quorum demo`: a new user with no key (the CLI child never gets OPENAI_API_KEY, see
 * cleanEnv) and no model scores generated images of known quality through the real
 * `score` path, and can keep the simulated judge running for their own commands.
 */
describe('quorum demo', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorum-demo-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes images of known quality, scores them with no key and prints the commands to try next', async () => {
    const folder = join(dir, 'try');
    const { code, stdout, stderr } = await runQuorum(['demo', folder], { cwd: dir });
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/OPENAI_API_KEY|\n\s+at /);

    const names = (await readdir(join(folder, 'images'))).sort();
    expect(names).toEqual(['quality-1.5.png', 'quality-2.2.png', 'quality-2.9.png', 'quality-3.6.png', 'quality-4.3.png', 'quality-4.9.png']);
    expect((await readdir(join(folder, 'system-a'))).sort()).toEqual((await readdir(join(folder, 'system-b'))).sort());
    expect(existsSync(join(folder, 'quorum.db'))).toBe(true);
    expect(existsSync(join(dir, 'quorum.db'))).toBe(false);

    // The score table: every image, scored close to the quality in its name.
    for (const name of names) {
      const truth = Number(/quality-([\d.]+)\.png/.exec(name)![1]);
      const row = stdout.split('\n').find((line) => line.includes(name));
      expect(row, name).toBeDefined();
      const score = Number(row!.trim().split(/\s+/)[1]);
      expect(Math.abs(score - truth), `${name}: ${row}`).toBeLessThan(0.5);
    }
    expect(stderr).toMatch(/6\/6 images scored/);
    expect(stdout).toContain(`quorum demo --serve --port 8765`);
    expect(stdout).toContain(`quorum score ${join(folder, 'images')} --judge openai:simulated --base-url http://127.0.0.1:8765/v1 --db ${join(folder, 'quorum.db')}`);
    expect(stdout).toContain(`quorum compare ${join(folder, 'system-a')} ${join(folder, 'system-b')} --judge openai:simulated`);
  });

  it('--serve keeps the judge running for the user\'s own score and compare commands, and Ctrl-C stops it', async () => {
    const folder = join(dir, 'served');
    const server = spawnQuorum(['demo', '--serve', folder], { cwd: dir });
    try {
      // The URL (stdout) and the note (stderr) are two streams: wait for both.
      await waitUntil(() => server.stdout.includes('\n') && server.stderr.includes('Ctrl-C stops it'), { what: 'the base URL and the note' });
      const url = server.stdout.trim();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      expect(server.stderr).toContain(`--judge openai:simulated --base-url ${url}`);

      const scored = await runQuorum(
        ['score', join(folder, 'images'), '--judge', 'openai:simulated', '--base-url', url, '--method', 'sample', '--samples', '3', '--format', 'json', '--quiet'],
        { cwd: dir },
      );
      expect(scored.code, scored.stderr).toBe(0);
      const results = JSON.parse(scored.stdout) as { path: string; score: number; samples: number[] }[];
      expect(results).toHaveLength(6);
      for (const r of results) {
        expect(r.samples).toHaveLength(3);
        expect(Math.abs(r.score - Number(/quality-([\d.]+)\.png/.exec(r.path)![1]))).toBeLessThan(0.6);
      }

      const compared = await runQuorum(
        ['compare', join(folder, 'system-a'), join(folder, 'system-b'), '--judge', 'openai:simulated', '--base-url', url, '--format', 'json', '--quiet'],
        { cwd: dir },
      );
      expect(compared.code, compared.stderr).toBe(0);
      const summary = JSON.parse(compared.stdout).summary as { winsA: number; winsB: number };
      expect(summary.winsB).toBeGreaterThan(summary.winsA);
    } finally {
      server.kill('SIGINT');
    }
    const end = await server.exited;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toMatch(/stopped after \d+ completion request/);
  });

  it('says in one line when the port is taken, and refuses bad usage with exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const busy = await runQuorum(['demo', '--serve', '--port', String(port)], { cwd: dir });
      expect(busy.code).toBe(1);
      expect(busy.stderr.trim()).toBe(`error: Port ${port} on 127.0.0.1 is in use (EADDRINUSE); choose another port`);
    } finally {
      blocker.close();
    }

    const two = await runQuorum(['demo', 'a', 'b'], { cwd: dir });
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('Give at most one folder for the demo images, got 2');
    const port70k = await runQuorum(['demo', '--port', '70000'], { cwd: dir });
    expect(port70k.code).toBe(2);
    expect(port70k.stderr).toContain('Expected `port` to be an integer in [0, 65535], got `70000`');

    const help = await runQuorum(['--help']);
    expect(help.stdout).toMatch(/\n\s+demo\s+Try Quorum with no key and no model/);
  });
});
