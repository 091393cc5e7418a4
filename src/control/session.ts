import { TypedEvents } from '../shared/events.js';
import type { TimerHandle } from '../shared/clock.js';
import { isRingleaderError, type RingleaderError } from '../shared/errors.js';
import type { HeartbeatResponse, JoinRequest, JoinResponse, MemberState, NodeStats, TableJson } from '../protocol/control.js';
import { COORDINATOR_ERRORS } from '../protocol/errors/index.js';
import type { CoordinatorClient } from './client.js';
import { Lease } from './lease.js';

export interface MemberSessionOptions {
  /** What to join as. Re-joins (after MEMBER_DEAD / MEMBER_NOT_FOUND) use the same request. */
  member: JoinRequest;
  /** The last table epoch this node has applied; read before every heartbeat. */
  appliedEpoch: () => number;
  /**
   * The table this node holds (JSON), offered to a coordinator that answers EPOCH_AHEAD because it lost its state
   * (POST /v1/recover): it adopts it and nothing moves. Omit to never offer.
   */
  table?: () => TableJson | null;
  /** How long start() keeps retrying a join that fails retryably (no coordinator, NOT_LEADER, election in progress). */
  startTimeoutMs?: number;
  /** Statistics sent with each heartbeat (optional). */
  stats?: () => NodeStats;
}

/** Heartbeat answers that mean the coordinator no longer counts on this incarnation: its lease ends at once. */
const REVOKING: ReadonlySet<string> = new Set([COORDINATOR_ERRORS.MEMBER_DEAD.code, COORDINATOR_ERRORS.MEMBER_NOT_FOUND.code, COORDINATOR_ERRORS.STALE_INCARNATION.code]);

/**
 * Events of a MemberSession. Listeners must not throw or block.
 * - `joined`: after each successful join; `rejoin` is true when the coordinator had declared this member dead (or
 *   forgotten it): the node must treat every partition it held as fenced (drop or re-fetch) and follow the new tables.
 * - `state`: the coordinator's view of this member changed (joining, active, suspect, leaving, left...).
 * - `heartbeat`: each answered heartbeat, with the monotonic time its request was sent (the lease counts from it).
 * - `error`: a heartbeat or join failed (the session keeps trying until stop()).
 * - `left`: the graceful leave completed (state `left`); heartbeats have stopped.
 */
export interface MemberSessionEvents {
  joined: (info: JoinResponse, rejoin: boolean) => void;
  state: (state: MemberState) => void;
  heartbeat: (response: HeartbeatResponse, sentAt: number) => void;
  error: (err: RingleaderError | Error) => void;
  left: () => void;
}

/**
 * A node's membership: joins, heartbeats every `heartbeatMs` (as the coordinator says), joins again as a new
 * incarnation when the coordinator answers MEMBER_DEAD or MEMBER_NOT_FOUND, and leaves gracefully. It knows nothing
 * about what a node does with tables; feed it `appliedEpoch` and listen to its events.
 *
 * Heartbeats never overlap: the next one is scheduled when the previous one finished, on a fixed cadence from its start.
 *
 * It also keeps the member's `lease` (contract C5, see lease.ts): each answered heartbeat extends it from the time
 * its request was sent; MEMBER_DEAD, MEMBER_NOT_FOUND, STALE_INCARNATION, CLUSTER_MISMATCH and the end of a leave
 * revoke it; other failures (no coordinator answered, NOT_LEADER from a follower, EPOCH_AHEAD) leave it to lapse.
 */
export class MemberSession {
  private readonly events: TypedEvents<MemberSessionEvents>;
  private info: JoinResponse | null = null;
  private cluster: string | undefined;
  private currentState: MemberState | null = null;
  private timer: TimerHandle | null = null;
  /** Heartbeats that failed in a row (the next one comes sooner: 50, 100, 200 ms... up to the interval). */
  private failedBeats = 0;
  private stopped = false;
  private leaving = false;
  private leftResolvers: Array<() => void> = [];
  /** Until when the coordinator lets this member serve (monotonic); see Lease. */
  readonly lease: Lease;

  constructor(
    private readonly client: CoordinatorClient,
    private readonly options: MemberSessionOptions,
  ) {
    this.events = new TypedEvents<MemberSessionEvents>((err) => client.options.logger.error({ err }, 'member session listener threw'));
    this.lease = new Lease(client.options.clock);
  }

  on<K extends keyof MemberSessionEvents>(event: K, fn: MemberSessionEvents[K]): () => void {
    return this.events.on(event, fn);
  }

  /** The member id (deterministic from the name), once joined. */
  get id(): string | null {
    return this.info?.id ?? null;
  }

  /** This process's incarnation (from the last join; a re-join raises it), to stamp copy reports with; null before joining. */
  get incarnation(): number | null {
    return this.info?.incarnation ?? null;
  }

  get state(): MemberState | null {
    return this.currentState;
  }

  /** The cluster id the coordinator gave at join (sent with every heartbeat so two clusters never mix). */
  get clusterId(): string | null {
    return this.cluster ?? null;
  }

