import { defineErrors } from './spec.js';

/** Errors of the client (owned by src/client work; append only). */
export const CLIENT_ERRORS = defineErrors({
  COMMAND_TIMEOUT: { retryable: true, http: 504, resp: 'ERR', description: 'A node did not answer a command within commandTimeoutMs (per attempt); the client retried up to maxAttempts. Check the node, or raise the timeout.' },
  CONNECTION_CLOSED: { retryable: true, http: 503, resp: 'ERR', description: 'The connection to a node closed (or could not open) before the reply arrived; the client refreshes its table and retries.' },
  RETRIES_EXHAUSTED: { retryable: true, http: 503, resp: 'ERR', description: 'A command was redirected (MOVED/ASK) or refused (TRYAGAIN/CLUSTERDOWN) more than maxAttempts times in a row, or for longer than retryBudgetMs: the cluster is rebalancing or unhealthy. Retry later.' },
  NO_OWNER: { retryable: true, http: 503, resp: 'CLUSTERDOWN', description: 'The client table has no primary for the key\'s partition (no nodes, or a partition without replicas). Retry once nodes joined.' },
  NO_TABLE: { retryable: true, http: 503, resp: 'ERR', description: 'The client got no partition table from any coordinator within connectTimeoutMs. Check the coordinator URLs.' },
  CLIENT_CLOSED: { retryable: false, http: 503, resp: 'ERR', description: 'A command was issued on (or was pending when calling) close(); create a new client.' },
  SERVER_ERROR: { retryable: false, http: 502, resp: 'ERR', description: 'The node answered an error reply (WRONGTYPE, ERR value is not an integer...); the message is the node\'s, `details.prefix` its first word.' },
  RESP_PROTOCOL_ERROR: { retryable: true, http: 502, resp: 'ERR', description: 'A node sent bytes that are not valid RESP (or broke a decoder limit); the connection is closed and the command retried.' },
  LOADER_FAILED: { retryable: false, http: 502, resp: 'ERR', description: 'The loader passed to getOrLoad threw; `cause` holds its error. Not cached unless negativeTtlMs > 0.' },
  UNEXPECTED_REPLY: { retryable: false, http: 502, resp: 'ERR', description: 'A node answered a command with a reply of the wrong type (for instance an array to GET): a server bug or a non-Ringleader server.' },
});
