import { keySlot } from '../hashing/slot.js';
import type { PartitionTable } from '../partitioning/table.js';
import type { Member } from '../partitioning/member.js';
import type { MemberEvent, MemberEventType } from '../protocol/control.js';
import { CLIENT_ERRORS, NODE_ERRORS, errorFrom } from '../protocol/errors/index.js';
import type { CommandArg } from '../protocol/resp/command-encoder.js';
import { RespError, type RespReply } from '../protocol/resp/reply-decoder.js';
import { isRingleaderError, type RingleaderError } from '../shared/errors.js';
import { TypedEvents } from '../shared/events.js';
import { ConnectionPool } from './pool.js';
import { resolveClientOptions, retryBackoffMs, tryAgainBackoffMs, type ClientInput, type ClientOptions } from './options.js';
import { parseRedirect } from './redirect.js';
import { decideRetry, type AttemptFailure } from './retry.js';
import { isReadCommand } from './commands.js';
import { groupBySlot, locateKey, type KeyLocation } from './router.js';
import { CoordinatorTableSource, type TableSource } from './table-source.js';
import { Loader, type GetOrLoadOptions, type LoadResult } from './loader.js';

/** A membership change, delivered together with the member list of the table epoch that reflects it. */
export interface MembershipChange {
  readonly type: MemberEventType;
  readonly member: Member;
  readonly epoch: number;
  readonly members: readonly Member[];
}

/** A new table epoch the client now routes by. */
export interface TopologyChange {
  readonly epoch: number;
  readonly previousEpoch: number | null;
  readonly table: PartitionTable;
  /** Partitions whose primary differs from the previous table (all of them for the first table). */
  readonly movedPartitions: number;
}

/**
 * Client events. Listeners must not throw or block (an exception is caught and logged).
 * - `membership`: a member joined / became active / suspect / dead / is leaving / left.
 * - `topology`: the client adopted a newer table.
 */
export interface ClientEvents {
  membership: (change: MembershipChange) => void;
  topology: (change: TopologyChange) => void;
}

export interface SetOptions {
  /** Expire after this many milliseconds (SET ... PX). */
  ttlMs?: number;
  /** Only set when the key does not exist. */
  nx?: boolean;
  /** Only set when the key exists. */
  xx?: boolean;
}

export type Value = string | Buffer;

/**
 * The smart client: keeps the current partition table (pushed by the coordinator's watch stream), routes every
 * command straight to the key's primary (reads, with readFrom 'any', to any serving copy) over pooled, pipelined RESP
 * connections, follows MOVED/ASK, and retries refusals (TRYAGAIN/CLUSTERDOWN/NOREPLICAS, connections that failed before
 * sending) with backoff and table refreshes for up to retryBudgetMs. Reads are also resent after a lost reply; a write
 * that may have reached a node is never resent: its caller gets OUTCOME_UNKNOWN. Every call settles: with its result
 * or a RingleaderError whose `code` is in docs/ERRORS.md.
 */
export class Ringleader {
  readonly options: ClientOptions;
  private readonly events: TypedEvents<ClientEvents>;
  private readonly pool: ConnectionPool;
  private readonly source: TableSource;
  private readonly loader: Loader;
  private current: PartitionTable | null = null;
  private refreshing: Promise<void> | null = null;
  private pendingMembership: MemberEvent[] = [];
  private closed = false;
  private firstTable: { resolve: () => void; promise: Promise<void> };

  /** Use Ringleader.connect(); the constructor is public for tests that bring their own TableSource. */
  constructor(input: ClientInput, source?: TableSource) {
    this.options = resolveClientOptions(input);
    const o = this.options;
    this.events = new TypedEvents<ClientEvents>((err) => o.logger.error({ err }, 'client listener threw'));
    this.pool = new ConnectionPool({ commandTimeoutMs: o.commandTimeoutMs, password: o.password, readonly: o.readFrom === 'any', clock: o.clock }, o.connectionsPerNode);
    this.source = source ?? new CoordinatorTableSource(o.coordinators, o.clock, o.logger, o.coordinatorToken ?? null);
    this.loader = new Loader(this, o);
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstTable = { resolve, promise };
    this.source.subscribe((t) => this.adopt(t), (e) => this.pendingMembership.push(e));
  }

