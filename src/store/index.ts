export * from './store.js';
export { databasePathProblem } from './_open.js';
