import { noop } from 'cockatiel';
import { Counter, Gauge } from 'prom-client';
import { Etcd3, GRPCGenericError, type IEvent, type Lease, type Watcher } from 'etcd3';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { isRingleaderError } from '../shared/errors.js';
import { COORDINATOR_ERRORS, errorFrom } from '../protocol/errors/index.js';
import type { Coordinator } from './coordinator.js';
import type { LeadershipView } from './http.js';
import { parseState, type CoordinatorState, type StateStore } from './state-store.js';

/** etcd mode: where the cluster's state lives and how coordinators elect their leader. */
export interface EtcdOptions {
  /** etcd client URLs (`http://10.0.0.1:2379`). */
  endpoints: readonly string[];
  /** Key prefix of this cluster (`/ringleader/<cluster>`): several clusters can share one etcd. */
  prefix: string;
  /** Lease TTL of the leader key, in seconds: a leader that stops renewing loses leadership after this long. */
  leaseTtlSec: number;
  /** Per-request deadline towards etcd. */
  requestTimeoutMs: number;
  /** A follower re-reads the epoch at least this often (besides its watch, which can lag after an etcd restart). */
  followerPollMs: number;
  /** A follower checks the leader key this often: the takeover starts within this of the key's expiry. */
  leaderPollMs: number;
}

export const DEFAULT_ETCD_OPTIONS: Readonly<Omit<EtcdOptions, 'endpoints'>> = Object.freeze({
  prefix: '/ringleader/default',
  leaseTtlSec: 2,
  requestTimeoutMs: 2000,
  followerPollMs: 500,
  leaderPollMs: 100,
});

export function resolveEtcdOptions(input: Partial<EtcdOptions> & Pick<EtcdOptions, 'endpoints'>): EtcdOptions {
  const o: EtcdOptions = { ...DEFAULT_ETCD_OPTIONS, ...input };
  if (!Array.isArray(o.endpoints) || o.endpoints.length === 0) throw new TypeError('etcd.endpoints must list at least one etcd URL');
  for (const e of o.endpoints) if (!/^https?:\/\/[^/\s]+\/?$/.test(e)) throw new TypeError(`etcd.endpoints: not an http(s)://host:port URL: ${JSON.stringify(e)}`);
  if (!/^\/[A-Za-z0-9._/-]{0,200}$/.test(o.prefix) || o.prefix.endsWith('/') && o.prefix !== '/') throw new TypeError(`etcd.prefix must look like /ringleader/<cluster>, got ${JSON.stringify(o.prefix)}`);
  if (!Number.isInteger(o.leaseTtlSec) || o.leaseTtlSec < 1 || o.leaseTtlSec > 60) throw new TypeError(`etcd.leaseTtlSec must be an integer in 1..60, got ${o.leaseTtlSec}`);
  for (const k of ['requestTimeoutMs', 'followerPollMs', 'leaderPollMs'] as const) if (!Number.isInteger(o[k]) || o[k] <= 0) throw new TypeError(`etcd.${k} must be a positive integer, got ${o[k]}`);
  return o;
}

/** An etcd client whose failures surface at once (no circuit breaker that would hold calls back after an etcd restart). */
export function etcdClient(o: EtcdOptions): Etcd3 {
  return new Etcd3({
    hosts: o.endpoints.map((e) => e.replace(/\/$/, '')),
    dialTimeout: o.requestTimeoutMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + o.requestTimeoutMs }),
    faultHandling: { host: () => noop, global: noop },
  });
}

/** grpc's messages repeat themselves ("14 UNAVAILABLE: No connection established. Last error: ..."): keep the first sentence. */
export function etcdErrorText(err: unknown): string {
  const msg = (err as Error)?.message ?? String(err);
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note|$)/.exec(msg)?.[1];
  const status = /^\d+ [A-Z_]+/.exec(msg)?.[0];
  return (last && status ? `${status}: ${last}` : msg).slice(0, 300);
}

/** An etcd call failed on the way (unreachable, timeout, leader lost): worth retrying, unlike bad stored data. */
export function isEtcdUnavailable(err: unknown): boolean {
  return err instanceof GRPCGenericError;
}

function storeFailed(what: string, err: unknown) {
  return errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `etcd ${what}: ${etcdErrorText(err)}`, undefined, err);
}

/** A member's stored JSON without the fields that change on every heartbeat (only state changes are written). */
function memberShape(json: string): string {
  const m = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify({ ...m, appliedEpoch: 0 });
}

