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
import { ReplyWriter, RequestDecoder, RespProtocolError, UNAUTHENTICATED_LIMITS, splitReplies } from '../protocol/resp/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { ClusterView } from './cluster-view.js';
import { CMD_NO_AUTH, CMD_READONLY, CMD_SERVED_KEYS, CMD_WRITE, type CommandContext, type CommandSpec, type CommandStat, type CommandTable, type MemorySettings, type ReplicationHandler, type ServerStats } from './commands/index.js';
import { Connection, type HeldReply } from './connection.js';
import { MULTI_IMMEDIATE, WatchRegistry, encodeQueued } from './transactions.js';
import { commandInfo } from './commands/command-docs.js';
import type { NodeServerOptions } from './options.js';
import { NODE_ERRORS } from '../protocol/errors/index.js';
import { errorText, ERR_NOREPLICAS, ERR_OUTCOME_UNKNOWN, ERR_CLUSTERDOWN, ERR_CLUSTERDOWN_UNBOUND, ERR_CROSSSLOT, ERR_NOAUTH, ERR_TRYAGAIN_HANDOVER, ERR_TRYAGAIN_LEASE, errProtocol, errUnknownCommand, errWrongArity, errorReplyOf } from './replies.js';
import { slotOfArg } from './slots.js';

const REPLY_OUTCOME_UNKNOWN = Buffer.from(`-${ERR_OUTCOME_UNKNOWN}\r\n`, 'latin1');
const ERR_MAX_CLIENTS = Buffer.from('-ERR max number of clients reached\r\n', 'latin1');
const REPLY_QUEUED = Buffer.from('+QUEUED\r\n', 'latin1');
const ERR_EXECABORT = errorText(NODE_ERRORS.EXECABORT, 'Transaction discarded because of previous errors.');
const ERR_MULTI_TOO_BIG = errorText(NODE_ERRORS.NOT_SUPPORTED, 'transaction too big: the queued commands exceed client-query-buffer-limit');

export class NodeServer implements CommandContext {
  store: Store | null = null;
  /** Calls and latency per command (the ringleader_node_command_duration_seconds histogram). */
  readonly commandStats = new CommandStats();
  readonly stats: ServerStats = {
    connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0, protocolErrors: 0, outputLimitDisconnects: 0,
    moved: 0, crossSlot: 0, clusterDown: 0, netInputBytes: 0, netOutputBytes: 0, tryAgain: 0, backupReads: 0, errorReplies: 0,
    leaseRefused: 0, leaseLateCloses: 0,
  };
  /** INFO commandstats: calls, time, rejected and failed calls per command or `container|sub`. */
  readonly commandCounters = new Map<string, CommandStat>();
  readonly errorStats = new Map<string, number>();
  activeExpire = true;
  readonly memory: MemorySettings;
  /** The replication stream (cluster mode), for the RL.* commands; null in standalone mode. */
  replication: ReplicationHandler | null = null;
  readonly startedAt: number;
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly writer = new ReplyWriter();
  private readonly watches = new WatchRegistry();
  /** INFO commandstats entries of plain (non-container) commands, by spec. */
  private statBySpec = new WeakMap<CommandSpec, CommandStat>();
  /** The last plain command's name as sent, its spec and stat (see sameNameAsLast). */
  private lastName: Uint8Array = new Uint8Array(0);
  private lastSpec: CommandSpec | null = null;
  private lastStat: CommandStat | null = null;
  /** `container|sub` -> Redis's arity of that subcommand, for the implemented subcommands Redis has. */
  private readonly subcommandArity = new Map<string, number>();
  /** Where suppressed replies go (CLIENT REPLY OFF/SKIP); emptied after each command. */
  private readonly sink = new ReplyWriter();
  private nextClientId = 1;
  /** The current read's replies include answers about served keys, given under the lease (re-checked before writing). */
  private leasedReplies = false;
  /** performance.now() at the start of the open timing group (see run()). */
  private clockMark = 0;
  /** The open timing group of run(): its command, stat and calls so far. */
  private groupSpec: CommandSpec | null = null;
  private groupStat: CommandStat | undefined;
  private groupCount = 0;
  /** The stat of the command execute() is running, for run(). */
  private currentStat: CommandStat | undefined;
  private boundPort = 0;

