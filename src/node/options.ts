/**
 * Options of the RESP server (STYLE.md "options once"): NodeServerOptions, the frozen defaults, and
 * resolveNodeServerOptions() which merges and validates, throwing a TypeError that names the bad option.
 */
import { DEFAULT_REQUEST_DECODER_LIMITS } from '../protocol/resp/index.js';

export interface NodeServerOptions {
  /** Interface to listen on and to advertise in MOVED / CLUSTER replies. */
  host: string;
  /** TCP port; 0 = pick a free one (read it back from the started node). */
  port: number;
  /** Password for AUTH / HELLO AUTH; '' = no authentication. */
  requirePass: string;
  /** Most simultaneous clients; more are refused with "-ERR max number of clients reached" and closed. */
  maxClients: number;
  /** Largest bulk argument (bytes), Redis's proto-max-bulk-len. */
  maxBulkBytes: number;
  /** Most arguments per command. */
  maxMultibulkCount: number;
  /** Longest inline command / header line. */
  maxInlineBytes: number;
  /** Most bytes buffered for one incomplete command per client (client-query-buffer-limit). */
  maxQueryBufferBytes: number;
  /**
   * A client whose unsent replies exceed this many bytes is disconnected (a slow reader, or a pipeline that never
   * reads): Redis's client-output-buffer-limit for normal clients is unlimited, we bound it. 0 = unlimited.
   */
  maxOutputBufferBytes: number;
  /** FLUSHALL/FLUSHDB are refused unless true (a cache cluster is flushed by accident more often than on purpose). */
  enableFlush: boolean;
  /** DEBUG (SLEEP, SET-ACTIVE-EXPIRE, PROTOCOL...) is refused unless true, as Redis 7's enable-debug-command. */
  enableDebug: boolean;
  /** Reject keys in different slots in one command with CROSSSLOT (cluster mode); standalone allows them, like Redis. */
  crossSlotCheck: boolean;
  /** Name and version shown by HELLO / INFO. */
  version: string;
}

export const DEFAULT_NODE_SERVER_OPTIONS: Readonly<NodeServerOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 7001,
  requirePass: '',
  maxClients: 10_000,
  maxBulkBytes: DEFAULT_REQUEST_DECODER_LIMITS.maxBulkBytes,
  maxMultibulkCount: DEFAULT_REQUEST_DECODER_LIMITS.maxMultibulkCount,
  maxInlineBytes: DEFAULT_REQUEST_DECODER_LIMITS.maxInlineBytes,
  maxQueryBufferBytes: DEFAULT_REQUEST_DECODER_LIMITS.maxQueryBufferBytes,
  maxOutputBufferBytes: 64 * 1024 * 1024,
  enableFlush: false,
  enableDebug: false,
  crossSlotCheck: true,
  version: '7.2.0-ringleader',
});

function positiveInt(name: string, v: unknown, min = 1): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new TypeError(`NodeServerOptions.${name} must be an integer >= ${min}, got ${String(v)}`);
}

export function resolveNodeServerOptions(input: Partial<NodeServerOptions> = {}): NodeServerOptions {
  const o: NodeServerOptions = { ...DEFAULT_NODE_SERVER_OPTIONS, ...input };
  if (typeof o.host !== 'string' || o.host.length === 0) throw new TypeError(`NodeServerOptions.host must be a non-empty string, got ${String(o.host)}`);
  if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new TypeError(`NodeServerOptions.port must be an integer in [0, 65535], got ${String(o.port)}`);
  if (typeof o.requirePass !== 'string') throw new TypeError('NodeServerOptions.requirePass must be a string');
  positiveInt('maxClients', o.maxClients);
  positiveInt('maxBulkBytes', o.maxBulkBytes);
  positiveInt('maxMultibulkCount', o.maxMultibulkCount);
  positiveInt('maxInlineBytes', o.maxInlineBytes);
  positiveInt('maxQueryBufferBytes', o.maxQueryBufferBytes);
  positiveInt('maxOutputBufferBytes', o.maxOutputBufferBytes, 0);
  return o;
}
