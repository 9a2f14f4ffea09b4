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
