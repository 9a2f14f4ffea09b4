export { listModels, type LocalModel } from './list-models.js';
export {
  inspectModelFile,
  validateModelFiles,
  checkTextModel,
  projectorMismatch,
  type ModelFileInfo,
  type ProjectorInfo,
  type ValidatedModelFiles,
} from './model-file.js';
export { readGgufHeader, GgufFormatError, ggmlTypeName, type GgufHeader, type GgufTensorInfo, type GgufMetadataValue } from './gguf.js';
export { LLAMA_CPP_ARCHITECTURES, LLAMA_FILE_TYPES } from './architectures.js';
export {
  BUILTIN_CATALOGUE,
  defaultLocalJudge,
  findCatalogueModel,
  loadCatalogue,
  fileNameOf,
  formatBytes,
  type Catalogue,
  type CatalogueFile,
  type CatalogueModel,
} from './catalogue.js';
export { modelsDir, catalogueModelFiles, type CatalogueModelFiles } from './models-dir.js';
export {
  pullFile,
  pullFiles,
  checkDownloadedFile,
  describePulled,
  DownloadError,
  PARTIAL_DIR,
  type PullFile,
  type PullOptions,
  type PullProgress,
  type PulledFile,
} from './pull.js';
