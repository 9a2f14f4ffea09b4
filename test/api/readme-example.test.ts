import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanEnv, REPO_ROOT } from '../support/cli.js';

/**
 * The README's library example, run exactly as written: the code block after the
 * `executed by` marker is saved into a fresh project whose `node_modules/quorum` is this
 * package (built `dist/`, through package.json `exports`), and run with node.
 */
let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'quorum-readme-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(REPO_ROOT, join(project, 'node_modules', 'quorum'), 'dir');
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

async function readmeExample(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const match = /<!-- executed by test\/api\/readme-example\.test\.ts -->\n```js\n([\s\S]*?)\n```/.exec(readme);
  if (!match) throw new Error('README.md has no ```js block after the `executed by test/api/readme-example.test.ts` marker');
  return match[1]!;
}

it('the README library example runs against the built package and prints what it promises', async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'index.js'))) throw new Error('build first: npx tsc -p tsconfig.build.json');
  const code = await readmeExample();
  expect(code).toContain("from 'quorum'");
  await writeFile(join(project, 'example.mjs'), code);

  const { stdout } = await promisify(execFile)(process.execPath, ['example.mjs'], { cwd: project, env: cleanEnv(), timeout: 60_000 });
  const lines = stdout.trim().split('\n');

  // Six scored images, each close to the quality in its name.
  const scored = lines.filter((line) => line.startsWith('quorum-demo/images/'));
  expect(scored).toHaveLength(6);
  for (const line of scored) {
    const [path, value, , , status] = line.split(/\s+/);
    expect(status, line).toBe('ok');
    expect(Math.abs(Number(value) - Number(/quality-([\d.]+)\.png/.exec(path!)![1])), line).toBeLessThan(0.6);
  }
  expect(lines).toContain('B wins 4, A wins 0, ties 0');
  expect(lines.at(-1)).toBe('quality-4.9 > quality-4.3 > quality-3.6 > quality-2.9 > quality-2.2 > quality-1.5');
  expect(existsSync(join(project, 'quorum-demo', 'quorum.db'))).toBe(true);
});