/**
 * The coordinator state in etcd, one key per member (`<prefix>/members/<id>`) and one per other field of the state
 * (`<prefix>/state/<field>`, whatever fields the state has: epoch, format, table...), so 10,000 members never make one
 * huge value. A write is one transaction that puts only the keys that changed, conditioned on the stored epoch and
 * on this coordinator still holding the leader key at the revision it won it (`fence`): a coordinator that lost
 * leadership can never overwrite a newer state. Heartbeat-only changes (a member's appliedEpoch) are not written.
 */
export class EtcdStateStore implements StateStore {
  /** The leader key and the mod revision at which this coordinator created it; null = not the leader (writes refused). */
  fence: { key: string; revision: string } | null = null;
  private written = new Map<string, string>();
  private writtenEpoch: number | null | undefined = undefined;
  /**
   * A follower's copy of the stored keys, kept current by its watch (applyWatch) so that a change is installed from
   * the watch event itself, without reading the whole state back (one etcd round trip less per epoch). Separate
   * from `written` (the leader's diff base). Exact as long as the watch started at `revision` + 1 or earlier and
   * lost nothing; `revision` null = not anchored (the follower then reads the whole state on each change).
   */
  private mirror: { values: Map<string, string>; revision: bigint | null } = { values: new Map(), revision: null };

  constructor(
    private readonly client: Etcd3,
    readonly prefix: string,
  ) {}

  get epochKey(): string {
    return `${this.prefix}/state/epoch`;
  }

  /** Reads every key of the state at one revision; null when nothing was stored. */
  async load(): Promise<CoordinatorState | null> {
    const { values, revision } = await this.readAll();
    const state = this.decode(values);
    // A full read is one consistent snapshot: the mirror may move forward to it, never back (its watch events up to
    // a newer revision are already in it).
    if (this.mirror.revision !== null && revision >= this.mirror.revision) this.mirror = { values: this.stateKeys(values), revision };
    this.written = this.stateKeys(values);
    this.writtenEpoch = state?.epoch ?? null;
    return state;
  }

  /** Every key under the prefix, read at one revision. */
  private async readAll(): Promise<{ values: Map<string, string>; revision: bigint }> {
    let res;
    try {
      res = await this.client.getAll().prefix(`${this.prefix}/`).exec();
    } catch (err) {
      throw storeFailed('read', err);
    }
    const values = new Map<string, string>();
    for (const kv of res.kvs) values.set(kv.key.toString(), kv.value.toString());
    return { values, revision: BigInt(res.header.revision) };
  }

  private stateKeys(values: Map<string, string>): Map<string, string> {
    return new Map([...values].filter(([k]) => this.isStateKey(k)));
  }

  private isStateKey(k: string): boolean {
    return k.startsWith(`${this.prefix}/state/`) || k.startsWith(`${this.prefix}/members/`);
  }

  /**
   * Reads the whole state and anchors the mirror at that revision; returns the revision the caller's watch must
   * start from (the read's revision + 1) so that it misses nothing after the read.
   */
  async anchorMirror(): Promise<{ state: CoordinatorState | null; watchFrom: string }> {
    const { values, revision } = await this.readAll();
    const state = this.decode(values);
    this.mirror = { values: this.stateKeys(values), revision };
    return { state, watchFrom: String(revision + 1n) };
  }

  /** The watch lost events (compaction, error): the mirror is no longer exact until anchored again. */
  dropMirror(): void {
    this.mirror = { values: new Map(), revision: null };
  }

  /**
   * Applies one watch response (whole revisions, in order) to the mirror. Returns the decoded state when the events
   * changed the epoch key (and `decode`: the leader only keeps the mirror current), `undefined` when they did not,
   * and null when the mirror is not anchored (read it all).
   * Throws STATE_STORE_FAILED when the mirrored keys do not decode (then: drop it and read it all).
   */
  applyWatch(events: readonly IEvent[], decode = true): CoordinatorState | null | undefined {
    const m = this.mirror;
    if (m.revision === null) return events.some((e) => e.kv.key.toString() === this.epochKey) ? null : undefined;
    let epochChanged = false;
    for (const e of events) {
      const rev = BigInt(e.kv.mod_revision);
      if (rev <= m.revision) continue;
      const key = e.kv.key.toString();
      if (this.isStateKey(key)) {
        if (e.type === 'Put') m.values.set(key, e.kv.value.toString());
        else m.values.delete(key);
        if (key === this.epochKey) epochChanged = true;
      }
    }
    const last = events.reduce((r, e) => (BigInt(e.kv.mod_revision) > r ? BigInt(e.kv.mod_revision) : r), m.revision);
    m.revision = last;
    return epochChanged && decode ? this.decode(m.values) : undefined;
  }

