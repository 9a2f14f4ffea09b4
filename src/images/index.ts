export { collectInputs, isImagePath, IMAGE_EXTENSIONS } from './collect.js';
export type { CollectOptions, CollectedInputs, InputFile, SkippedEntry } from './collect.js';
export { loadImage, readImageFile } from './load.js';
export type { ImageSource, LoadedImage } from './load.js';
export { encodeForJudge, passThrough, AUTO_PNG_MAX_SIDE } from './encode.js';
export type { EncodeFormat, EncodeOptions } from './encode.js';
export { DEFAULT_LIMIT_INPUT_PIXELS, DEFAULT_MAX_DECODE_BYTES, configureSharp, loadSharp } from './_sharp.js';
export type { ImageLimits } from './_sharp.js';
export { DecodeBudget, DEFAULT_DECODE_MEMORY, sharedDecodeBudget, parseMemorySize } from './decode-budget.js';
