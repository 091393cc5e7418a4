/**
 * The command table's contract. Each file in src/node/commands registers plain module-level handler functions
 * (no per-command closures on the hot path) into one CommandTable; the server looks a command up, checks auth,
 * arity and key ownership once, then calls the handler with the partition of its first key.
 */
import type { Socket } from 'node:net';
import type { EvictionPolicy, Store } from '../../storage/index.js';
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import type { ClusterView } from '../cluster-view.js';
import type { Connection } from '../connection.js';
import type { NodeServerOptions } from '../options.js';

/** Command flags (bit set), after Redis's command flags. */
export const CMD_WRITE = 1;
export const CMD_READONLY = 2;
/** Allowed before AUTH when a password is set (AUTH, HELLO, QUIT...). */
export const CMD_NO_AUTH = 4;
/** Touches no key and needs no table (PING, INFO, CLUSTER...). */
export const CMD_ADMIN = 8;
/** May be refused with OOM when memory is full (SET, APPEND...); informative only: the store decides. */
export const CMD_DENYOOM = 16;
export const CMD_FAST = 32;
/**
 * Names no key but reads or writes the keys of every partition the node serves (KEYS, SCAN, RANDOMKEY, DBSIZE,
 * FLUSHALL): the ownership guard applies the lease check to it as to a keyed command. Not shown by COMMAND INFO.
 */
export const CMD_SERVED_KEYS = 64;

/** What a handler may reach: the node's state. Implemented by the server. */
export interface CommandContext {
  /** The store, null until the first table (cluster mode); keyed handlers only run once it exists. */
  readonly store: Store | null;
  readonly view: ClusterView;
  readonly options: NodeServerOptions;
  /** Live connections (CLIENT ID/LIST, INFO clients). */
  readonly connectionCount: number;
  /** Counters shown by INFO stats. */
  readonly stats: ServerStats;
  /** Epoch ms on the node's clock. */
  now(): number;
  /** Process uptime start (epoch ms). */
  readonly startedAt: number;
  /** The whole command table (COMMAND). */
  readonly commands: CommandTable;
  /** Every open client connection (CLIENT LIST). */
  clients(): Iterable<Connection>;
  /** A uniform random number in [0, 1) (RANDOMKEY). */
  random(): number;
  /** Active expiry on or off (DEBUG SET-ACTIVE-EXPIRE); the node's expiry timer reads it. */
  activeExpire: boolean;
  /** Per command (`name` or `container|sub`): calls, time, rejected and failed calls (INFO commandstats). */
  readonly commandCounters: Map<string, CommandStat>;
  /** Error replies by prefix (`ERR`, `MOVED`...), INFO errorstats. */
  readonly errorStats: Map<string, number>;
  /** CONFIG RESETSTAT: zeroes the counters. */
  resetStats(): void;
  /** The memory limit and policy the store uses now and that a store created later gets (CONFIG SET). */
  readonly memory: MemorySettings;
  /** WATCH one key (in `partition`), UNWATCH all, and EXEC of a connection in MULTI (src/node/transactions.ts). */
  watchKey(conn: Connection, partition: number, key: string): void;
  unwatchAll(conn: Connection): void;
  execTransaction(conn: Connection, w: ReplyWriter): void;
  /** The partition replication stream (RL.* commands); null in standalone mode. */
  readonly replication: ReplicationHandler | null;
}

export interface MemorySettings {
  maxMemoryBytes: number;
  evictionPolicy: EvictionPolicy;
}

export interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

/** What the RL.* commands call: implemented by the node's replicator (src/node/replication). */
export interface ReplicationHandler {
  replConn(socket: Socket, followerId: string, capabilities?: { binarySnapshots: boolean }): void;
  /** Returns an error text, or null when the stream answers on the connection. */
  follow(socket: Socket, partition: number, term: number, offset: number, complete: boolean): string | null;
  unfollow(socket: Socket, partition: number): void;
  ack(socket: Socket, pairs: ReadonlyArray<readonly [number, number]>): void;
  handoff(partition: number, term: number): void;
  /** RL.RECV: the follower read and applied this many bytes of the connection's stream (snapshot window). */
  recv(socket: Socket, bytes: number): void;
  /** RL.TABLE: a follower that takes partitions over from this node sends the table that says so (applied when newer). */
  peerTable(socket: Socket, json: string): void;
  /** RL.FENCE: the copy's position; it ignores terms older than `term` from now on. */
  fence(partition: number, term: number): { term: number; offset: number; complete: boolean };
  /** INFO replication lines (`key:value`). */
  infoLines(): string[];
  digest(partition: number): { term: number; offset: number; mode: string; complete: boolean; keys: number; digest: string } | null;
  /** The writes since the last call as flat (partition, offset) pairs, and whether their reply waits for in-sync backups. */
  takeWrites(): { writes: number[]; needsAcks: boolean } | null;
  /** Sync mode: calls `settle(ok)` once every in-sync backup acknowledged `writes` (ok = false: outcome unknown). */
  holdReply(writes: readonly number[], settle: (ok: boolean) => void): void;
  /** False when the partition has fewer in-sync copies than the table's minInSync. */
  enoughInSync(partition: number): boolean;
  /** WAIT: settle(count of followers that acknowledged every write), at once or on acknowledgement / timeout. */
  waitReplicas(writes: readonly number[], replicas: number, timeoutMs: number, settle: (acked: number) => void): void;
}

