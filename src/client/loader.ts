import { crc16, keySlot } from '../hashing/slot.js';
import { CLIENT_ERRORS, errorFrom } from '../protocol/errors/index.js';
import type { CommandArg } from '../protocol/resp/command-encoder.js';
import type { RespReply } from '../protocol/resp/reply-decoder.js';
import { isRingleaderError, type RingleaderError } from '../shared/errors.js';
import type { ClientOptions } from './options.js';
import { SingleFlight } from './single-flight.js';

export interface GetOrLoadOptions {
  /** TTL of the cached value, in ms. Omit for no expiry. */
  ttlMs?: number;
  /** Spread TTLs by up to this fraction (0.1 = +0..10%) so keys loaded together do not expire together. Default 0. */
  ttlJitter?: number;
  /**
   * After ttlMs, keep serving the old value for this long while one caller reloads it in the background.
   * Requires ttlMs. Default 0 (off).
   */
  staleWhileRevalidateMs?: number;
  /** Remember a loader failure in this process for this long (callers get the same error without a load). Default 0. */
  negativeTtlMs?: number;
}

export interface LoadResult {
  readonly value: string;
  /** cache: was cached; stale: served stale while a reload runs; loader: this call ran the loader; peer: another process loaded it. */
  readonly source: 'cache' | 'stale' | 'loader' | 'peer';
}

/** What the loader needs from the client: one command to a slot's owner. */
export interface SlotExecutor {
  exec(slot: number, args: readonly CommandArg[], idempotent: boolean): Promise<RespReply>;
  sleep(ms: number): Promise<void>;
}

/**
 * getOrLoad's cold-start protection, in two layers:
 * 1. In-process single-flight per key: N concurrent callers in this process make one attempt.
 * 2. Cluster-wide: a lease on the key's primary node, `SET <lockKey> <token> NX PX <leaseMs>`, where lockKey hashes to
 *    the key's slot (so it lives on the same primary and moves with it). The winner re-checks the key, runs the loader,
 *    writes the value, then releases the lease. Losers poll the key with growing intervals; when the lease disappears
 *    without a value (the loader failed or its process died) the next poller takes the lease and loads. So a crashed
 *    loader blocks others for at most leaseMs, and N callers anywhere cause one load while the lease holds.
 * Why a plain SET NX PX and not a custom node command: it works on every RESP node (ours and redis-server), is
 * replicated and migrated with the slot like any key, and the lease expiry comes from the node's TTL clock.
 * Caveat: if a load outlasts leaseMs, a second caller may load too (at most one extra load per lease period).
 */
export class Loader {
  private readonly flights = new SingleFlight<LoadResult>();
  private readonly revalidations = new SingleFlight<void>();
  private readonly negative = new Map<string, { until: number; error: RingleaderError }>();
  /** slot -> a short hash tag that hashes to it, for keys whose own text cannot serve as a tag (contain `}`). */
  private readonly slotTags = new Map<number, string>();
  /** Set once a server answered `unknown command` to RL.LOADUNLOCK (a plain Redis): use GET + DEL from then on. */
  private noUnlockCommand = false;

  constructor(
    private readonly exec: SlotExecutor,
    private readonly options: ClientOptions,
  ) {}

  getOrLoad(key: string, loader: () => Promise<string | Buffer>, opts: GetOrLoadOptions): Promise<LoadResult> {
    validate(opts);
    return this.flights.run(key, () => this.once(key, loader, opts));
  }

  private async once(key: string, loader: () => Promise<string | Buffer>, opts: GetOrLoadOptions): Promise<LoadResult> {
    const neg = this.negative.get(key);
    if (neg) {
      if (neg.until > this.options.clock.monotonic()) throw neg.error;
      this.negative.delete(key);
    }
    const slot = keySlot(key);
    const swr = (opts.staleWhileRevalidateMs ?? 0) > 0;
    const cached = await this.read(slot, key, swr);
    if (cached !== null) {
      if (swr && !cached.fresh) {
        void this.revalidations.run(key, () => this.revalidate(slot, key, loader, opts)).catch((err: unknown) => this.options.logger.warn({ err, key }, 'background revalidation failed'));
        return { value: cached.value, source: 'stale' };
      }
      return { value: cached.value, source: 'cache' };
    }
    return this.loadUnderLease(slot, key, loader, opts);
  }

