/** `quorum doctor` on a machine without a GPU (this one): engines, CPU backend, models, key names only. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/doctor.js';
import { runQuorum } from '../support/cli.js';
import { tinyModels, type TinyModels } from '../llama/fixtures.js';

let m: TinyModels;
let root: string;
beforeAll(() => {
  m = tinyModels();
  root = mkdtempSync(join(tmpdir(), 'quorum-doctor-'));
});
afterAll(() => {
  m.cleanup();
  rmSync(root, { recursive: true, force: true });
});

const gpuMachine = existsSync('/proc/driver/nvidia/version');

describe.skipIf(gpuMachine)('quorum doctor without a GPU', () => {
  it('reports CPU backends, the missing default judge with its pull command, and key names without values', async () => {
    const models = join(root, 'empty');
    const r = await runQuorum(['doctor', '--format', 'json'], { env: { QUORUM_MODELS: models, OPENAI_API_KEY: 'sk-very-secret-value' }, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain('sk-very-secret-value');
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.engines.map((e) => [e.package, e.role, e.backend, e.error])).toEqual([
      ['@fugood/llama.node@1.7.15', 'images', 'CPU', undefined],
      ['node-llama-cpp@3.21.1', 'text', 'CPU', undefined],
    ]);
    expect(report.engines[0]!.llamaCppBuild).toMatch(/^b\d+/);
    expect(report.engines[0]!.devices.some((d) => d.type === 'cpu' && (d.totalBytes ?? 0) > 0)).toBe(true);
    expect(report.engines.every((e) => e.gpuBuilds.usable.length === 0)).toBe(true);
    expect(report.keys).toEqual([
      { name: 'OPENAI_API_KEY', set: true },
      { name: 'ANTHROPIC_API_KEY', set: false },
    ]);
    expect(report.models.catalogue.find((c) => c.default)).toMatchObject({ name: 'qwen2.5-vl-7b', present: false });
    expect(report.missing.map((x) => x.fix)).toContain('quorum pull qwen2.5-vl-7b (or --yes on the first quorum score)');
    expect(report.system.memoryBytes).toBeGreaterThan(0);
  }, 150_000);

  it('is ready (exit 0) once the default judge is on disk, and says so in text', async () => {
    const models = join(root, 'ready');
    mkdirSync(models);
    // A catalogue whose default is the tiny model, already in the folder.
    const catalogue = join(root, 'catalogue.json');
    writeFileSync(catalogue, JSON.stringify({ default: 'tiny', models: [{ name: 'tiny', model: { uri: 'hf:t/t/tiny.gguf' }, mmproj: { uri: 'hf:t/t/mmproj-tiny.gguf' } }] }));
    copyFileSync(m.model, join(models, 'tiny.gguf'));
    copyFileSync(m.mmproj, join(models, 'mmproj-tiny.gguf'));
    const r = await runQuorum(['doctor'], { env: { QUORUM_MODELS: models, QUORUM_CATALOGUE: catalogue }, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/@fugood\/llama\.node@1\.7\.15 \(images\).*backend CPU/);
    expect(r.stdout).toMatch(/tiny \(default\): on disk/);
    expect(r.stdout).toMatch(/keys +OPENAI_API_KEY not set, ANTHROPIC_API_KEY not set/);
    expect(r.stdout).toMatch(/export OPENAI_API_KEY or ANTHROPIC_API_KEY/);
  }, 150_000);
});