  /**
   * Joins and starts heartbeating. A retryable failure (no coordinator answered, NOT_LEADER during an election) is
   * retried with backoff for `startTimeoutMs` (default 30 s); anything else (INVALID_REQUEST, DUPLICATE_MEMBER_NAME...)
   * is thrown at once.
   */
  async start(): Promise<JoinResponse> {
    const clock = this.client.options.clock;
    const deadline = clock.monotonic() + (this.options.startTimeoutMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.join(false);
        this.schedule(0);
        return info;
      } catch (err) {
        if (!isRingleaderError(err) || !err.retryable || clock.monotonic() >= deadline || this.stopped) throw err;
        this.events.emit('error', err);
        await this.client.sleep(Math.min(250, 50 * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  /** Stops heartbeating without leaving (the coordinator will declare the member dead). Idempotent. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /**
   * Leaves gracefully: the member goes `leaving` (its partitions are handed over while it keeps heartbeating and
   * serving), and the promise resolves once the coordinator reports `left`. Pair with a timeout if you cannot wait.
   */
  async leave(): Promise<void> {
    if (!this.info) throw new Error('leave() before start()');
    this.leaving = true;
    const done = new Promise<void>((resolve) => this.leftResolvers.push(resolve));
    const res = await this.client.leave(this.info.id);
    this.setState(res.state);
    if (res.state === 'left') this.finishLeave();
    return done;
  }

  private async join(rejoin: boolean): Promise<JoinResponse> {
    const info = await this.client.join(this.options.member);
    this.info = info;
    this.cluster = info.clusterId;
    this.events.emit('joined', info, rejoin);
    return info;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.client.options.clock.setTimeout(() => void this.beat(), delayMs);
  }

  private async beat(): Promise<void> {
    if (this.stopped || !this.info) return;
    const started = this.client.options.clock.monotonic();
    try {
      const res = await this.client.heartbeat(this.info.id, this.options.appliedEpoch(), this.info.incarnation, this.options.stats?.(), this.cluster);
      if (res.clusterId !== undefined) this.cluster = res.clusterId;
      // From the send time (`started`, before any retry): an answer that took long, or was read after this process
      // was paused, must not stretch the lease past what the coordinator's failure detector allows.
      this.lease.grant(started, res.leaseMs ?? 0);
      this.failedBeats = 0;
      this.events.emit('heartbeat', res, started);
      this.setState(res.state);
      if (res.state === 'left') return this.finishLeave();
    } catch (err) {
      this.failedBeats++;
      this.events.emit('error', err as Error);
      if (isRingleaderError(err) && err.code === COORDINATOR_ERRORS.EPOCH_AHEAD.code) await this.offerTable();
      const mismatch = isRingleaderError(err) && err.code === COORDINATOR_ERRORS.CLUSTER_MISMATCH.code;
      if (mismatch) this.cluster = undefined; // pointed at another cluster's coordinator: join it as a new member
      if (isRingleaderError(err) && (mismatch || REVOKING.has(err.code))) this.lease.revoke(); // our partitions may be elsewhere already
      if (isRingleaderError(err) && (mismatch || err.code === COORDINATOR_ERRORS.MEMBER_DEAD.code || err.code === COORDINATOR_ERRORS.MEMBER_NOT_FOUND.code)) {
        if (this.leaving) return this.finishLeave();
        try {
          await this.join(true);
        } catch (joinErr) {
          this.events.emit('error', joinErr as Error);
        }
      }
    }
    // After a failure (a leader election, a coordinator restarting) try again soon rather than a whole interval later:
    // the lease runs from the last answered heartbeat, and a second miss in a row would let it lapse.
    const interval = this.failedBeats === 0 ? this.info.heartbeatMs : Math.min(this.info.heartbeatMs, 50 * 2 ** Math.min(this.failedBeats - 1, 10));
    const elapsed = this.client.options.clock.monotonic() - started;
    this.schedule(Math.max(0, interval - elapsed));
  }

  /** The coordinator is behind our applied epoch (it lost its state): offer it our table so it continues from there. */
  private async offerTable(): Promise<void> {
    const table = this.options.table?.() ?? null;
    if (!this.info || table === null || this.cluster === undefined) return;
    try {
      const res = await this.client.recover({ clusterId: this.cluster, id: this.info.id, incarnation: this.info.incarnation, table });
      this.client.options.logger.info({ epoch: res.epoch, adopted: res.adopted }, 'offered our table to a coordinator that was behind');
    } catch (err) {
      this.events.emit('error', err as Error);
      if (isRingleaderError(err) && err.code === COORDINATOR_ERRORS.CLUSTER_MISMATCH.code) this.cluster = undefined;
    }
  }

  private setState(state: MemberState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.events.emit('state', state);
  }

  private finishLeave(): void {
    this.lease.revoke();
    this.setState('left');
    this.stop();
    this.events.emit('left');
    for (const r of this.leftResolvers.splice(0)) r();
  }
}
