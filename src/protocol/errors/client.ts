import { defineErrors } from './spec.js';

/** Errors of the client (owned by src/client work; append only). */
export const CLIENT_ERRORS = defineErrors({
});
