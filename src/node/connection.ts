import type { Socket } from 'node:net';
import { RequestDecoder, type RequestDecoderLimits } from '../protocol/resp/index.js';

/** One WATCHed key of a connection and the partition's term when it was watched (see transactions.ts). */
export interface WatchedKey {
  readonly partition: number;
  readonly key: string;
  readonly term: number;
}

/** A reply held back (sync mode), or replies queued behind one. `ok` false: answer OUTCOMEUNKNOWN instead. */
export interface HeldReply {
  bufs: Buffer[];
  done: boolean;
  ok: boolean;
}

/** One client connection's state: its decoder and what HELLO / AUTH / CLIENT / READONLY / ASKING set. */
export class Connection {
  readonly decoder: RequestDecoder;
  /** Protocol version chosen with HELLO (2 or 3). */
  resp = 2;
  authenticated: boolean;
  name = '';
  libName = '';
  libVersion = '';
  /** READONLY: the client accepts reads from replicas (we still redirect reads of partitions we only back up). */
  readonly = false;
  /** ASKING: the next command may touch a slot being imported here (cleared after one command). */
  asking = false;
  /** Set when the connection must close once its pending replies are written (QUIT, protocol error). */
  closing = false;
  readonly createdAt: number;
  lastCommandAt: number;
  /** Name of the last command run (`client|list` for subcommands), for CLIENT LIST's `cmd=`. */
  lastCommand = 'NULL';
  /** CLIENT REPLY OFF: no replies until CLIENT REPLY ON. */
  replyOff = false;
  /** CLIENT REPLY SKIP: the next command's reply is dropped (`replySkipNext` turns into `replySkip` after SKIP itself). */
  replySkipNext = false;
  replySkip = false;
  /** MULTI: the queued commands as RESP bytes (null = not in a transaction), their total size, and whether a queued
   * command was refused (EXEC then answers EXECABORT). `multiSlot`: the slot of the transaction's keys (cluster). */
  /**
   * Sync mode: replies waiting for in-sync backups, in order, and everything answered after them (null = nothing
   * held: replies go straight to the socket).
   */
  held: HeldReply[] | null = null;
  /** Released held replies are being gathered: the socket is corked until the end of this turn of the event loop. */
  heldCorked = false;
  /** The last offset this connection wrote per partition (WAIT). */
  lastWrites: Map<number, number> | null = null;
  /** WAIT numreplicas timeout, set by the command and taken by the server after it. */
  pendingWait: { replicas: number; timeoutMs: number } | null = null;
  /** True while EXEC runs the queued commands (WAIT then answers at once, as blocking commands do in Redis transactions). */
  inExec = false;
  multi: Buffer[] | null = null;
  multiBytes = 0;
  multiDirty = false;
  multiSlot = -1;
  /** WATCHed keys (null = none) and whether one was written since (see transactions.ts). */
  watched: WatchedKey[] | null = null;
  watchDirty = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    limits: Partial<RequestDecoderLimits>,
    authenticated: boolean,
    now: number,
  ) {
    this.decoder = new RequestDecoder(limits);
    this.authenticated = authenticated;
    this.createdAt = now;
    this.lastCommandAt = now;
  }

  get address(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }

  /** host:port of our side of the connection (CLIENT LIST `laddr`). */
  get localAddress(): string {
    return `${this.socket.localAddress ?? '?'}:${this.socket.localPort ?? 0}`;
  }
}
