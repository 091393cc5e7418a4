import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { isRingleaderError, type RingleaderError } from '../shared/errors.js';
import { PartitionTable } from '../partitioning/table.js';
import {
  CopyReportResponseSchema, HealthResponseSchema, HeartbeatResponseSchema, JoinResponseSchema, LeaveResponseSchema, LocateResponseSchema,
  MembersResponseSchema, NodeAssignmentSchema, PROTOCOL_VERSION, RecoverResponseSchema,
  type CopyReportRequest, type CopyReportResponse, type HealthResponse, type HeartbeatResponse, type JoinRequest, type JoinResponse, type LeaveResponse, type LocateResponse,
  type MembersResponse, type NodeAssignment, type NodeStats, type RecoverRequest, type RecoverResponse,
} from '../protocol/control.js';
import { COORDINATOR_ERRORS } from '../protocol/errors/index.js';
import { errorFromBody, unavailable } from './errors.js';
import { backoffMs, requestHeaders, resolveCoordinatorClientOptions, type CoordinatorClientInput, type CoordinatorClientOptions } from './options.js';
import { TableWatch, type WatchOptions } from './watch.js';

/**
 * The coordinator's HTTP API as typed calls, shared by nodes and clients. Every call fails over across the
 * configured coordinators and retries retryable failures (network error, timeout, 5xx) with backoff, up to
 * `maxAttempts`; a 4xx answer is thrown at once as a RingleaderError whose `code` is from docs/ERRORS.md.
 * When no coordinator answers, the error is COORDINATOR_UNAVAILABLE (retryable).
 *
 * Responses are checked against the protocol schemas after dropping unknown fields (a newer coordinator may add some).
 */
export class CoordinatorClient {
  readonly options: CoordinatorClientOptions;
  /** Index of the coordinator that answered last: calls start there. */
  private preferred = 0;

  constructor(options: CoordinatorClientInput) {
    this.options = resolveCoordinatorClientOptions(options);
  }

  /** POST /v1/members: join (or re-join, which starts a new incarnation). */
  join(request: JoinRequest): Promise<JoinResponse> {
    return this.request('POST', '/v1/members', JoinResponseSchema, { protocolVersion: PROTOCOL_VERSION, ...request });
  }

  /** PUT /v1/members/{id}/heartbeat. Throws MEMBER_DEAD / MEMBER_NOT_FOUND when the node must join again. */
  heartbeat(id: string, appliedEpoch: number, incarnation?: number, stats?: NodeStats, clusterId?: string): Promise<HeartbeatResponse> {
    const body = { appliedEpoch, ...(incarnation === undefined ? {} : { incarnation }), ...(stats === undefined ? {} : { stats }), ...(clusterId === undefined ? {} : { clusterId }) };
    // Two attempts: a follower's NOT_LEADER names the leader, and the second attempt goes straight there.
    return this.request('PUT', `/v1/members/${encodeURIComponent(id)}/heartbeat`, HeartbeatResponseSchema, body, Math.min(2, this.options.maxAttempts + 1));
  }

  /** POST /v1/recover: offer the table this node holds to a coordinator that is behind (it lost its state). */
  recover(request: RecoverRequest): Promise<RecoverResponse> {
    return this.request('POST', '/v1/recover', RecoverResponseSchema, request);
  }

  /**
   * PUT /v1/members/{id}/copies: reports the state of this node's copies (synced / serving / failed per partition and
   * term). One attempt per coordinator like a heartbeat: the node re-sends unreflected reports with each heartbeat
   * anyway. Throws MEMBER_DEAD / STALE_INCARNATION when this incarnation is fenced.
   */
  reportCopies(id: string, body: CopyReportRequest): Promise<CopyReportResponse> {
    return this.request('PUT', `/v1/members/${encodeURIComponent(id)}/copies`, CopyReportResponseSchema, body, 1);
  }

  /** DELETE /v1/members/{id}: graceful leave (the member goes `leaving`, then `left` once its partitions moved). */
  leave(id: string): Promise<LeaveResponse> {
    return this.request('DELETE', `/v1/members/${encodeURIComponent(id)}`, LeaveResponseSchema);
  }

