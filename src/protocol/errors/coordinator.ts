import { defineErrors } from './spec.js';

/** Errors of the coordinator and its control API (owned by src/coordinator work; append only). */
export const COORDINATOR_ERRORS = defineErrors({
  INVALID_JSON: { retryable: false, http: 400, resp: 'ERR', description: 'A request body is not valid JSON (or is empty where a body is required). Nothing changed.' },
  INVALID_REQUEST: { retryable: false, http: 400, resp: 'ERR', description: 'A request failed its schema: unknown field, wrong type, out-of-range number, or a name/zone with path or control characters. The message names the field. Nothing changed.' },
  BODY_TOO_LARGE: { retryable: false, http: 413, resp: 'ERR', description: 'A request body exceeds the control API limit (64 KiB; 2 MiB for copy reports). Nothing changed.' },
  UNSUPPORTED_MEDIA_TYPE: { retryable: false, http: 415, resp: 'ERR', description: 'A request body is not `application/json`. Nothing changed.' },
  UNSUPPORTED_PROTOCOL_VERSION: { retryable: false, http: 400, resp: 'ERR', description: 'A join asked for a protocol version this coordinator does not speak; upgrade one side (see PROTOCOL.md, versioning).' },
  MEMBER_NOT_FOUND: { retryable: false, http: 404, resp: 'ERR', description: 'The member id is unknown (never joined, or forgotten after it left). A node that gets this on a heartbeat joins again.' },
  MEMBER_DEAD: { retryable: false, http: 410, resp: 'ERR', description: 'The member was declared dead or has left; its old incarnation is fenced. The node must drop its partitions and join again (a new incarnation).' },
  STALE_INCARNATION: { retryable: false, http: 409, resp: 'ERR', description: 'A heartbeat or copy report carries an incarnation other than the member\'s current one (a restarted process is still running somewhere). Nothing changed.' },
  EPOCH_AHEAD: { retryable: false, http: 409, resp: 'ERR', description: 'A request names a table epoch newer than the coordinator\'s (an applied epoch that was never published, or a watch `since` from another cluster). Nothing changed; a watcher restarts without `since`.' },
  NOT_FOUND: { retryable: false, http: 404, resp: 'ERR', description: 'No such endpoint or method under /v1.' },
  STATE_CONFLICT: { retryable: true, http: 503, resp: 'ERR', description: 'The state store refused a write because its stored epoch changed underneath (another coordinator wrote); this coordinator stops publishing until it reloads.' },
  STATE_STORE_FAILED: { retryable: true, http: 503, resp: 'ERR', description: 'Writing members.json (or another state store) failed; the change is retried and nothing is published until it is stored.' },
  COORDINATOR_UNAVAILABLE: { retryable: true, http: 503, resp: 'ERR', description: 'No coordinator answered (connection refused, timeout, or 5xx) within the client\'s time budget; retried with backoff.' },
  TOO_MANY_MEMBERS: { retryable: false, http: 409, resp: 'ERR', description: 'A join would exceed the member limit of a table (10,000 live members). Nothing changed.' },
  UNAUTHORIZED: { retryable: false, http: 401, resp: 'ERR', description: 'The request carries no bearer token or a wrong one (`Authorization: Bearer <token>`; the coordinator was started with `--token-file` or `RINGLEADER_TOKEN`). Nothing changed; configure the same token on nodes and clients.' },
  NOT_LEADER: { retryable: true, http: 503, resp: 'ERR', description: 'This coordinator is a follower (etcd mode): it serves reads and watch streams but not changes. The body names the leader (`error.leader`, when known); nodes and clients retry the other coordinators with backoff.' },
  CLUSTER_MISMATCH: { retryable: false, http: 409, resp: 'ERR', description: 'A heartbeat or a recovery offer carries another cluster id than this coordinator\'s: the node belongs to another cluster. Nothing changed; the node joins this cluster as a new member (dropping its data) or must be pointed at its own coordinators.' },
  NOT_READY: { retryable: true, http: 503, resp: 'ERR', description: 'This coordinator has not read the cluster state yet (etcd mode: etcd was unreachable when it started; it retries with backoff). It answers only /healthz (503, `role: "starting"`, `error` naming etcd) and /metrics until then; nodes and clients retry the other coordinators.' },
});
