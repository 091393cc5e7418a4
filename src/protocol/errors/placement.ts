import { defineErrors } from './spec.js';

/** Errors of placement and partition tables (src/hashing, src/partitioning; append only). */
export const PLACEMENT_ERRORS = defineErrors({
  TABLE_INVALID: { retryable: false, http: 400, resp: 'ERR', description: 'A partition table (JSON) failed validation: wrong shape, unknown member id, duplicate replica, or a count out of range.' },
  DUPLICATE_MEMBER_NAME: { retryable: false, http: 409, resp: 'ERR', description: 'Two members share a name with different addresses; names must be unique (the seed\'s node-name collision).' },
  REPLICAS_SHORTFALL: { retryable: true, http: 503, resp: 'CLUSTERDOWN', description: 'The planner could not place every copy the options ask for (e.g. replicas > placeable members); the table holds what could be placed and details say how many copies are missing. Add members or lower replicas.' },
});
