// Preloaded into a bench's CLI child (NODE_OPTIONS=--import): on exit, writes the process's
// own CPU time (user and system, microseconds, from process.cpuUsage) to QUORUM_BENCH_CPU.
import { writeFileSync } from 'node:fs';

const file = process.env.QUORUM_BENCH_CPU;
if (file) process.once('exit', () => writeFileSync(file, JSON.stringify(process.cpuUsage())));