  private async loadUnderLease(slot: number, key: string, loader: () => Promise<string | Buffer>, opts: GetOrLoadOptions): Promise<LoadResult> {
    const o = this.options;
    const lockKey = this.sideKey(slot, key, 'lock');
    const token = `${process.pid}-${Math.floor(o.random() * 2 ** 52).toString(36)}`;
    let poll = o.loadPollMinMs;
    const swr = (opts.staleWhileRevalidateMs ?? 0) > 0;
    // Bounded wait: a lease normally ends within loadLeaseMs (value written, released, or expired). If leases keep
    // being taken by others for twice that long without a value appearing, load without one rather than wait on.
    const giveUpAt = o.clock.monotonic() + 2 * o.loadLeaseMs;
    for (;;) {
      if (o.clock.monotonic() > giveUpAt) {
        const value = await this.runLoader(key, loader, opts);
        await this.write(slot, key, value, opts);
        return { value, source: 'loader' };
      }
      const acquired = (await this.exec.exec(slot, ['SET', lockKey, token, 'PX', o.loadLeaseMs, 'NX'], false)) !== null;
      if (acquired) {
        try {
          // Another caller may have written the value between our miss and our lease.
          const again = await this.read(slot, key, swr);
          if (again !== null) return { value: again.value, source: 'peer' };
          const value = await this.runLoader(key, loader, opts);
          await this.write(slot, key, value, opts);
          return { value, source: 'loader' };
        } finally {
          await this.release(slot, lockKey, token);
        }
      }
      await this.exec.sleep(poll);
      poll = Math.min(o.loadPollMaxMs, poll * 2);
      const v = await this.read(slot, key, swr);
      if (v !== null) return { value: v.value, source: 'peer' };
    }
  }

  private async revalidate(slot: number, key: string, loader: () => Promise<string | Buffer>, opts: GetOrLoadOptions): Promise<void> {
    const o = this.options;
    const lockKey = this.sideKey(slot, key, 'lock');
    const token = `${process.pid}-${Math.floor(o.random() * 2 ** 52).toString(36)}`;
    // One reloader cluster-wide; the others keep serving stale until the fresh marker is back.
    if ((await this.exec.exec(slot, ['SET', lockKey, token, 'PX', o.loadLeaseMs, 'NX'], false)) === null) return;
    try {
      const value = await this.runLoader(key, loader, opts);
      await this.write(slot, key, value, opts);
    } finally {
      await this.release(slot, lockKey, token);
    }
  }

  private async runLoader(key: string, loader: () => Promise<string | Buffer>, opts: GetOrLoadOptions): Promise<string> {
    try {
      const v = await loader();
      if (typeof v === 'string') return v;
      if (Buffer.isBuffer(v)) return v.toString('utf8');
      throw new TypeError(`loader must resolve to a string or Buffer, got ${typeof v}`);
    } catch (err) {
      const e = isRingleaderError(err) && err.code === CLIENT_ERRORS.LOADER_FAILED.code ? err : errorFrom(CLIENT_ERRORS.LOADER_FAILED, `loader for ${JSON.stringify(key)} failed: ${(err as Error)?.message ?? String(err)}`, { key }, err);
      const negMs = opts.negativeTtlMs ?? 0;
      if (negMs > 0) this.negative.set(key, { until: this.options.clock.monotonic() + negMs, error: e });
      throw e;
    }
  }

  /** The value, and with stale-while-revalidate whether its fresh marker is still there. */
  private async read(slot: number, key: string, swr: boolean): Promise<{ value: string; fresh: boolean } | null> {
    if (!swr) {
      const r = await this.exec.exec(slot, ['GET', key], true);
      return r === null ? null : { value: text(r), fresh: true };
    }
    const r = await this.exec.exec(slot, ['MGET', key, this.sideKey(slot, key, 'fresh')], true);
    if (!Array.isArray(r) || r.length !== 2) throw errorFrom(CLIENT_ERRORS.UNEXPECTED_REPLY, 'MGET: unexpected reply');
    return r[0] === null || r[0] === undefined ? null : { value: text(r[0]), fresh: r[1] !== null };
  }

