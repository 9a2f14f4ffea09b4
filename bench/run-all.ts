/**
 * Runs every bench in turn (each in its own process, so one's memory and JIT state do
 * not colour the next) and prints their figures. `npm run bench`, or one of them:
 * `npx tsx bench/<name>.ts`. See bench/README.md for what each measures and its targets.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// scale.ts at 200,000 calls: a million takes most of an hour on two shared cores (run it alone).
const benches: [string, ...string[]][] = [['score'], ['startup'], ['scale', '--calls', '200000'], ['stats'], ['rank'], ['report'], ['eval'], ['pool', '--slow', '4'], ['panels'], ['hallucination'], ['llama']];
let failed = 0;
for (const [name, ...args] of benches) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file)) continue;
  console.log(`\n=== bench/${name}.ts ${args.join(' ')} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
