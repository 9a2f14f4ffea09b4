import { defineCommand } from 'citty';
import { runDoctor, type DoctorReport } from '../../doctor/doctor.js';
import { providerRegistry } from '../../judges/providers/registry.js';
import { formatBytes } from '../../local/index.js';
import { enumArg, type Args } from '../args.js';
import { localSetup } from '../local-models.js';
import type { CommandIO } from '../main.js';

export const usage = 'doctor [--format text|json]';

export const command = defineCommand({
  meta: {
    name: 'doctor',
    description:
      'Check this machine for local judging: engines and versions, backend (CPU/CUDA/Vulkan/Metal), devices and free memory, models on disk, API keys present (names only), and what is missing with the command that fixes it.',
  },
  args: {
    format: { type: 'string', valueHint: 'text|json', description: 'text or json', default: 'text' },
  },
});

export const examples = `Examples:
  quorum doctor
  quorum doctor --format json

Exit codes: 0 the default local judge can run (it is on disk and both engines load), 1 something is missing (listed with its fix).`;

function render(r: DoctorReport): string {
  const s = r.system;
  const lines = [
    `system   ${s.platform} ${s.arch}, Node ${s.node}, ${s.cpuCores} CPU threads, memory ${formatBytes(s.memoryBytes)} (${formatBytes(s.freeMemoryBytes)} free)` +
      `${s.nvidiaDriver ? ', NVIDIA driver present' : ''}`,
    '',
    'engines',
  ];
  for (const e of r.engines) {
    const builds = e.gpuBuilds.installed.length ? `GPU builds installed: ${e.gpuBuilds.installed.join(', ')}; loading here: ${e.gpuBuilds.usable.join(', ') || 'none'}` : 'no GPU build installed';
    lines.push(`  ${e.package} (${e.role})${e.llamaCppBuild ? `, llama.cpp ${e.llamaCppBuild}` : ''}: backend ${e.error ? 'unavailable' : e.backend}; ${builds}`);
    for (const d of e.devices) {
      const memory = d.totalBytes !== undefined ? ` ${formatBytes(d.totalBytes)}${d.freeBytes !== undefined ? ` (${formatBytes(d.freeBytes)} free)` : ''}` : '';
      lines.push(`    device ${d.name} (${d.type})${memory}`);
    }
  }
  lines.push('', `models   ${r.models.dir}`);
  for (const c of r.models.catalogue) lines.push(`  ${c.name}${c.default ? ' (default)' : ''}: ${c.present ? 'on disk' : `not downloaded (quorum pull ${c.name})`}`);
  const others = r.models.files.filter((f) => f.kind !== 'projector');
  if (others.length) lines.push(`  ${others.length} model file(s) in the folder; \`quorum models ${r.models.dir}\` lists them`);
  lines.push('', `keys     ${r.keys.map((k) => `${k.name} ${k.set ? 'set' : 'not set'}`).join(', ')}`);
  lines.push('', r.missing.length ? 'missing' : 'nothing missing');
  for (const m of r.missing) lines.push(`  - ${m.what}\n    fix: ${m.fix}`);
  return lines.join('\n');
}

export async function run(args: Args, io: CommandIO): Promise<number> {
  const format = enumArg(args, 'format', ['text', 'json'] as const, 'text');
  const setup = await localSetup(io.env);
  const keyNames = Object.values(providerRegistry).flatMap((p) => (p.keyEnv ? [p.keyEnv] : []));
  const report = await runDoctor({ env: io.env, modelsDir: setup.dir, catalogue: setup.catalogue, keyNames });
  io.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${render(report)}\n`);
  const ready = report.engines.every((e) => !e.error) && report.models.catalogue.some((c) => c.default && c.present);
  return ready ? 0 : 1;
}