  /** The stored epoch alone (cheap; followers poll it). */
  async storedEpoch(): Promise<number | null> {
    try {
      const v = await this.client.get(this.epochKey).string();
      return v === null ? null : Number(v);
    } catch (err) {
      throw storeFailed('read', err);
    }
  }

  private decode(values: Map<string, string>): CoordinatorState | null {
    const statePrefix = `${this.prefix}/state/`;
    const memberPrefix = `${this.prefix}/members/`;
    const out: Record<string, unknown> = {};
    const members: unknown[] = [];
    try {
      for (const [k, v] of values) {
        if (k.startsWith(statePrefix)) out[k.slice(statePrefix.length)] = JSON.parse(v);
        else if (k.startsWith(memberPrefix)) members.push(JSON.parse(v));
      }
    } catch (err) {
      throw storeFailed(`value under ${this.prefix} is not JSON`, err);
    }
    if (out['epoch'] === undefined) return null;
    out['members'] = members;
    const parsed = parseState(out);
    if (parsed.state === null) throw errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `etcd state under ${this.prefix} has an unexpected shape: ${parsed.problem}`);
    return parsed.state;
  }

  private encode(state: CoordinatorState): Map<string, string> {
    const m = new Map<string, string>();
    for (const [field, value] of Object.entries(state)) {
      if (field === 'members' || value === undefined) continue;
      m.set(`${this.prefix}/state/${field}`, JSON.stringify(value));
    }
    for (const member of state.members) m.set(`${this.prefix}/members/${member.id}`, JSON.stringify(member));
    return m;
  }

  async compareAndSet(expectedEpoch: number | null, next: CoordinatorState): Promise<void> {
    const fence = this.fence;
    if (fence === null) throw errorFrom(COORDINATOR_ERRORS.STATE_CONFLICT, 'this coordinator does not hold the leader key; it does not write');
    if (this.writtenEpoch !== expectedEpoch) await this.load(); // the diff below needs what is stored at expectedEpoch
    const desired = this.encode(next);
    const ops = [];
    const puts = new Map<string, string>();
    for (const [k, v] of desired) {
      const old = this.written.get(k);
      const same = old !== undefined && (old === v || (k.includes('/members/') && memberShape(old) === memberShape(v)));
      if (same) continue;
      puts.set(k, v);
      ops.push(this.client.put(k).value(v));
    }
    const deletes = [...this.written.keys()].filter((k) => !desired.has(k));
    for (const k of deletes) ops.push(this.client.delete().key(k));
    const txn = expectedEpoch === null ? this.client.if(this.epochKey, 'Create', '==', 0) : this.client.if(this.epochKey, 'Value', '==', JSON.stringify(expectedEpoch));
    let res;
    try {
      res = await txn.and(fence.key, 'Mod', '==', fence.revision).then(...ops).commit();
    } catch (err) {
      throw storeFailed('transaction', err);
    }
    if (!res.succeeded) {
      this.writtenEpoch = undefined;
      throw errorFrom(COORDINATOR_ERRORS.STATE_CONFLICT, `etcd refused the write of epoch ${next.epoch}: the stored epoch is no longer ${expectedEpoch ?? 'none'} or this coordinator lost the leader key`);
    }
    for (const [k, v] of puts) this.written.set(k, v);
    for (const k of deletes) this.written.delete(k);
    this.writtenEpoch = next.epoch;
  }

  async close(): Promise<void> {}
}

export interface EtcdLeadershipEvents {
  role: 'leader' | 'follower';
}

/**
 * Leader election on etcd and the follower's live copy. Every coordinator holds a lease (TTL `leaseTtlSec`, renewed
 * by the etcd client every TTL/3) and tries to create `<prefix>/leader` (value: its advertised URL) bound to it; the
 * one that succeeds leads until its lease ends (crash, pause, partition from etcd) or a write of its is refused.
 * The leader's writes are fenced on that key's revision (see EtcdStateStore). Followers learn the leader's URL from
 * the key, follow its state through a watch plus a periodic epoch read, and campaign when the key disappears.
 */
