import { defineErrors } from './spec.js';

/** Errors of the node (owned by src/node work; append only). */
export const NODE_ERRORS = defineErrors({
  // storage engine (src/storage): the RingleaderError message is Redis's text after the prefix, e.g. `-ERR ${message}`.
  NOT_INTEGER: { retryable: false, http: 400, resp: 'ERR', description: 'A value or argument is not a 64-bit signed integer ("value is not an integer or out of range").' },
  INCR_OVERFLOW: { retryable: false, http: 400, resp: 'ERR', description: 'INCR/DECR/INCRBY would leave the 64-bit signed range ("increment or decrement would overflow").' },
  NOT_FLOAT: { retryable: false, http: 400, resp: 'ERR', description: 'A value or argument is not a valid float ("value is not a valid float").' },
  FLOAT_NAN_OR_INFINITY: { retryable: false, http: 400, resp: 'ERR', description: 'INCRBYFLOAT would produce NaN or Infinity ("increment would produce NaN or Infinity").' },
  VALUE_TOO_LARGE: { retryable: false, http: 400, resp: 'ERR', description: 'A string would exceed the maximum value size, 512 MB like Redis\'s proto-max-bulk-len ("string exceeds maximum allowed size (proto-max-bulk-len)").' },
  OFFSET_OUT_OF_RANGE: { retryable: false, http: 400, resp: 'ERR', description: 'SETRANGE got a negative offset ("offset is out of range").' },
  OOM: { retryable: true, http: 507, resp: 'OOM', description: "A write needs memory above --maxmemory and the eviction policy cannot free it (noeviction, or no volatile key for volatile-ttl): \"command not allowed when used memory > 'maxmemory'.\" Reads and deletes still work." },
});
