import { defineErrors } from './spec.js';

/** Errors of placement and partition tables (src/hashing, src/partitioning; append only). */
export const PLACEMENT_ERRORS = defineErrors({
  TABLE_INVALID: { retryable: false, http: 400, resp: 'ERR', description: 'A partition table (JSON) failed validation: wrong shape, unknown member id, duplicate replica, or a count out of range.' },
  DUPLICATE_MEMBER_NAME: { retryable: false, http: 409, resp: 'ERR', description: 'Two members share a name with different addresses; names must be unique (the seed\'s node-name collision).' },
});