export class EtcdLeadership implements LeadershipView {
  private isLeaderNow = false;
  /** The cluster state was read from etcd at least once (at start, or later when etcd was unreachable then). */
  private loaded: boolean;
  /** The last etcd failure of the election or follower loops, cleared by the next successful etcd call. */
  private lastError: string | null;
  /** The stored state could not be used (bad data, another cluster id); cleared once a state is installed. */
  private stateError: string | null = null;
  private failures = 0;
  private leaderUrl: string | null = null;
  private lease: Lease | null = null;
  private leaseOkAt = 0;
  private closed = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private poll: TimerHandle | null = null;
  private watcher: Watcher | null = null;
  /** watchState() is running or its watch is open. */
  private watching = false;
  private syncing: Promise<void> | null = null;
  private resync = false;
  private readonly unsubscribe: () => void;
  private readonly etcdErrors: Counter;
  private readonly elections: Counter;

  constructor(
    private readonly client: Etcd3,
    private readonly store: EtcdStateStore,
    private readonly coordinator: Coordinator,
    private readonly options: EtcdOptions,
    private readonly selfUrl: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Null when the state was read before start; else why it could not be (the coordinator starts not ready). */
    startError: string | null = null,
  ) {
    this.loaded = startError === null;
    this.lastError = startError;
    this.unsubscribe = coordinator.on('fenced', () => void this.stepDown('a state write was refused'));
    const registers = [coordinator.metrics.registry];
    const isLeader = () => this.isLeader();
    new Gauge({
      name: 'ringleader_coordinator_leader', help: 'etcd mode: 1 while this coordinator leads, else 0', registers,
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    });
    this.etcdErrors = new Counter({ name: 'ringleader_coordinator_etcd_errors_total', help: 'etcd mode: failed etcd calls of the election and follower loops', registers });
    this.elections = new Counter({ name: 'ringleader_coordinator_elections_won_total', help: 'etcd mode: times this coordinator became leader', registers });
  }

  get leaderKey(): string {
    return `${this.options.prefix}/leader`;
  }

  /** Leader only while the lease was renewed within its TTL (a paused process knows at once it may have lost it). */
  isLeader(): boolean {
    return this.isLeaderNow && this.clock.monotonic() - this.leaseOkAt < this.options.leaseTtlSec * 1000;
  }

  leader(): string | null {
    if (this.isLeaderNow) return this.isLeader() ? this.selfUrl : null;
    return this.leaderUrl;
  }

  /**
   * Ready once the cluster state was read from etcd; `error` names the last etcd failure (null after a success).
   * A coordinator that could not reach etcd at start serves nothing but /healthz and /metrics until it is ready.
   */
  status(): { ready: boolean; error: string | null } {
    return { ready: this.loaded, error: this.lastError ?? this.stateError };
  }

  private failed(err: unknown): void {
    this.etcdErrors.inc();
    this.failures++;
    const cause = isRingleaderError(err) && err.cause !== undefined ? err.cause : err;
    if (isEtcdUnavailable(cause)) this.lastError = `etcd at ${this.options.endpoints.join(',')} unavailable: ${etcdErrorText(cause)}`;
    else this.stateError = `cannot use the state stored in etcd under ${this.options.prefix}: ${(err as Error).message}`;
  }

  private succeeded(): void {
    this.failures = 0;
    this.lastError = null;
  }

