/**
 * The RESP server: accepts connections, decodes pipelined commands, runs them against the store through the
 * command table, and writes each read's replies with one socket write.
 *
 * Hot path (per command): one string for the command name, a table lookup, the auth/arity checks, one CRC16 for the
 * key slot and a byte-array read for ownership, then the handler. No per-command closures or promises.
 * Replies go to one ReplyWriter shared by all connections: a batch is encoded and taken synchronously per socket
 * read, so batches never interleave.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { CommandStats } from './command-stats.js';
import type { Store } from '../storage/index.js';
import { ReplyWriter, RespProtocolError, UNAUTHENTICATED_LIMITS, type RequestDecoder } from '../protocol/resp/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { ClusterView } from './cluster-view.js';
import { CMD_NO_AUTH, CMD_READONLY, type CommandContext, type CommandSpec, type ReplicationHandler, type CommandTable, type ServerStats } from './commands/index.js';
import { Connection } from './connection.js';
import type { NodeServerOptions } from './options.js';
import { ERR_CLUSTERDOWN, ERR_CLUSTERDOWN_UNBOUND, ERR_CROSSSLOT, ERR_NOAUTH, ERR_TRYAGAIN_HANDOVER, errProtocol, errUnknownCommand, errWrongArity, errorReplyOf } from './replies.js';
import { slotOfArg } from './slots.js';

const ERR_MAX_CLIENTS = Buffer.from('-ERR max number of clients reached\r\n', 'latin1');

export class NodeServer implements CommandContext {
  store: Store | null = null;
  /** Calls and latency per command (the ringleader_node_command_duration_seconds histogram). */
  readonly commandStats = new CommandStats();
  readonly stats: ServerStats = {
    connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0, protocolErrors: 0, outputLimitDisconnects: 0,
    moved: 0, crossSlot: 0, clusterDown: 0, netInputBytes: 0, netOutputBytes: 0, tryAgain: 0, backupReads: 0,
  };
  /** The replication stream (cluster mode), for the RL.* commands; null in standalone mode. */
  replication: ReplicationHandler | null = null;
  readonly startedAt: number;
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly writer = new ReplyWriter();
  private nextClientId = 1;
  private boundPort = 0;

  constructor(
    readonly options: NodeServerOptions,
    readonly view: ClusterView,
    readonly commands: CommandTable,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.startedAt = clock.now();
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get port(): number {
    return this.boundPort;
  }

  now(): number {
    return this.clock.now();
  }

  /** Listens on options.host:options.port (0 = any free port); resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : this.options.port;
        (this.options as { port: number }).port = this.boundPort;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops accepting, closes every connection, resolves when the listener is closed. */
  close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.stats.connectionsReceived++;
    if (this.connections.size >= this.options.maxClients) {
      this.stats.rejectedConnections++;
      socket.end(ERR_MAX_CLIENTS);
      return;
    }
    const o = this.options;
    const needsAuth = o.requirePass !== '';
    const limits = {
      maxBulkBytes: needsAuth ? Math.min(UNAUTHENTICATED_LIMITS.maxBulkBytes, o.maxBulkBytes) : o.maxBulkBytes,
      maxMultibulkCount: needsAuth ? Math.min(UNAUTHENTICATED_LIMITS.maxMultibulkCount, o.maxMultibulkCount) : o.maxMultibulkCount,
      maxInlineBytes: o.maxInlineBytes,
      maxQueryBufferBytes: o.maxQueryBufferBytes,
    };
    const conn = new Connection(this.nextClientId++, socket, limits, !needsAuth, this.clock.now());
    conn.decoder.unauthenticated = needsAuth;
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(conn));
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return;
    this.stats.netInputBytes += chunk.length;
    conn.lastCommandAt = this.clock.now();
    const w = this.writer;
    w.resp3 = conn.resp === 3;
    const dec = conn.decoder;
    try {
      dec.feed(chunk);
      for (let argc = dec.next(); argc > 0; argc = dec.next()) {
        this.execute(conn, dec, argc, w);
        if (conn.closing) break;
      }
    } catch (err) {
      if (!(err instanceof RespProtocolError)) throw err;
      this.stats.protocolErrors++;
      w.error(errProtocol(err.message));
      conn.closing = true;
    }
    const socket = conn.socket;
    if (socket.destroyed) {
      w.discard();
      return;
    }
    const out = w.take();
    if (out.length === 1) {
      this.stats.netOutputBytes += out[0]!.length;
      socket.write(out[0]!);
    } else if (out.length > 1) {
      socket.cork();
      for (const b of out) {
        this.stats.netOutputBytes += b.length;
        socket.write(b);
      }
      socket.uncork();
    }
    if (conn.closing) {
      socket.end();
      return;
    }
    const limit = this.options.maxOutputBufferBytes;
    if (limit > 0 && socket.writableLength > limit) {
      // A client that does not read its replies: disconnect rather than buffer without bound (Redis's
      // client-output-buffer-limit).
      this.stats.outputLimitDisconnects++;
      this.logger.warn({ client: conn.address, pending: socket.writableLength }, 'client output buffer limit exceeded; closing');
      socket.destroy();
    }
  }

  private execute(conn: Connection, req: RequestDecoder, argc: number, w: ReplyWriter): void {
    this.stats.commandsProcessed++;
    const name = req.str(0);
    const spec = this.commands.get(name);
    if (spec === undefined) {
      const lower = name.toLowerCase();
      if (lower === 'post' || lower === 'host:') {
        // An HTTP request on the RESP port (a browser, or a cross-protocol attack): close without a reply, as Redis.
        this.logger.warn({ client: conn.address }, 'HTTP request on the RESP port; closing');
        conn.closing = true;
        conn.socket.destroy();
        return;
      }
      if (!conn.authenticated) return w.error(ERR_NOAUTH);
      const args: string[] = [];
      for (let i = 1; i < argc && i < 6; i++) args.push(req.str(i));
      return w.error(errUnknownCommand(name, args));
    }
    if (!conn.authenticated && (spec.flags & CMD_NO_AUTH) === 0) return w.error(ERR_NOAUTH);
    const arity = spec.arity;
    if (arity > 0 ? argc !== arity : argc < -arity) return w.error(errWrongArity(spec.name));
    let partition = -1;
    if (spec.firstKey > 0 && argc > spec.firstKey) {
      const view = this.view;
      if (!view.ready) {
        this.stats.clusterDown++;
        return w.error(ERR_CLUSTERDOWN);
      }
      const slot = slotOfArg(req, spec.firstKey);
      if (spec.lastKey !== spec.firstKey && this.options.crossSlotCheck) {
        const last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey;
        for (let i = spec.firstKey + spec.step; i <= last; i += spec.step) {
          if (slotOfArg(req, i) !== slot) {
            this.stats.crossSlot++;
            return w.error(ERR_CROSSSLOT);
          }
        }
      }
      partition = view.partitionOfSlot(slot);
      if (view.owned[partition] !== 1) {
        if (view.pending[partition] === 1) {
          // The partition is changing hands (this node is about to serve it, or just stopped): a redirect now would
          // bounce the client between the two nodes; ask it to retry shortly instead.
          this.stats.tryAgain++;
          return w.error(ERR_TRYAGAIN_HANDOVER);
        }
        if (conn.readonly && (spec.flags & CMD_READONLY) !== 0 && view.readable[partition] === 1) {
          this.stats.backupReads++;
          return this.run(spec, conn, req, w, partition);
        }
        const moved = view.movedReply(slot);
        if (moved === null) {
          this.stats.clusterDown++;
          return w.error(ERR_CLUSTERDOWN_UNBOUND);
        }
        this.stats.moved++;
        conn.asking = false;
        return w.error(moved);
      }
    }
    this.run(spec, conn, req, w, partition);
  }

  private run(spec: CommandSpec, conn: Connection, req: RequestDecoder, w: ReplyWriter, partition: number): void {
    const started = performance.now();
    try {
      spec.handler(this, conn, req, w, partition);
    } catch (err) {
      w.error(errorReplyOf(err));
      if (!(err instanceof Error && 'code' in err)) this.logger.error({ err, command: spec.name }, 'command failed');
    }
    this.commandStats.record(spec.name, performance.now() - started);
    if (spec.name !== 'asking') conn.asking = false;
  }
}
