/**
 * What this machine offers local judging: engines and versions, the backend each one
 * would use (CPU, CUDA, Vulkan, Metal), devices and free memory, models on disk, which
 * API keys are set (names only), and what is missing with the command that fixes it.
 *
 * The image engine (@fugood/llama.node) is probed in a child process, as the provider
 * runs it: a native crash there cannot take this command down, and two llama.cpp builds
 * never share one process.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, freemem, platform, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { describeError } from '../core/errors.js';
import { IMAGE_ENGINE_PACKAGE, packageVersion, TEXT_ENGINE_PACKAGE } from '../judges/providers/llama/versions.js';
import { catalogueModelFiles, listModels, type Catalogue, type LocalModel } from '../local/index.js';

export type Backend = 'CPU' | 'CUDA' | 'Vulkan' | 'Metal';

export interface DeviceReport {
  name: string;
  type: string;
  /** Bytes in total, and free where the engine reports it. */
  totalBytes: number | undefined;
  freeBytes: number | undefined;
}

export interface EngineReport {
  package: string;
  /** What Quorum uses it for. */
  role: 'images' | 'text';
  backend: Backend;
  /** GPU builds found installed (`cuda`, `vulkan`, ...) and the ones that load here. */
  gpuBuilds: { installed: string[]; usable: string[] };
  devices: DeviceReport[];
  llamaCppBuild?: string | undefined;
  /** Why the probe failed, when it did. */
  error?: string | undefined;
}

export interface DoctorReport {
  system: { platform: string; arch: string; node: string; cpuCores: number; memoryBytes: number; freeMemoryBytes: number; nvidiaDriver: boolean };
  engines: EngineReport[];
  models: {
    dir: string;
    catalogue: { name: string; default: boolean; present: boolean; missing: string[] }[];
    files: LocalModel[];
  };
  /** API key variables and whether each is set; never the values. */
  keys: { name: string; set: boolean }[];
  /** What is missing, and the command (or step) that fixes it. */
  missing: { what: string; fix: string }[];
}

export interface DoctorOptions {
  env: NodeJS.ProcessEnv;
  modelsDir: string;
  catalogue: Catalogue;
  /** Environment variables holding API keys (from the provider registry). */
  keyNames: readonly string[];
}


/** Installed GPU builds of an engine, by the package names its prebuilt binaries use. */
function installedBuilds(prefix: string, suffixes: readonly string[]): string[] {
  // By the package folder (their `exports` hide package.json from require.resolve).
  return suffixes.filter((s) => !packageVersion(`${prefix}-${s}`).endsWith('@unknown'));
}

