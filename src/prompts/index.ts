export * from './template.js';
export * from './builtin.js';
export * from './load.js';
export * from './answers.js';