  /** GET /v1/table: the current table, validated. */
  async getTable(): Promise<PartitionTable> {
    const json = await this.request('GET', '/v1/table', null);
    return PartitionTable.fromJSON(json);
  }

  /** GET /v1/members: every known member with its state, incarnation and applied epoch. */
  members(): Promise<MembersResponse> {
    return this.request('GET', '/v1/members', MembersResponseSchema);
  }

  /** GET /v1/locate/{key}. */
  locate(key: string): Promise<LocateResponse> {
    return this.request('GET', `/v1/locate/${encodeURIComponent(key)}`, LocateResponseSchema);
  }

  /** GET /v1/members/{id}/assignment?from=EPOCH: what this member must host/fetch/evict to go from `fromEpoch` to the current epoch. */
  assignment(id: string, fromEpoch?: number): Promise<NodeAssignment> {
    const q = fromEpoch === undefined ? '' : `?from=${fromEpoch}`;
    return this.request('GET', `/v1/members/${encodeURIComponent(id)}/assignment${q}`, NodeAssignmentSchema);
  }

  /** GET /healthz. */
  health(): Promise<HealthResponse> {
    return this.request('GET', '/healthz', HealthResponseSchema);
  }

  /**
   * Opens a watch (GET /v1/watch, Server-Sent Events) that reconnects by itself with `since` = the last epoch it
   * delivered, so every epoch is delivered once and in order (see TableWatch). Call close() when done.
   */
  watch(options: WatchOptions = {}): TableWatch {
    return new TableWatch(this, options);
  }

  /** @internal The coordinator base URLs, starting with the preferred one (used by TableWatch). */
  orderedBases(): string[] {
    const c = this.options.coordinators;
    return c.map((_, i) => c[(this.preferred + i) % c.length]!);
  }

  /** @internal Marks a base URL as the one that answered last. */
  prefer(base: string): void {
    const i = this.options.coordinators.indexOf(base);
    if (i >= 0) this.preferred = i;
  }

  /** @internal Sleeps on the injected clock. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimeout(resolve, ms));
  }

  private async request<T>(method: string, path: string, schema: TSchema | null, body?: unknown, attempts = this.options.maxAttempts): Promise<T> {
    const o = this.options;
    let last: RingleaderError | null = null;
    let redirect: string | null = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0 && redirect === null) await this.sleep(backoffMs(o, attempt - 1));
      const base: string = redirect ?? this.orderedBases()[attempt % o.coordinators.length]!;
      redirect = null;
      let res: Response;
      try {
        res = await o.fetch(base + path, {
          method,
          headers: requestHeaders(o, 'application/json', body !== undefined),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(o.requestTimeoutMs),
        });
      } catch (err) {
        last = unavailable(`${method} ${base}${path}: ${(err as Error).message}`, err);
        o.logger.debug({ err, base, path }, 'coordinator request failed');
        continue;
      }
      let json: unknown;
      try {
        const text = await res.text();
        json = text === '' ? null : JSON.parse(text);
      } catch (err) {
        last = unavailable(`${method} ${base}${path}: unreadable response (${(err as Error).message})`, err);
        continue;
      }
      if (res.status >= 500) {
        last = errorFromBody(res.status, json);
        if (last.code === COORDINATOR_ERRORS.NOT_LEADER.code) {
          // A follower names the leader: go there next, without backoff (it may be behind a Service, not in our list).
          const leader = (json as { error?: { leader?: unknown } } | null)?.error?.leader;
          if (typeof leader === 'string' && leader !== base && /^https?:\/\/[^\s/]+$/.test(leader)) {
            redirect = leader;
            this.prefer(leader);
          } else this.preferred = (this.preferred + 1) % o.coordinators.length;
        }
        continue;
      }
      if (res.status >= 400) throw errorFromBody(res.status, json);
      this.prefer(base);
      if (schema === null) return json as T;
      const cleaned = Value.Clean(schema, structuredClone(json));
      if (!Value.Check(schema, cleaned)) {
        const first = Value.Errors(schema, cleaned).First();
        throw unavailable(`${method} ${path}: response does not match the protocol (${first ? `${first.path} ${first.message}` : 'bad shape'})`);
      }
      return cleaned as T;
    }
    throw last && isRingleaderError(last) ? last : unavailable(`${method} ${path}: no coordinator answered`);
  }
}
