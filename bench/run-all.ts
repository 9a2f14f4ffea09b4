/**
 * Runs every bench in turn (each in its own process, so one's memory and JIT state do
 * not colour the next) and prints their figures. `npm run bench`, or one of them:
 * `npx tsx bench/<name>.ts`. See bench/README.md for what each measures and its targets.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benches = ['score', 'stats', 'rank', 'report', 'eval', 'llama'];
let failed = 0;
for (const name of benches) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file)) continue;
  console.log(`\n=== bench/${name}.ts ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
