import { defineErrors } from './spec.js';

/** Errors of the node (owned by src/node work; append only). */
export const NODE_ERRORS = defineErrors({
});