export interface ServerStats {
  connectionsReceived: number;
  commandsProcessed: number;
  rejectedConnections: number;
  protocolErrors: number;
  outputLimitDisconnects: number;
  moved: number;
  crossSlot: number;
  clusterDown: number;
  netInputBytes: number;
  netOutputBytes: number;
  /** Socket reads handled and socket writes of replies (INFO total_reads_processed / total_writes_processed). */
  readsProcessed: number;
  writesProcessed: number;
  /** Error replies sent (INFO total_error_replies). */
  errorReplies: number;
  /** -TRYAGAIN replies for partitions changing hands. */
  tryAgain: number;
  /** -TRYAGAIN replies because the lease lapsed (not counted in tryAgain). */
  leaseRefused: number;
  /** Connections closed unanswered because the lease lapsed between running a batch and writing its replies (a pause). */
  leaseLateCloses: number;
  /** Reads served from a backup copy to a READONLY connection. */
  backupReads: number;
}

/**
 * A command handler. `partition` is the partition of the first key (after the ownership guard), -1 for keyless
 * commands. Errors: write them with `w.error()`, or throw a RingleaderError from the catalog (the server turns it
 * into `-${resp} ${message}`).
 */
export type CommandHandler = (ctx: CommandContext, conn: Connection, req: RequestDecoder, w: ReplyWriter, partition: number) => void;

export interface CommandSpec {
  /** Lower-case name. */
  readonly name: string;
  /** Redis arity: N = exactly N args (name included), -N = at least N. */
  readonly arity: number;
  readonly flags: number;
  /** Key positions (Redis's first/last/step; last -1 = the last argument); 0 = no keys. */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly handler: CommandHandler;
  /** One line for COMMAND DOCS (commands Redis does not have; Redis's own summary is used otherwise). */
  readonly summary: string;
  /** Subcommands this node implements (lower case), for containers such as CLIENT; COMMAND INFO lists only these. */
  readonly subcommands?: readonly string[];
  /** How far the node follows Redis 7.0 for this command: 'full', or 'partial' with `note` saying what differs. */
  readonly support?: SupportLevel;
  readonly note?: string;
}

export type SupportLevel = 'full' | 'partial' | 'ringleader';

/** Name (lower and upper case, as sent by clients) -> spec. */
export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();
  private readonly list: CommandSpec[] = [];

  add(spec: CommandSpec): void {
    if (this.byName.has(spec.name)) throw new TypeError(`command ${spec.name} registered twice`);
    this.list.push(spec);
    this.byName.set(spec.name, spec);
    this.byName.set(spec.name.toUpperCase(), spec);
  }

  /** Looks a name up: exact match first (clients send upper or lower case), then case-insensitively. */
  get(name: string): CommandSpec | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  all(): readonly CommandSpec[] {
    return this.list;
  }
}

/** Extra facts of a spec: implemented subcommands, support level and its note. */
export interface SpecExtras {
  readonly subcommands?: readonly string[];
  readonly support?: SupportLevel;
  readonly note?: string;
}

/** Shorthand for a spec. */
export function cmd(name: string, arity: number, flags: number, keys: [first: number, last: number, step: number], handler: CommandHandler, summary: string, extras: SpecExtras = {}): CommandSpec {
  return Object.freeze({ name, arity, flags, firstKey: keys[0], lastKey: keys[1], step: keys[2], handler, summary, ...extras });
}

export const NO_KEYS: [number, number, number] = [0, 0, 0];
export const KEY1: [number, number, number] = [1, 1, 1];
