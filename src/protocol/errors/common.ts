import { defineErrors } from './spec.js';

/** Errors any component may raise. */
export const COMMON_ERRORS = defineErrors({
  INVALID_OPTION: { retryable: false, http: 400, resp: 'ERR', description: 'An option passed to a component is out of range or of the wrong type; the message names it.' },
  INTERNAL: { retryable: true, http: 500, resp: 'ERR', description: 'An unexpected failure inside a process; it was logged with details. Report it.' },
});