  /** Connects to the coordinators and resolves once the first table arrived (NO_TABLE after connectTimeoutMs). */
  static async connect(input: ClientInput): Promise<Ringleader> {
    const client = new Ringleader(input);
    await client.ready();
    return client;
  }

  /** Resolves when the client has a table; rejects with NO_TABLE after connectTimeoutMs. */
  async ready(): Promise<void> {
    if (this.current) return;
    const o = this.options;
    let timer: { cancel(): void } | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = o.clock.setTimeout(() => reject(errorFrom(CLIENT_ERRORS.NO_TABLE, `no partition table from ${o.coordinators.join(', ')} within ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
    });
    // The clock's timers are unref'd (a client must not keep a process alive), so while someone awaits this promise a
    // ref'd timer holds the event loop open: otherwise a script whose only work is `await connect()` would exit
    // (code 13, unsettled top-level await) instead of seeing NO_TABLE.
    const hold = setTimeout(() => undefined, o.connectTimeoutMs + 1000);
    // The watch may be slow to deliver (reconnect backoff): also ask directly.
    this.refresh();
    try {
      await Promise.race([this.firstTable.promise, timeout]);
    } catch (err) {
      this.close();
      throw err;
    } finally {
      clearTimeout(hold);
      (timer as { cancel(): void } | null)?.cancel();
    }
  }

  on<K extends keyof ClientEvents>(event: K, fn: ClientEvents[K]): () => void {
    return this.events.on(event, fn);
  }

  /** The table the client routes by (null before the first). */
  get table(): PartitionTable | null {
    return this.current;
  }

  /** Where a key lives in the current table. */
  locate(key: string): KeyLocation {
    if (!this.current) throw errorFrom(CLIENT_ERRORS.NO_TABLE, 'no partition table yet');
    return locateKey(this.current, key);
  }

  async get(key: string): Promise<string | null> {
    const r = await this.exec(keySlot(key), ['GET', key], true);
    return r === null ? null : asBuffer(r, 'GET').toString('utf8');
  }

  async getBuffer(key: string): Promise<Buffer | null> {
    const r = await this.exec(keySlot(key), ['GET', key], true);
    return r === null ? null : asBuffer(r, 'GET');
  }

  /**
   * SET with optional PX/NX/XX; true when written, false when NX/XX prevented it. A write: retried while refused
   * (MOVED, TRYAGAIN, CLUSTERDOWN, connection refused), never resent once it may have reached a node (then
   * OUTCOME_UNKNOWN).
   */
  async set(key: string, value: Value, options: SetOptions = {}): Promise<boolean> {
    const args: CommandArg[] = ['SET', key, value];
    if (options.ttlMs !== undefined) {
      if (!Number.isInteger(options.ttlMs) || options.ttlMs <= 0) throw new TypeError(`ttlMs must be a positive integer, got ${options.ttlMs}`);
      args.push('PX', options.ttlMs);
    }
    if (options.nx && options.xx) throw new TypeError('nx and xx are exclusive');
    if (options.nx) args.push('NX');
    if (options.xx) args.push('XX');
    const r = await this.exec(keySlot(key), args, false);
    return r !== null;
  }

  /** Deletes keys (split by slot); resolves with how many existed. */
  async del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const groups = groupBySlot(keys);
    const counts = await Promise.all([...groups].map(([slot, idx]) => this.exec(slot, ['DEL', ...idx.map((i) => keys[i]!)], false)));
    return counts.reduce<number>((a, r) => a + asInteger(r, 'DEL'), 0);
  }

  /** Values of `keys` in order (null for missing), with one MGET per slot. */
  async mget(keys: readonly string[]): Promise<Array<string | null>> {
    const out = new Array<string | null>(keys.length).fill(null);
    const groups = groupBySlot(keys);
    await Promise.all(
      [...groups].map(async ([slot, idx]) => {
        const r = await this.exec(slot, ['MGET', ...idx.map((i) => keys[i]!)], true);
        if (!Array.isArray(r) || r.length !== idx.length) throw unexpected('MGET', r);
        idx.forEach((i, j) => {
          const v = r[j];
          out[i] = v === null || v === undefined ? null : asBuffer(v, 'MGET').toString('utf8');
        });
      }),
    );
    return out;
  }

  /** Sets several keys, one MSET per slot (atomic per slot, not across slots). */
  async mset(entries: Record<string, Value> | ReadonlyArray<readonly [string, Value]>): Promise<void> {
    const list: ReadonlyArray<readonly [string, Value]> = Array.isArray(entries) ? entries : Object.entries(entries as Record<string, Value>);
    const keys = list.map(([k]) => k);
    const groups = groupBySlot(keys);
    await Promise.all([...groups].map(([slot, idx]) => this.exec(slot, ['MSET', ...idx.flatMap((i) => [list[i]![0], list[i]![1]])], false)));
  }

  /** INCRBY (default 1); never resent once it may have reached the node (OUTCOME_UNKNOWN). */
  async incr(key: string, by = 1): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new TypeError(`by must be a safe integer, got ${by}`);
    const r = await this.command(key, by === 1 ? ['INCR', key] : ['INCRBY', key, by], false);
    return asInteger(r, 'INCR');
  }

  /** PEXPIRE: true when the key exists. */
  async expire(key: string, ttlMs: number): Promise<boolean> {
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new TypeError(`ttlMs must be a positive integer, got ${ttlMs}`);
    return asInteger(await this.command(key, ['PEXPIRE', key, ttlMs], false), 'PEXPIRE') === 1;
  }

  /** PTTL: remaining milliseconds, -1 without expiry, -2 when the key does not exist. */
  async ttl(key: string): Promise<number> {
    return asInteger(await this.command(key, ['PTTL', key], true), 'PTTL');
  }

  /**
   * Read-through with cold-start protection: returns the cached value, or runs `loader` once across every caller in
   * this process and (through a lease on the key's primary) across the cluster, caches its result and returns it.
   */
  async getOrLoad(key: string, loader: () => Promise<Value>, options: GetOrLoadOptions = {}): Promise<string> {
    return (await this.loader.getOrLoad(key, loader, options)).value;
  }

  /** getOrLoad that also says where the value came from (`cache`, `stale`, `loader`, `peer`). */
  getOrLoadDetailed(key: string, loader: () => Promise<Value>, options: GetOrLoadOptions = {}): Promise<LoadResult> {
    return this.loader.getOrLoad(key, loader, options);
  }

  /**
   * Runs any single-key command routed by `key` (escape hatch; replies are raw RESP values). `resendable` (default:
   * true for read commands only) allows sending it again when a reply was lost; otherwise that ends in OUTCOME_UNKNOWN.
   */
  command(key: string, args: readonly CommandArg[], resendable: boolean = isReadCommand(String(args[0]))): Promise<RespReply> {
    return this.exec(keySlot(key), args, resendable);
  }

  /** Stops the watch and closes every connection; pending commands fail with CONNECTION_CLOSED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.close();
    this.pool.closeAll();
  }

  /**
   * One command to a slot's owner, with the retry policy of retry.ts. Why a loop and not recursion: attempts,
   * the redirect address and ASKING carry over between iterations, and the bound is visible in one place.
   * `resendable`: the command may be sent again after it may have reached a node (reads, and writes whose repeat is
   * harmless such as getOrLoad's cache fills); otherwise a lost reply ends in OUTCOME_UNKNOWN. It defaults to whether
   * the command is a read (commands.ts).
   */
  async exec(slot: number, args: readonly CommandArg[], resendable: boolean = isReadCommand(String(args[0]))): Promise<RespReply> {
    const o = this.options;
    const command = String(args[0]).toUpperCase();
    // readFrom 'any': a read may go to a backup first; after any trouble there it goes to the primary.
    let fromAny = o.readFrom === 'any' && isReadCommand(command);
    let address: string | null = null;
    let asking = false;
    let retries = 0;
    let tryAgains = 0;
    let previous: AttemptFailure | null = null;
    let lastError: RingleaderError | null = null;
    const started = o.clock.monotonic();
    const outOfTime = (waitMs: number): boolean => o.clock.monotonic() - started + waitMs > o.retryBudgetMs;
    for (let attempt = 0; attempt < o.maxAttempts; attempt++) {
      if (this.closed) throw errorFrom(CLIENT_ERRORS.CLIENT_CLOSED, 'client closed');
      let failure: AttemptFailure;
      let target = address;
      let onBackup = false;
      if (target === null) {
        if (o.localStore !== undefined && !asking) {
          const r = o.localStore.execute(args);
          if (r !== undefined) {
            if (!(r instanceof RespError)) return r;
            throw errorFrom(CLIENT_ERRORS.SERVER_ERROR, r.message, { prefix: r.prefix, address: 'local' });
          }
        }
        const pick = this.route(slot, fromAny);
        target = pick?.address ?? null;
        onBackup = pick?.backup ?? false;
      }
      if (target === null) {
        failure = { kind: 'no-owner' };
        lastError = errorFrom(CLIENT_ERRORS.NO_OWNER, `no owner for slot ${slot} in table epoch ${this.current?.epoch ?? 'none'}`, { slot });
      } else {
        let reply: RespReply;
        try {
          const conn = this.pool.get(target);
          if (asking) void conn.send(['ASKING']).catch(() => {});
          reply = await conn.send(args);
        } catch (err) {
          if (!isRingleaderError(err) || (err.code !== CLIENT_ERRORS.CONNECTION_CLOSED.code && err.code !== CLIENT_ERRORS.COMMAND_TIMEOUT.code)) throw err;
          const sent = err.details?.sent === true;
          lastError = err;
          if (onBackup) {
            // A read to a backup that failed: the primary next, at once (reads are resendable).
            this.refresh();
            fromAny = false;
            continue;
          }
          failure = err.code === CLIENT_ERRORS.COMMAND_TIMEOUT.code ? { kind: 'timeout', sent } : { kind: 'connection', sent };
          const d = decideRetry(attempt, o.maxAttempts, failure, resendable, previous);
          previous = failure;
          if (d.refresh) this.refresh();
          if (d.outcomeUnknown) {
            throw errorFrom(NODE_ERRORS.OUTCOME_UNKNOWN, `${command} sent to ${target}: outcome unknown (${err.message}); not resent`, { command, address: target, reason: err.code }, err);
          }
          if (!d.retry) throw err;
          const wait = retryBackoffMs(o, retries++);
          if (outOfTime(wait)) throw err;
          await this.sleep(wait);
          address = null;
          asking = false;
          continue;
        }
        if (!(reply instanceof RespError)) return reply;
        if (reply.prefix === NODE_ERRORS.OUTCOME_UNKNOWN.resp) {
          // The node applied the write but could not confirm its replication (sync mode, partition changing hands).
          throw errorFrom(NODE_ERRORS.OUTCOME_UNKNOWN, `${command} on ${target}: ${reply.message}`, { command, address: target, reason: reply.prefix });
        }
        const redirect = parseRedirect(reply);
        if (onBackup && redirect !== null) {
          // The backup's copy is not complete (or it does not serve reads): the primary answers.
          lastError = errorFrom(CLIENT_ERRORS.RETRIES_EXHAUSTED, `${command}: backup ${target} answered ${reply.prefix}`, { slot, last: reply.message });
          fromAny = false;
          continue;
        }
        if (redirect === null) throw errorFrom(CLIENT_ERRORS.SERVER_ERROR, reply.message, { prefix: reply.prefix, address: target });
        failure = { kind: 'redirect', redirect };
        lastError = errorFrom(CLIENT_ERRORS.RETRIES_EXHAUSTED, `${command}: still ${reply.prefix} after ${attempt + 1} attempts (last: ${reply.message})`, { slot, last: reply.message });
      }
      const d = decideRetry(attempt, o.maxAttempts, failure, resendable, previous);
      previous = failure;
      if (d.refresh) this.refresh();
      if (!d.retry) break;
      address = d.address;
      asking = d.asking;
      const wait = d.delay === 'backoff' ? retryBackoffMs(o, retries++) : d.delay === 'tryagain' ? tryAgainBackoffMs(o, tryAgains++) : 0;
      if (outOfTime(wait)) break;
      if (wait > 0) await this.sleep(wait);
    }
    throw lastError ?? errorFrom(CLIENT_ERRORS.RETRIES_EXHAUSTED, 'out of attempts');
  }

  /**
   * The address a command for `slot` goes to: the primary, or with `anyCopy` one of the serving copies (primary and
   * backups) at random. `backup` says the pick is not the primary. Null when the table has no primary for the slot.
   */
  private route(slot: number, anyCopy: boolean): { address: string; backup: boolean } | null {
    const t = this.current;
    const primary = t?.primaryOfSlot(slot);
    if (!t || primary === undefined) return null;
    if (anyCopy) {
      const ids = t.replicasOf(t.partitionOfSlot(slot));
      if (ids.length > 1) {
        const m = t.member(ids[Math.floor(this.options.random() * ids.length) % ids.length]!);
        if (m !== undefined && m.id !== primary.id) return { address: m.address, backup: true };
      }
    }
    return { address: primary.address, backup: false };
  }

  /** Fetches the table from the coordinator; at most one fetch in flight, failures are logged (the watch keeps going). */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.closed) return Promise.resolve();
    this.refreshing = this.source
      .fetch()
      .then((t) => this.adopt(t))
      .catch((err: unknown) => this.options.logger.debug({ err }, 'table refresh failed'))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /**
   * @internal Sleeps on the injected clock. Only awaited operations sleep (retry backoff, load polls), so the sleep
   * holds the process open meanwhile: the clock's timers are unref'd (an idle client must not keep a process alive),
   * and a script whose last work is `await cache.get()` during a retry would otherwise exit with code 13.
   */
  sleep(ms: number): Promise<void> {
    const hold = setTimeout(() => undefined, ms + 1000);
    return new Promise((resolve) =>
      this.options.clock.setTimeout(() => {
        clearTimeout(hold);
        resolve();
      }, ms),
    );
  }

  private adopt(table: PartitionTable): void {
    const prev = this.current;
    const events = this.pendingMembership.filter((e) => e.epoch <= table.epoch);
    this.pendingMembership = this.pendingMembership.filter((e) => e.epoch > table.epoch);
    if (prev && table.epoch <= prev.epoch) return;
    this.current = table;
    this.firstTable.resolve();
    this.pool.prune(new Set(table.members.map((m) => m.address)));
    if (this.events.has('membership')) {
      for (const e of events) this.events.emit('membership', { type: e.type, member: e.member, epoch: e.epoch, members: table.members });
    }
    if (this.events.has('topology')) {
      let moved = 0;
      for (let p = 0; p < table.partitionCount; p++) if (!prev || prev.partitionCount !== table.partitionCount || prev.primaryOf(p) !== table.primaryOf(p)) moved++;
      this.events.emit('topology', { epoch: table.epoch, previousEpoch: prev?.epoch ?? null, table, movedPartitions: moved });
    }
  }
}

function unexpected(command: string, r: unknown): RingleaderError {
  return errorFrom(CLIENT_ERRORS.UNEXPECTED_REPLY, `${command}: unexpected reply ${describe(r)}`);
}

function describe(r: unknown): string {
  if (r === null) return 'null';
  if (Buffer.isBuffer(r)) return `bulk(${r.length})`;
  if (Array.isArray(r)) return `array(${r.length})`;
  return typeof r;
}

function asBuffer(r: RespReply | undefined, command: string): Buffer {
  if (Buffer.isBuffer(r)) return r;
  if (typeof r === 'string') return Buffer.from(r, 'utf8');
  throw unexpected(command, r);
}

function asInteger(r: RespReply, command: string): number {
  if (typeof r === 'number') return r;
  if (typeof r === 'bigint') return Number(r);
  throw unexpected(command, r);
}