  private async write(slot: number, key: string, value: string, opts: GetOrLoadOptions): Promise<void> {
    const ttl = opts.ttlMs === undefined ? undefined : Math.max(1, Math.round(opts.ttlMs * (1 + (opts.ttlJitter ?? 0) * this.options.random())));
    const swrMs = opts.staleWhileRevalidateMs ?? 0;
    if (ttl === undefined) {
      await this.exec.exec(slot, ['SET', key, value], true);
      return;
    }
    // With stale-while-revalidate the value outlives its freshness by swrMs; a marker key carries the freshness.
    await this.exec.exec(slot, ['SET', key, value, 'PX', ttl + swrMs], true);
    if (swrMs > 0) await this.exec.exec(slot, ['SET', this.sideKey(slot, key, 'fresh'), '1', 'PX', ttl], true);
  }

  /**
   * Releases our lease if it is still ours: RL.LOADUNLOCK (atomic compare-and-delete on Ringleader nodes), or on
   * servers without it a GET then DEL (a lease that expired in between and was taken by another caller could be
   * deleted: at worst one extra load).
   */
  private async release(slot: number, lockKey: string, token: string): Promise<void> {
    try {
      if (!this.noUnlockCommand) {
        try {
          await this.exec.exec(slot, ['RL.LOADUNLOCK', lockKey, token], true);
          return;
        } catch (err) {
          if (!(isRingleaderError(err) && err.code === CLIENT_ERRORS.SERVER_ERROR.code && /unknown command/i.test(err.message))) throw err;
          this.noUnlockCommand = true;
        }
      }
      const holder = await this.exec.exec(slot, ['GET', lockKey], true);
      if (holder !== null && text(holder) === token) await this.exec.exec(slot, ['DEL', lockKey], true);
    } catch (err) {
      // The lease expires by itself; losing the release only delays the next load by up to leaseMs.
      this.options.logger.debug({ err, lockKey }, 'load lease release failed');
    }
  }

  /** A key in the same slot as `key` (so on the same primary): `{<tag>}rl:<kind>:<key>`. */
  sideKey(slot: number, key: string, kind: 'lock' | 'fresh'): string {
    return `{${this.tagFor(slot, key)}}rl:${kind}:${key}`;
  }

  private tagFor(slot: number, key: string): string {
    const open = key.indexOf('{');
    if (open >= 0) {
      const close = key.indexOf('}', open + 1);
      if (close > open + 1) return key.slice(open + 1, close); // the key's own hash tag decides its slot
    }
    if (!key.includes('}') && key.length > 0) return key; // `{key}` hashes exactly like key
    let tag = this.slotTags.get(slot);
    if (tag === undefined) {
      // Rare (keys containing `}` without a tag): search a short tag with the same CRC16 slot. ~16k tries on average.
      for (let i = 0; ; i++) {
        const t = 'rl' + i.toString(36);
        if ((crc16(Buffer.from(t)) & 16383) === slot) {
          tag = t;
          break;
        }
      }
      this.slotTags.set(slot, tag);
    }
    return tag;
  }
}

function text(r: RespReply): string {
  if (Buffer.isBuffer(r)) return r.toString('utf8');
  if (typeof r === 'string') return r;
  throw errorFrom(CLIENT_ERRORS.UNEXPECTED_REPLY, `expected a bulk string, got ${typeof r}`);
}

function validate(o: GetOrLoadOptions): void {
  if (o.ttlMs !== undefined && (!Number.isInteger(o.ttlMs) || o.ttlMs <= 0)) throw new TypeError(`ttlMs must be a positive integer, got ${o.ttlMs}`);
  if (o.ttlJitter !== undefined && (!Number.isFinite(o.ttlJitter) || o.ttlJitter < 0 || o.ttlJitter > 1)) throw new TypeError(`ttlJitter must be within [0, 1], got ${o.ttlJitter}`);
  if (o.staleWhileRevalidateMs !== undefined && (!Number.isInteger(o.staleWhileRevalidateMs) || o.staleWhileRevalidateMs < 0)) throw new TypeError(`staleWhileRevalidateMs must be an integer >= 0, got ${o.staleWhileRevalidateMs}`);
  if ((o.staleWhileRevalidateMs ?? 0) > 0 && o.ttlMs === undefined) throw new TypeError('staleWhileRevalidateMs requires ttlMs');
  if (o.negativeTtlMs !== undefined && (!Number.isInteger(o.negativeTtlMs) || o.negativeTtlMs < 0)) throw new TypeError(`negativeTtlMs must be an integer >= 0, got ${o.negativeTtlMs}`);
}
