/**
 * Error replies of the node, all from the one catalog (NODE_ERRORS / COMMON_ERRORS): `-${spec.resp} ${message}`
 * with Redis's texts, so clients that match on them (ioredis's HELLO fallback, MOVED parsing) work.
 */
import { COMMON_ERRORS, NODE_ERRORS, allErrors, type ErrorSpec } from '../protocol/errors/index.js';
import { isRingleaderError } from '../shared/errors.js';

/** Catalog code -> RESP prefix, for errors thrown by the store. */
const RESP_PREFIX: ReadonlyMap<string, string> = new Map(allErrors().map((e) => [e.code, e.resp]));

export function errorText(spec: ErrorSpec, message: string): string {
  return `${spec.resp} ${message}`;
}

/** The reply text of a thrown error: catalog errors keep their prefix and message; anything else is INTERNAL. */
export function errorReplyOf(err: unknown): string {
  if (isRingleaderError(err)) return `${RESP_PREFIX.get(err.code) ?? 'ERR'} ${err.message}`;
  return errorText(COMMON_ERRORS.INTERNAL, 'internal error');
}

export const ERR_SYNTAX = errorText(NODE_ERRORS.SYNTAX_ERROR, 'syntax error');
export const ERR_NOT_INTEGER = errorText(NODE_ERRORS.NOT_INTEGER, 'value is not an integer or out of range');
export const ERR_NOT_FLOAT = errorText(NODE_ERRORS.NOT_FLOAT, 'value is not a valid float');
export const ERR_NOAUTH = errorText(NODE_ERRORS.NOAUTH, 'Authentication required.');
export const ERR_WRONGPASS = errorText(NODE_ERRORS.WRONGPASS, 'invalid username-password pair or user is disabled.');
export const ERR_CLUSTERDOWN = errorText(NODE_ERRORS.CLUSTERDOWN, 'The cluster is down');
export const ERR_CLUSTERDOWN_UNBOUND = errorText(NODE_ERRORS.CLUSTERDOWN, 'Hash slot not served');
export const ERR_NOREPLICAS = errorText(NODE_ERRORS.NOREPLICAS, 'Not enough good replicas to write.');
export const ERR_OUTCOME_UNKNOWN = errorText(NODE_ERRORS.OUTCOME_UNKNOWN, 'the write was applied here but its replication was not confirmed before the partition changed hands; read the key to learn the outcome');
export const ERR_TRYAGAIN_HANDOVER = errorText(NODE_ERRORS.TRYAGAIN, 'Partition changing hands, try again');
/** The node's lease lapsed (no answered heartbeat for leaseMs): it may have been replaced, so it answers nothing about its keys. */
export const ERR_TRYAGAIN_LEASE = errorText(NODE_ERRORS.TRYAGAIN, 'lease expired: no contact with the coordinator');
export const ERR_CROSSSLOT = errorText(NODE_ERRORS.CROSSSLOT, "Keys in request don't hash to the same slot");
export const ERR_FLUSH_DISABLED = errorText(NODE_ERRORS.FLUSH_DISABLED, 'FLUSHALL and FLUSHDB are disabled on this node (start it with --enable-flush)');

export function errWrongArity(name: string): string {
  return errorText(NODE_ERRORS.WRONG_ARITY, `wrong number of arguments for '${name}' command`);
}

export function errInvalidExpire(name: string): string {
  return errorText(NODE_ERRORS.INVALID_EXPIRE, `invalid expire time in '${name}' command`);
}

/** Redis 7.0's text: each argument quoted and followed by a space, until the list reaches 128 characters. */
export function errUnknownCommand(name: string, args: string[]): string {
  let shown = '';
  for (let i = 0; i < args.length && shown.length < 128; i++) shown += `'${args[i]!.slice(0, 128 - shown.length)}' `;
  return errorText(NODE_ERRORS.UNKNOWN_COMMAND, `unknown command '${name.slice(0, 128)}', with args beginning with: ${shown}`);
}

export function errUnknownSubcommand(sub: string, name: string): string {
  return errorText(NODE_ERRORS.UNKNOWN_COMMAND, `unknown subcommand '${sub.slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`);
}

export function errNotSupported(message: string): string {
  return errorText(NODE_ERRORS.NOT_SUPPORTED, message);
}

export function errProtocol(message: string): string {
  return errorText(NODE_ERRORS.PROTOCOL_ERROR, message);
}
