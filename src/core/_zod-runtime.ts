/**
 * The zod functions Quorum builds its schemas with, and the only module that imports
 * zod's runtime (everything else goes through `core/zod.ts`). Named one by one so that
 * the CLI bundle keeps only what they need of zod (a namespace handed on whole would
 * keep all of it, every locale included); add a name here when a schema needs it.
 */
export { array, boolean, enum, literal, looseObject, number, object, record, strictObject, string, tuple, union, unknown } from 'zod';
