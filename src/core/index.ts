export * from './errors.js';
export * from './result.js';
export * from './hash.js';
export * from './provider.js';
