/** Messages between the provider and the engine child process (IPC, structured clone). */
import type { CandidateOutput, EngineJob, SampleOutput } from '../job.js';

export interface ChildLoadOptions {
  model: string;
  mmproj: string | undefined;
  contextSize: number;
  batchSize: number;
  threads: number;
  /** -1: all that fit (engine decides); 0: CPU only. */
  gpuLayers: number;
}

export type ToChild =
  | { type: 'load'; options: ChildLoadOptions }
  | { type: 'run'; id: number; job: EngineJob }
  | { type: 'exit' };

export type LoadStage = 'engine' | 'model' | 'projector';

export interface ChildLoadInfo {
  /** `lib_variant` of the native module: `default` (CPU), `cuda`, `vulkan`. */
  variant: string;
  devices: string[];
  llamaCppBuild: string;
  loadMs: number;
  vision: boolean;
}

export type FromChild =
  | { type: 'stage'; stage: LoadStage }
  | { type: 'loaded'; info: ChildLoadInfo }
  | { type: 'load-error'; stage: LoadStage; message: string }
  | { type: 'sample'; id: number; sample: SampleOutput }
  /** `retire`: the engine has piled up enough state that it should be replaced after this call. */
  | { type: 'candidates'; id: number; result: CandidateOutput; retire: boolean }
  | { type: 'done'; id: number }
  /** `stuck`: the engine's "Another completion is in progress" defect; the child must be replaced. */
  | { type: 'run-error'; id: number; kind: 'stuck' | 'failed'; message: string };
