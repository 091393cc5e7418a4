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
  // RESP server (src/node): the reply is `-${resp} ${message}`; messages follow Redis's texts so clients that match them work.
  PROTOCOL_ERROR: { retryable: false, http: 400, resp: 'ERR', description: 'A malformed or over-limit request ("Protocol error: invalid multibulk length", "invalid bulk length", "too big inline request"...): the node replies and closes the connection, as Redis does.' },
  UNKNOWN_COMMAND: { retryable: false, http: 400, resp: 'ERR', description: "A command the node does not implement (\"unknown command 'X', with args beginning with: ...\")." },
  WRONG_ARITY: { retryable: false, http: 400, resp: 'ERR', description: "A command with the wrong number of arguments (\"wrong number of arguments for 'get' command\")." },
  SYNTAX_ERROR: { retryable: false, http: 400, resp: 'ERR', description: 'Unknown or conflicting options (SET with both NX and XX, an unknown flag...) ("syntax error").' },
  INVALID_EXPIRE: { retryable: false, http: 400, resp: 'ERR', description: 'An expire time that is not positive or overflows ("invalid expire time in \'set\' command").' },
  NOAUTH: { retryable: false, http: 401, resp: 'NOAUTH', description: 'The node has --requirepass and the connection has not authenticated ("Authentication required.").' },
  WRONGPASS: { retryable: false, http: 401, resp: 'WRONGPASS', description: 'AUTH or HELLO AUTH with a wrong user or password ("invalid username-password pair or user is disabled.").' },
  NOPROTO: { retryable: false, http: 400, resp: 'NOPROTO', description: 'HELLO asked for a protocol version other than 2 or 3 ("unsupported protocol version").' },
  MOVED: { retryable: true, http: 421, resp: 'MOVED', description: 'The key\'s slot is owned by another node at this node\'s current epoch ("MOVED <slot> <host>:<port>"): refresh the slot map (CLUSTER SLOTS) and retry there.' },
  ASK: { retryable: true, http: 421, resp: 'ASK', description: 'The key\'s slot is being migrated and the key is on the target ("ASK <slot> <host>:<port>"): send ASKING then the command to that node once, without updating the slot map.' },
  TRYAGAIN: { retryable: true, http: 503, resp: 'TRYAGAIN', description: 'A multi-key command whose keys are split by an ongoing migration: retry after a short wait.' },
  CLUSTERDOWN: { retryable: true, http: 503, resp: 'CLUSTERDOWN', description: 'The node has no partition table yet (just started, coordinator unreachable) or the slot has no owner ("The cluster is down"): retry after a short wait.' },
  CROSSSLOT: { retryable: false, http: 400, resp: 'CROSSSLOT', description: 'A multi-key command names keys in different slots ("Keys in request don\'t hash to the same slot"): use hash tags ({user1}:a, {user1}:b).' },
  FLUSH_DISABLED: { retryable: false, http: 403, resp: 'ERR', description: 'FLUSHALL/FLUSHDB on a node started without --enable-flush.' },
  NOT_SUPPORTED: { retryable: false, http: 400, resp: 'ERR', description: 'A known command or option that Ringleader does not support (SELECT of a database other than 0, CLIENT PAUSE...).' },
  NOREPLICAS: { retryable: true, http: 503, resp: 'NOREPLICAS', description: 'Sync mode with --min-in-sync: the partition has fewer in-sync copies (primary + backups) than required, so the write is refused before it runs ("Not enough good replicas to write.", as Redis\'s min-replicas-to-write).' },
  OUTCOME_UNKNOWN: { retryable: false, http: 504, resp: 'OUTCOMEUNKNOWN', description: 'A write may or may not have been applied. Sent by a node in sync mode: the write was applied on this node but the partition changed hands (or its backups did not confirm it) before the reply could be sent: it may or may not survive. Raised by the Ringleader client too (one code for both), when a write reached a node (or may have) and no reply came (the connection closed or the command timed out after sending): it never resends it; `details` names the command and the node address. Read the key back before retrying a non-idempotent write.' },
  EXECABORT: { retryable: false, http: 409, resp: 'EXECABORT', description: 'EXEC after a command of the transaction was refused while queueing (unknown command, wrong arity, CROSSSLOT...): nothing ran ("Transaction discarded because of previous errors.").' },
  WRONGTYPE: { retryable: false, http: 409, resp: 'WRONGTYPE', description: 'A command for one type (string, hash, set, sorted set) on a key holding another ("Operation against a key holding the wrong kind of value").' },
});