const GPU_NAMES: Record<string, Backend> = { cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' };

async function textEngine(): Promise<EngineReport> {
  const plat = platform() === 'darwin' ? 'mac' : platform() === 'win32' ? 'win' : platform();
  const report: EngineReport = {
    package: packageVersion(TEXT_ENGINE_PACKAGE),
    role: 'text',
    backend: 'CPU',
    gpuBuilds: { installed: installedBuilds(`@node-llama-cpp/${plat}-${arch()}`, ['cuda', 'cuda-ext', 'vulkan', 'metal']), usable: [] },
    devices: [],
  };
  try {
    const { getLlama } = await import('node-llama-cpp');
    // As the provider loads it: prebuilt binaries only, nothing built or downloaded.
    const llama = await getLlama({ gpu: 'auto', build: 'never', usePrebuiltBinaries: true, skipDownload: true, progressLogs: false, logger: () => undefined });
    try {
      if (llama.gpu) {
        report.backend = GPU_NAMES[llama.gpu] ?? 'CPU';
        report.gpuBuilds.usable.push(llama.gpu);
        const vram = await llama.getVramState();
        for (const name of await llama.getGpuDeviceNames()) report.devices.push({ name, type: 'gpu', totalBytes: vram.total, freeBytes: vram.free });
      }
    } finally {
      await llama.dispose();
    }
  } catch (error) {
    report.error = describeError(error);
  }
  return report;
}

/** Runs in a child: which llama.node variants load, their devices, the llama.cpp build. */
const IMAGE_PROBE = `
const mod = await import(process.argv[1]);
const out = { usable: [], devices: [], build: 'b' + mod.BuildInfo.number + ' (' + mod.BuildInfo.commit + ')' };
console.warn = () => undefined;
for (const v of ['cuda', 'vulkan']) if (await mod.isLibVariantAvailable(v)) out.usable.push(v);
out.devices = await mod.getBackendDevicesInfo(out.usable[0] ?? 'default');
process.stdout.write(JSON.stringify(out));
`;

async function imageEngine(): Promise<EngineReport> {
  const plat = platform();
  const report: EngineReport = {
    package: packageVersion(IMAGE_ENGINE_PACKAGE),
    role: 'images',
    backend: 'CPU',
    gpuBuilds: { installed: installedBuilds(`@fugood/node-llama-${plat}-${arch()}`, ['cuda', 'vulkan']), usable: [] },
    devices: [],
  };
  try {
    const entry = pathToFileURL(createRequire(import.meta.url).resolve(IMAGE_ENGINE_PACKAGE)).href;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', IMAGE_PROBE, entry], { timeout: 60_000, maxBuffer: 1 << 20 }, (error, out, err) =>
        error ? reject(new Error(`the engine probe failed: ${err.trim().split('\n').at(-1) ?? error.message}`)) : resolve(out),
      );
    });
    const probe = JSON.parse(stdout) as { usable: string[]; devices: { backend: string; type: string; deviceName: string; maxMemorySize: number }[]; build: string };
    report.gpuBuilds.usable = probe.usable;
    report.backend = GPU_NAMES[probe.usable[0] ?? ''] ?? (probe.devices.some((d) => d.backend === 'Metal') ? 'Metal' : 'CPU');
    report.llamaCppBuild = probe.build;
    report.devices = probe.devices.map((d) => ({ name: d.deviceName, type: d.type, totalBytes: d.maxMemorySize, freeBytes: undefined }));
  } catch (error) {
    report.error = describeError(error);
  }
  return report;
}

/**
 * Examines the machine. Never throws for a missing piece: each one becomes an entry of
 * `missing` with its fix.
 *
 * @example
 * const report = await runDoctor({ env: process.env, modelsDir, catalogue: BUILTIN_CATALOGUE, keyNames: ['OPENAI_API_KEY'] });
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const [image, text] = [await imageEngine(), await textEngine()];
  const nvidiaDriver = existsSync('/proc/driver/nvidia/version');
  const catalogue = await Promise.all(
    options.catalogue.models.map(async (m) => {
      const files = await catalogueModelFiles(m, options.modelsDir);
      return { name: m.name, default: m.name === options.catalogue.default, present: files.missing.length === 0, missing: files.missing.map((f) => f.file) };
    }),
  );
  const files = await listModels(options.modelsDir).catch(() => [] as LocalModel[]);
  const keys = options.keyNames.map((name) => ({ name, set: Boolean(options.env[name]) }));
  const missing: DoctorReport['missing'] = [];
  for (const e of [image, text]) if (e.error) missing.push({ what: `${e.package} (${e.role}) does not load: ${e.error}`, fix: 'npm ci (reinstalls the engine and its prebuilt binaries)' });
  const def = catalogue.find((c) => c.default);
  if (def && !def.present) missing.push({ what: `the default local judge ${def.name} (${def.missing.join(', ')})`, fix: `quorum pull ${def.name} (or --yes on the first quorum score)` });
  if (nvidiaDriver && image.backend === 'CPU') {
    missing.push(
      image.gpuBuilds.installed.length === 0
        ? { what: 'an NVIDIA driver is present but no GPU build of the image engine is installed', fix: 'npm ci --include=optional (installs @fugood/node-llama-*-cuda / -vulkan)' }
        : { what: `an NVIDIA driver is present but the GPU builds (${image.gpuBuilds.installed.join(', ')}) do not load`, fix: 'install the CUDA 12 runtime libraries (or Vulkan drivers); until then judging runs on the CPU' },
    );
  }
  if (!keys.some((k) => k.set)) missing.push({ what: 'no API key for hosted judges (not needed for local judges)', fix: `export ${options.keyNames.join(' or ')}` });
  return {
    system: {
      platform: platform(),
      arch: arch(),
      node: process.version,
      cpuCores: cpus().length,
      memoryBytes: totalmem(),
      freeMemoryBytes: freemem(),
      nvidiaDriver,
    },
    engines: [image, text],
    models: { dir: options.modelsDir, catalogue, files },
    keys,
    missing,
  };
}
