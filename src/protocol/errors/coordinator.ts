import { defineErrors } from './spec.js';

/** Errors of the coordinator (owned by src/coordinator work; append only). */
export const COORDINATOR_ERRORS = defineErrors({
});
