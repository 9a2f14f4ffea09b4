export * from './writer.js';
export * from './tiny.js';