  /** Retry delay after `failures` consecutive etcd failures: 100 ms doubling to 2 s, with ±20% jitter. */
  private backoffMs(): number {
    const base = Math.min(2000, 100 * 2 ** Math.min(Math.max(this.failures, 1) - 1, 5));
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  /** Starts campaigning and following; resolves at once. */
  start(): void {
    this.poll = this.clock.setInterval(() => this.tick(), this.options.followerPollMs);
    void this.watchState();
    this.loop = this.campaignLoop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    this.poll?.cancel();
    this.wake?.();
    await this.watcher?.cancel().catch(() => {});
    const lease = this.lease;
    this.lease = null;
    this.isLeaderNow = false;
    this.store.fence = null;
    // Revoke rather than let the lease expire: another coordinator takes over at once.
    if (lease) await lease.revoke().catch(() => {});
    await this.loop?.catch(() => {});
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        t.cancel();
        this.wake = null;
        resolve();
      };
    });
  }

  private async campaignLoop(): Promise<void> {
    while (!this.closed) {
      // Campaign only once the stored state was read and accepted as a follower: a coordinator that cannot use it
      // (etcd unreachable, another cluster id or partition count) never takes the leader key from one that can.
      if (!this.loaded) {
        await this.sync();
        if (!this.loaded) {
          await this.sleep(this.backoffMs());
          continue;
        }
      }
      try {
        const lease = await this.grantLease();
        const res = await this.client
          .if(this.leaderKey, 'Create', '==', 0)
          .then(lease.put(this.leaderKey).value(this.selfUrl))
          .else(this.client.get(this.leaderKey))
          .commit();
        if (this.closed) return;
        this.succeeded();
        if (res.succeeded) {
          await this.becomeLeader(String(res.header.revision));
          while (!this.closed && this.isLeaderNow && this.lease === lease) {
            await this.sleep(this.options.leaderPollMs);
            // Not renewed within the TTL (etcd unreachable, or this process was paused): it may already lead
            // elsewhere. Step down at once, before the failure detector blames members whose heartbeats we refuse.
            if (this.isLeaderNow && !this.isLeader()) await this.stepDown('lease not renewed within its TTL');
          }
        } else {
          const kv = res.responses[0]?.response_range?.kvs?.[0];
          const url = kv ? kv.value.toString() : null;
          if (url !== this.leaderUrl) this.logger.info({ leader: url }, 'following the leading coordinator');
          this.leaderUrl = url;
          // Wait until the leader key is gone (poll: cheap, and robust to watch hiccups after an etcd restart).
          while (!this.closed && this.lease === lease) {
            await this.sleep(this.options.leaderPollMs);
            const cur = await this.client.get(this.leaderKey).string();
            this.succeeded();
            if (cur === null) break;
            if (cur !== this.leaderUrl) {
              this.logger.info({ leader: cur }, 'following the leading coordinator');
              this.leaderUrl = cur;
            }
          }
        }
      } catch (err) {
        if (this.closed) return;
        this.failed(err);
        const retryMs = this.backoffMs();
        // Once per outage at warn level (the loop retries every <= 2 s), then at debug.
        this.logger[this.failures === 1 ? 'warn' : 'debug']({ err: etcdErrorText(err), retryMs, ready: this.loaded }, 'etcd unavailable; retrying the election');
        if (this.isLeaderNow) await this.stepDown('etcd unavailable');
        await this.sleep(retryMs);
      }
    }
  }

  private async grantLease(): Promise<Lease> {
    if (this.lease && !this.lease.revoked()) return this.lease;
    const lease = this.client.lease(this.options.leaseTtlSec);
    lease.on('keepaliveSucceeded', () => {
      if (this.lease === lease) this.leaseOkAt = this.clock.monotonic();
    });
    lease.on('lost', (err) => {
      if (this.lease !== lease) return;
      this.lease = null;
      this.logger.warn({ err: err.message }, 'etcd lease lost');
      void this.stepDown('lease lost');
      this.wake?.();
    });
    const t0 = this.clock.monotonic();
    await lease.grant();
    this.leaseOkAt = t0;
    this.lease = lease;
    return lease;
  }

  private async becomeLeader(revision: string): Promise<void> {
    this.store.fence = { key: this.leaderKey, revision };
    let state: CoordinatorState | null;
    try {
      state = await this.store.load();
    } catch (err) {
      this.store.fence = null;
      await this.client.delete().key(this.leaderKey).catch(() => {});
      throw err;
    }
    try {
      this.coordinator.lead(state);
    } catch (err) {
      this.store.fence = null;
      await this.client.delete().key(this.leaderKey).catch(() => {});
      throw err;
    }
    if (!this.loaded) this.logger.warn({ epoch: this.coordinator.epoch }, 'read the cluster state from etcd: ready');
    this.loaded = true;
    this.stateError = null;
    this.isLeaderNow = true;
    this.leaderUrl = this.selfUrl;
    this.elections.inc();
    this.logger.warn({ epoch: this.coordinator.epoch, revision }, 'this coordinator leads');
  }

  private async stepDown(reason: string): Promise<void> {
    if (!this.isLeaderNow) return;
    this.isLeaderNow = false;
    this.leaderUrl = null;
    this.store.fence = null;
    this.logger.warn({ reason, epoch: this.coordinator.epoch }, 'this coordinator no longer leads; following');
    await this.coordinator.follow();
    // Give the key up (if it is still ours) so that another coordinator takes over without waiting for the TTL.
    const lease = this.lease;
    this.lease = null;
    if (lease) await lease.revoke().catch(() => {});
    this.wake?.();
    void this.sync();
  }

  private tick(): void {
    if (!this.isLeaderNow) void this.sync();
  }

  /**
   * The follower's watch on the whole prefix, started right after a full read (anchorMirror) from the revision that
   * follows it: each change is installed from the watch event's own values (the leader's transaction arrives as one
   * response). Retried with backoff while etcd is unreachable; the 500 ms poll covers any gap.
   */
  private async watchState(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const { state, watchFrom } = await this.store.anchorMirror();
        this.succeeded();
        if (state && !this.isLeaderNow) this.install(state, 0, 0);
        const w = await this.client.watch().prefix(`${this.options.prefix}/`).startRevision(watchFrom).create();
        if (this.closed) return void w.cancel();
        this.watcher = w;
        w.on('data', (res) => this.onWatch(res.events));
        // Events may be lost (compacted revision, etcd data gone): read it all again and re-anchor a new watch.
        w.on('error', (err) => this.reanchor(`etcd watch failed: ${etcdErrorText(err)}`));
        return;
      } catch (err) {
        this.logger.debug({ err: etcdErrorText(err) }, 'etcd watch failed; the follower polls meanwhile');
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  /** Drops the mirror and its watch, then reads everything and watches again from there. */
  private reanchor(reason: string): void {
    this.logger.warn({ reason }, 'the follower re-reads the state and watches again');
    this.store.dropMirror();
    const w = this.watcher;
    this.watcher = null;
    void w?.cancel().catch(() => {});
    this.watching = false;
    if (!this.closed) void this.watchState();
  }

  private onWatch(events: readonly IEvent[]): void {
    let state: CoordinatorState | null | undefined;
    const t0 = this.clock.monotonic();
    try {
      state = this.store.applyWatch(events, !this.isLeaderNow);
    } catch (err) {
      this.reanchor(`the watched state does not decode: ${(err as Error).message}`);
      return;
    }
    if (state === undefined || this.isLeaderNow) return;
    if (state === null) return void this.sync(); // not anchored: read it all
    this.install(state, 0, this.clock.monotonic() - t0);
  }

  /** Follower: installs a state read from etcd (if newer) and logs where the time went. */
  private install(state: CoordinatorState, loadMs: number, decodeMs: number): void {
    let applied: boolean;
    const t1 = this.clock.monotonic();
    try {
      applied = this.coordinator.applyStored(state);
    } catch (err) {
      this.etcdErrors.inc();
      this.stateError = `cannot follow the stored state: ${(err as Error).message}`;
      this.logger.error({ err }, 'follower sync failed');
      return;
    }
    this.stateError = null;
    this.markLoaded();
    const r = (x: number) => Math.round(x * 10) / 10;
    // Where a follower's share of the notification time goes (bench/ha.ts reads these fields).
    if (applied) this.logger.info({ epoch: state.epoch, loadMs: r(loadMs), decodeMs: r(decodeMs), applyMs: r(this.clock.monotonic() - t1) }, 'followed the stored state');
  }

  private markLoaded(): void {
    this.succeeded();
    if (this.loaded) return;
    this.loaded = true;
    this.logger.warn({ epoch: this.coordinator.epoch }, 'read the cluster state from etcd: ready');
  }

  /** Follower: installs the stored state when its epoch moved. Serialized; a request during a sync runs once more after it. */
  private sync(knownEpoch?: number): Promise<void> {
    if (this.syncing) {
      this.resync = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      let hint = knownEpoch;
      do {
        this.resync = false;
        try {
          const epoch = hint !== undefined && Number.isSafeInteger(hint) ? hint : await this.store.storedEpoch();
          hint = undefined;
          this.succeeded(); // etcd answers (whatever the state turns out to be)
          if (this.isLeaderNow) continue;
          if (epoch === null || (epoch <= this.coordinator.epoch && this.loaded)) {
            // Nothing stored yet (a new cluster: epoch 0 is the truth), or nothing newer than what this one holds.
            this.markLoaded();
            continue;
          }
          const t0 = this.clock.monotonic();
          const state = await this.store.load();
          if (this.isLeaderNow) continue;
          if (state) this.install(state, this.clock.monotonic() - t0, 0);
          else this.markLoaded();
          if (!this.watching) void this.watchState();
        } catch (err) {
          if (isRingleaderError(err)) {
            this.failed(err);
            this.logger.debug({ err: err.message }, 'follower sync failed');
          } else {
            this.etcdErrors.inc();
            this.stateError = `cannot follow the stored state: ${(err as Error).message}`;
            this.logger.error({ err }, 'follower sync failed');
          }
        }
      } while (this.resync && !this.closed);
    })().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }
}