  constructor(
    readonly options: NodeServerOptions,
    readonly view: ClusterView,
    readonly commands: CommandTable,
    private readonly clock: Clock,
    private readonly logger: Logger,
    memory: MemorySettings = { maxMemoryBytes: 0, evictionPolicy: 'allkeys-lru' },
  ) {
    this.memory = { ...memory };
    for (const spec of commands.all()) {
      if (spec.subcommands === undefined) continue;
      const info = commandInfo(spec);
      const subs = Array.isArray(info) ? info[9] : undefined;
      const entries = Array.isArray(subs) ? subs : typeof subs === 'object' && subs !== null && '~' in subs ? subs['~'] : [];
      for (const e of entries) if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number') this.subcommandArity.set(e[0], e[1]);
    }
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

  clients(): Iterable<Connection> {
    return this.connections;
  }

  random(): number {
    return Math.random();
  }

  /** True when request argument 0 has the bytes of the last plain command's name as it was sent. */
  private sameNameAsLast(req: RequestDecoder): boolean {
    const name = this.lastName;
    const start = req.argStart(0);
    const len = req.argEnd(0) - start;
    if (name.length !== len || this.lastSpec === null) return false;
    const buf = req.argBuffer(0);
    for (let i = 0; i < len; i++) if (buf[start + i] !== name[i]) return false;
    return true;
  }

  /** Keeps the name bytes of a plain command (up to 32 bytes) with its spec and stat, for sameNameAsLast. */
  private rememberName(req: RequestDecoder, spec: CommandSpec, stat: CommandStat): void {
    const start = req.argStart(0);
    const len = req.argEnd(0) - start;
    if (len > 32) return;
    this.lastName = Uint8Array.prototype.slice.call(req.argBuffer(0), start, start + len);
    this.lastSpec = spec;
    this.lastStat = stat;
  }

  /** CONFIG RESETSTAT: zeroes the counters INFO shows (not the gauges). */
  resetStats(): void {
    const s = this.stats;
    s.connectionsReceived = s.commandsProcessed = s.rejectedConnections = s.protocolErrors = s.outputLimitDisconnects = 0;
    s.moved = s.crossSlot = s.clusterDown = s.netInputBytes = s.netOutputBytes = s.errorReplies = s.tryAgain = s.backupReads = 0;
    s.leaseRefused = s.leaseLateCloses = 0;
    this.commandCounters.clear();
    this.statBySpec = new WeakMap();
    this.lastSpec = null; // its cached stat object was just dropped
    this.errorStats.clear();
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
    socket.on('close', () => {
      this.connections.delete(conn);
      this.watches.unwatchAll(conn);
    });
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return;
    this.stats.netInputBytes += chunk.length;
    conn.lastCommandAt = this.clock.now();
    const w = this.writer;
    w.resp3 = conn.resp === 3;
    const dec = conn.decoder;
    this.leasedReplies = false;
    this.clockMark = performance.now();
    const repl = this.replication;
    try {
      dec.feed(chunk);
      for (let argc = dec.next(); argc > 0; argc = dec.next()) {
        if (repl === null) {
          this.execute(conn, dec, argc, w);
        } else {
          // Writes made outside a command (expiry, eviction) are nobody's reply.
          repl.takeWrites();
          const mark = w.pending;
          this.execute(conn, dec, argc, w);
          const writes = repl.takeWrites();
          if (writes !== null) this.afterWrites(conn, writes.writes, writes.needsAcks, w, mark);
          if (conn.pendingWait !== null) this.holdForWait(conn, w, mark);
        }
        if (conn.closing) break;
      }
    } catch (err) {
      if (!(err instanceof RespProtocolError)) throw err;
      this.stats.protocolErrors++;
      w.error(errProtocol(err.message));
      conn.closing = true;
    } finally {
      this.endTimingGroup();
    }
    const socket = conn.socket;
    if (socket.destroyed) {
      w.discard();
      return;
    }
    if (this.leaseLapsedSinceRun(conn)) {
      w.discard();
      return;
    }
    const out = w.take();
    if (conn.held !== null) {
      // Replies after a held one wait their turn (a pipeline's replies stay in order).
      if (out.length > 0) conn.held.push({ bufs: out, done: true, ok: true });
      if (conn.closing) this.flushHeld(conn);
      return;
    }
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
      // Close both ways once the reply is flushed, as Redis does (a half-open socket would keep swallowing input).
      socket.end(() => socket.destroy());
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

  /**
   * After a command that wrote: remembers the offsets for WAIT and, in sync mode when the partition has in-sync
   * backups, holds the command's reply (the bytes after `mark`) until they acknowledged every entry it produced.
   */
  private afterWrites(conn: Connection, writes: number[], needsAcks: boolean, w: ReplyWriter, mark: number): void {
    const last = conn.lastWrites ?? (conn.lastWrites = new Map());
    for (let i = 0; i < writes.length; i += 2) last.set(writes[i]!, writes[i + 1]!);
    if (!needsAcks) return;
    const [before, reply] = splitReplies(w.take(), mark);
    this.emit(conn, before);
    const held: HeldReply = { bufs: reply, done: false, ok: true };
    (conn.held ??= []).push(held);
    this.replication!.holdReply(writes, (ok) => {
      held.done = true;
      held.ok = ok;
      this.flushHeld(conn);
    });
  }

  /** WAIT: its reply (the count) is held until enough followers acknowledged the connection's writes, or the timeout. */
  private holdForWait(conn: Connection, w: ReplyWriter, mark: number): void {
    const { replicas, timeoutMs } = conn.pendingWait!;
    conn.pendingWait = null;
    const [before] = splitReplies(w.take(), mark);
    this.emit(conn, before);
    const held: HeldReply = { bufs: [], done: false, ok: true };
    (conn.held ??= []).push(held);
    const writes: number[] = [];
    for (const [p, o] of conn.lastWrites ?? []) writes.push(p, o);
    const answer = (n: number) => {
      held.bufs = [Buffer.from(`:${n}\r\n`, 'latin1')];
      held.done = true;
      this.flushHeld(conn);
    };
    if (writes.length === 0) answer(0);
    else this.replication!.waitReplicas(writes, replicas, timeoutMs, answer);
  }

  /**
   * True (and the connection destroyed) when replies of this read were given under the lease and it lapsed before
   * they could leave: this process was paused between running the commands and writing their replies. Answering now
   * could acknowledge a write a new primary never saw (one not held for backups) or, later still, hand out what it
   * has overwritten. The replies cannot be swapped one by one, so the connection closes unanswered; the commands'
   * outcome is unknown to the client (a write among them may have been applied here).
   */
  private leaseLapsedSinceRun(conn: Connection): boolean {
    if (!this.leasedReplies || this.view.lease.valid()) return false;
    this.stats.leaseLateCloses++;
    this.logger.warn({ client: conn.address }, 'lease lapsed between running commands and replying; closing the connection unanswered');
    conn.closing = true; // the rest of this read is not run
    conn.socket.destroy();
    return true;
  }

  /** Writes chunks now, or queues them behind held replies. */
  private emit(conn: Connection, chunks: Buffer[]): void {
    if (chunks.length === 0 || this.leaseLapsedSinceRun(conn)) return;
    if (conn.held !== null) conn.held.push({ bufs: chunks, done: true, ok: true });
    else this.writeOut(conn.socket, chunks);
  }

  /**
   * Writes the held replies that are settled, in order, up to the first that is not. No lease check here: a held
   * write is released only once every in-sync backup applied it (a backup fenced for a new term never acknowledges:
   * the reply becomes OUTCOMEUNKNOWN), so acknowledging it is safe even if the lease lapsed meanwhile; the replies
   * queued behind it were produced under a valid lease and checked again when the read that produced them ended.
   */
  private flushHeld(conn: Connection): void {
    const q = conn.held;
    if (q === null) return;
    let n = 0;
    while (n < q.length && q[n]!.done) n++;
    if (n === 0) return;
    const ready = q.splice(0, n);
    if (q.length === 0) conn.held = null;
    const socket = conn.socket;
    if (socket.destroyed) return;
    const chunks: Buffer[] = [];
    for (const h of ready) {
      if (h.ok) chunks.push(...h.bufs);
      else {
        chunks.push(REPLY_OUTCOME_UNKNOWN);
        this.stats.errorReplies++;
        this.errorStats.set('OUTCOMEUNKNOWN', (this.errorStats.get('OUTCOMEUNKNOWN') ?? 0) + 1);
      }
    }
    this.writeOut(socket, chunks);
    if (conn.held === null && conn.closing) socket.end(() => socket.destroy());
  }

  private writeOut(socket: Socket, chunks: Buffer[]): void {
    if (socket.destroyed) return;
    if (chunks.length === 1) {
      this.stats.netOutputBytes += chunks[0]!.length;
      socket.write(chunks[0]!);
      return;
    }
    socket.cork();
    for (const b of chunks) {
      this.stats.netOutputBytes += b.length;
      socket.write(b);
    }
    socket.uncork();
  }

  private execute(conn: Connection, req: RequestDecoder, argc: number, out: ReplyWriter, inExec = false): void {
    this.stats.commandsProcessed++;
    // CLIENT REPLY OFF/SKIP: the command runs, its replies (errors included) go to a writer that is discarded.
    // Not inside EXEC: its array announced one reply per queued command.
    let w = out;
    if (!inExec && (conn.replyOff || conn.replySkip) && !repliesBackOn(conn, req, argc)) {
      w = this.sink;
      w.resp3 = out.resp3;
    }
    const errorsBefore = w.errors;
    let spec: CommandSpec | undefined;
    let stat: CommandStat | undefined;
    if (this.sameNameAsLast(req)) {
      // The same name as the last plain command (a pipeline of one command, most loads): no name string, no lookups.
      spec = this.lastSpec!;
      stat = this.lastStat!;
      conn.lastCommand = spec.name;
    } else {
      spec = this.commands.get(req.str(0));
    }
    if (spec !== undefined && stat === undefined) {
      if (spec.subcommands === undefined) {
        // Plain commands: the stat object is cached per spec (a WeakMap hit, cheaper than hashing the name).
        stat = this.statBySpec.get(spec);
        if (stat === undefined) {
          stat = { calls: 0, usec: 0, rejected: 0, failed: 0 };
          this.statBySpec.set(spec, stat);
          this.commandCounters.set(spec.name, stat);
        }
        conn.lastCommand = spec.name;
        this.rememberName(req, spec, stat);
      } else {
        const statName = argc > 1 ? `${spec.name}|${req.str(1).toLowerCase()}` : spec.name;
        stat = this.commandCounters.get(statName);
        if (stat === undefined && spec.subcommands.includes(statName.slice(spec.name.length + 1))) {
          stat = { calls: 0, usec: 0, rejected: 0, failed: 0 };
          this.commandCounters.set(statName, stat);
        }
        conn.lastCommand = statName;
      }
    }
    this.currentStat = stat;
    const queue = conn.multi !== null && !inExec && (spec === undefined || !MULTI_IMMEDIATE.has(spec.name));
    let ran: boolean;
    if (spec !== undefined && spec.name === 'exec' && argc !== 1 && conn.authenticated) {
      // Redis answers a refused EXEC with EXECABORT and the reason, and drops the transaction.
      this.discardTransaction(conn);
      this.watches.unwatchAll(conn);
      w.error(errorText(NODE_ERRORS.EXECABORT, `Transaction discarded because of: ${errWrongArity('exec').slice(4)}`));
      ran = false;
    } else {
      ran = this.dispatch(conn, spec, req, argc, w, queue);
    }
    // A command refused before running while in MULTI (unknown, arity, MOVED...; queued or not) makes EXEC answer
    // EXECABORT; errors of commands that ran (MULTI nested, WATCH inside MULTI) do not.
    if (conn.multi !== null && !inExec && !ran && w.errors !== errorsBefore) conn.multiDirty = true;
    if (stat !== undefined) {
      if (ran) {
        stat.calls++;
        if (w.errors !== errorsBefore) stat.failed++;
      } else if (w.errors !== errorsBefore) stat.rejected++;
    }
    if (w.errors !== errorsBefore) {
      this.stats.errorReplies += w.errors - errorsBefore;
      const msg = w.lastError;
      const sp = msg.indexOf(' ');
      const prefix = sp < 0 ? msg : msg.slice(0, sp);
      this.errorStats.set(prefix, (this.errorStats.get(prefix) ?? 0) + w.errors - errorsBefore);
    }
    if (w === this.sink) {
      this.sink.discard();
      out.resp3 = conn.resp === 3; // HELLO/RESET under CLIENT REPLY OFF/SKIP switched the protocol on the sink only
    }
    // SKIP drops the reply of the command after CLIENT REPLY SKIP itself.
    if (conn.replySkip) conn.replySkip = false;
    if (conn.replySkipNext) {
      conn.replySkipNext = false;
      conn.replySkip = true;
    }
  }

  /**
   * Checks auth, arity and key ownership, then runs the handler (or, with `queue`, queues the command of a MULTI
   * and answers QUEUED); true when the handler ran.
   */
  private dispatch(conn: Connection, spec: CommandSpec | undefined, req: RequestDecoder, argc: number, w: ReplyWriter, queue = false): boolean {
    if (spec === undefined) {
      const name = req.str(0);
      const lower = name.toLowerCase();
      if (lower === 'post' || lower === 'host:') {
        // An HTTP request on the RESP port (a browser, or a cross-protocol attack): close without a reply, as Redis.
        this.logger.warn({ client: conn.address }, 'HTTP request on the RESP port; closing');
        conn.closing = true;
        conn.socket.destroy();
        return false;
      }
      if (!conn.authenticated) {
        w.error(ERR_NOAUTH);
        return false;
      }
      const args: string[] = [];
      let shown = 0;
      for (let i = 1; i < argc && shown < 128; i++) {
        args.push(req.argLength(i) > 128 ? req.str(i).slice(0, 128) : req.str(i));
        shown += Math.min(req.argLength(i), 128) + 3;
      }
      w.error(errUnknownCommand(name, args));
      return false;
    }
    if (!conn.authenticated && (spec.flags & CMD_NO_AUTH) === 0) {
      w.error(ERR_NOAUTH);
      return false;
    }
    const arity = spec.arity;
    if (arity > 0 ? argc !== arity : argc < -arity) {
      w.error(errWrongArity(spec.name));
      return false;
    }
    if (spec.subcommands !== undefined) {
      // Containers (CLIENT, CONFIG...): Redis checks a known subcommand's arity before running it (a rejected call).
      const full = `${spec.name}|${req.str(1).toLowerCase()}`;
      const subArity = this.subcommandArity.get(full);
      if (subArity !== undefined && (subArity > 0 ? argc !== subArity : argc < -subArity)) {
        w.error(errWrongArity(full));
        return false;
      }
    }
    let partition = -1;
    if (spec.firstKey > 0 && argc > spec.firstKey) {
      const view = this.view;
      if (!view.ready) {
        this.stats.clusterDown++;
        w.error(ERR_CLUSTERDOWN);
        return false;
      }
      const slot = slotOfArg(req, spec.firstKey);
      if (spec.lastKey !== spec.firstKey && this.options.crossSlotCheck) {
        const last = spec.lastKey < 0 ? argc + spec.lastKey : Math.min(spec.lastKey, argc - 1);
        for (let i = spec.firstKey + spec.step; i <= last; i += spec.step) {
          if (slotOfArg(req, i) !== slot) {
            this.stats.crossSlot++;
            w.error(ERR_CROSSSLOT);
            return false;
          }
        }
      }
      if (queue && this.options.crossSlotCheck && !conn.multiDirty && !conn.watchDirty) {
        // Redis Cluster: every key of a transaction in one slot, checked at EXEC (-2 = two slots seen).
        if (conn.multiSlot === -1) conn.multiSlot = slot;
        else if (conn.multiSlot !== slot) conn.multiSlot = -2;
      }
      partition = view.partitionOfSlot(slot);
      if (view.owned[partition] !== 1) {
        if (view.pending[partition] === 1) {
          // The partition is changing hands (this node is about to serve it, or just stopped): a redirect now would
          // bounce the client between the two nodes; ask it to retry shortly instead.
          this.stats.tryAgain++;
          w.error(ERR_TRYAGAIN_HANDOVER);
          return false;
        }
        if (conn.readonly && (spec.flags & CMD_READONLY) !== 0 && view.readable[partition] === 1) {
          if (!queue && !this.underLease(w)) return false;
          this.stats.backupReads++;
          return this.run(spec, conn, req, w, partition);
        }
        const moved = view.movedReply(slot);
        conn.asking = false;
        if (moved === null) {
          this.stats.clusterDown++;
          w.error(ERR_CLUSTERDOWN_UNBOUND);
        } else {
          this.stats.moved++;
          w.error(moved);
        }
        return false;
      }
    }
    // The lease (C5), for keyed commands on partitions this node serves and for the keyless ones that read or write
    // every served partition (KEYS, SCAN...). Not for commands queued in MULTI (QUEUED says nothing about data):
    // EXEC checks it, then each queued command again as it runs.
    if ((partition >= 0 || (spec.flags & CMD_SERVED_KEYS) !== 0) && !queue && !this.underLease(w)) return false;
    if (!queue && partition >= 0 && (spec.flags & CMD_WRITE) !== 0 && this.replication !== null && !this.replication.enoughInSync(partition)) {
      w.error(ERR_NOREPLICAS);
      return false;
    }
    if (queue) {
      // Once the transaction is doomed (a refused command, or a WATCHed key written), Redis answers QUEUED but keeps
      // nothing: EXEC will not run it, and the commands no longer count in EXEC's slot check.
      if (conn.multiDirty || conn.watchDirty) {
        w.raw(REPLY_QUEUED);
        return false;
      }
      const bytes = encodeQueued(req, argc);
      if (conn.multiBytes + bytes.length > this.options.maxQueryBufferBytes) {
        w.error(ERR_MULTI_TOO_BIG);
        return false;
      }
      conn.multi!.push(bytes);
      conn.multiBytes += bytes.length;
      w.raw(REPLY_QUEUED);
      return false;
    }
    return this.run(spec, conn, req, w, partition);
  }

  /** Ends MULTI without running anything (the WATCHed keys stay until EXEC/DISCARD/UNWATCH decide). */
  private discardTransaction(conn: Connection): void {
    conn.multi = null;
    conn.multiBytes = 0;
    conn.multiDirty = false;
    conn.multiSlot = -1;
  }

  /** WATCH key: see transactions.ts. */
  watchKey(conn: Connection, partition: number, key: string): void {
    if (this.store !== null) this.watches.watch(this.store, this.view, conn, partition, key);
  }

  unwatchAll(conn: Connection): void {
    this.watches.unwatchAll(conn);
  }

  /**
   * EXEC of a connection in MULTI: EXECABORT when a queued command was refused; in cluster mode MOVED/TRYAGAIN
   * (and the transaction discarded) when its slot is no longer served here, as Redis Cluster; a null array when a
   * WATCHed key was touched; else every queued command through the normal path, replies in one array.
   */
  execTransaction(conn: Connection, w: ReplyWriter): void {
    const queued = conn.multi ?? [];
    const dirty = conn.multiDirty;
    const slot = conn.multiSlot;
    this.discardTransaction(conn);
    // Redis Cluster checks the transaction's keys as EXEC's own, before anything else.
    if (slot === -2) {
      this.stats.crossSlot++;
      this.watches.unwatchAll(conn);
      return w.error(ERR_CROSSSLOT);
    }
    if (slot >= 0) {
      const view = this.view;
      const p = view.partitionOfSlot(slot);
      if (view.owned[p] !== 1) {
        this.watches.unwatchAll(conn);
        if (view.pending[p] === 1) return w.error(ERR_TRYAGAIN_HANDOVER);
        return w.error(view.movedReply(slot) ?? ERR_CLUSTERDOWN_UNBOUND);
      }
      if (!this.underLease(w)) return this.watches.unwatchAll(conn);
    }
    if (dirty) {
      this.watches.unwatchAll(conn);
      return w.error(ERR_EXECABORT);
    }
    const touched = this.watches.touched(conn, this.store, this.view);
    this.watches.unwatchAll(conn);
    if (touched) return w.nilArray();
    w.array(queued.length);
    conn.inExec = true;
    try {
      for (const bytes of queued) {
        const d = new RequestDecoder();
        d.feed(bytes);
        const argc = d.next();
        this.execute(conn, d, argc, w, true);
      }
    } finally {
      conn.inExec = false;
    }
  }

  /**
   * True when the lease lets this node answer about its partitions' keys now (and notes that this read's replies
   * depend on it, so onData checks again before writing them); else answers -TRYAGAIN naming the lease.
   */
  private underLease(w: ReplyWriter): boolean {
    if (this.view.lease.valid()) {
      this.leasedReplies = true;
      return true;
    }
    this.stats.leaseRefused++;
    w.error(ERR_TRYAGAIN_LEASE);
    return false;
  }

  /**
   * Runs the handler (errors it throws become error replies) and times it for the latency histogram and INFO
   * commandstats; always true (the handler ran). Timing reads the clock once per group, not per call: consecutive
   * calls of one command in one read (a pipeline of GETs) share the group's time evenly, which runs from the end
   * of the call before the group (or the read's start) to the end of the group, parse and checks included.
   * EXEC and the commands it runs are timed one by one.
   */
  private run(spec: CommandSpec, conn: Connection, req: RequestDecoder, w: ReplyWriter, partition: number): boolean {
    const stat = this.currentStat;
    const exact = conn.inExec || spec.name === 'exec';
    if (exact) {
      this.endTimingGroup();
    } else if (spec !== this.groupSpec || stat !== this.groupStat) {
      // A new group (a container's subcommands each have their own stat).
      this.endTimingGroup();
      this.groupSpec = spec;
      this.groupStat = stat;
    }
    const started = exact ? performance.now() : 0;
    try {
      spec.handler(this, conn, req, w, partition);
    } catch (err) {
      w.error(errorReplyOf(err));
      if (!(err instanceof Error && 'code' in err)) this.logger.error({ err, command: spec.name }, 'command failed');
    }
    if (exact) {
      const ended = performance.now();
      this.clockMark = ended;
      this.commandStats.record(spec.name, ended - started);
      if (stat !== undefined) stat.usec += (ended - started) * 1000;
    } else {
      this.groupCount++;
    }
    if (spec.name !== 'asking') conn.asking = false;
    return true;
  }

  /** Closes the timing group of run(): one clock read, the time shared by its calls. */
  private endTimingGroup(): void {
    const spec = this.groupSpec;
    if (spec === null) return;
    const now = performance.now();
    const ms = now - this.clockMark;
    this.clockMark = now;
    if (this.groupCount > 0) {
      this.commandStats.record(spec.name, ms / this.groupCount, this.groupCount);
      if (this.groupStat !== undefined) this.groupStat.usec += ms * 1000;
    }
    this.groupSpec = null;
    this.groupStat = undefined;
    this.groupCount = 0;
  }
}

/**
 * Commands answered although replies are suppressed, because they turn them back on first: CLIENT REPLY ON (OFF
 * and SKIP) and RESET (OFF only: Redis's RESET leaves a pending SKIP in force).
 */
function repliesBackOn(conn: Connection, req: RequestDecoder, argc: number): boolean {
  if (argc === 1) return !conn.replySkip && req.str(0).toLowerCase() === 'reset';
  return argc === 3 && req.str(0).toLowerCase() === 'client' && req.str(1).toLowerCase() === 'reply' && req.str(2).toLowerCase() === 'on';
}
