/**
 * The control-plane contract (coordinator <-> nodes and clients): JSON messages over HTTP under /v1 and
 * the Server-Sent-Events watch stream. Schemas are TypeBox (JSON Schema): the coordinator validates with
 * them and docs/PROTOCOL.md is generated from them. Enum values are append-only: never reorder or reuse.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Bumped on an incompatible change; sent in the join handshake and in every watch snapshot. */
export const PROTOCOL_VERSION = 1;

/** Limits shared by every parser of control messages. */
export const CONTROL_LIMITS = Object.freeze({
  maxNameLength: 64,
  maxAddressLength: 261, // 255-char host + ':' + port
  maxZoneLength: 64,
  maxBodyBytes: 64 * 1024,
  maxCapacity: 1000,
  /** Copy reports list one item per partition: up to 16384 items of ~90 bytes, so they get their own body limit. */
  maxReportCopies: 16384,
  maxReportBodyBytes: 2 * 1024 * 1024,
});

/** Member lifecycle (append-only). joining -> active -> suspect -> dead; leaving -> left. */
export const MEMBER_STATES = ['joining', 'active', 'suspect', 'dead', 'leaving', 'left'] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

export const MemberIdSchema = Type.String({ pattern: '^[0-9a-f]{40}$', description: '40 lowercase hex chars; also the Redis Cluster node id' });
/** Names: letters, digits, `.`, `_`, `-`; no path or control characters. */
export const MemberNameSchema = Type.String({ minLength: 1, maxLength: CONTROL_LIMITS.maxNameLength, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const AddressSchema = Type.String({ minLength: 3, maxLength: CONTROL_LIMITS.maxAddressLength, pattern: '^[A-Za-z0-9.\\-\\[\\]:]+:[0-9]{1,5}$', description: 'host:port of the member\'s RESP endpoint' });
export const ZoneSchema = Type.String({ minLength: 1, maxLength: CONTROL_LIMITS.maxZoneLength, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const EpochSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** A cluster's id: generated at the coordinator's first start (or configured), kept in its state; keeps two clusters apart. */
export const ClusterIdSchema = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });

export const MemberSchema = Type.Object(
  {
    id: MemberIdSchema,
    name: MemberNameSchema,
    address: AddressSchema,
    zone: Type.Union([ZoneSchema, Type.Null()]),
    capacity: Type.Number({ exclusiveMinimum: 0, maximum: CONTROL_LIMITS.maxCapacity }),
    state: Type.Union(MEMBER_STATES.map((s) => Type.Literal(s))),
  },
  { additionalProperties: false, $id: 'Member' },
);
export type MemberJson = Static<typeof MemberSchema>;

/**
 * Copy states of a partition copy (append-only; table format 2). `primary` serves reads and writes and numbers the
 * mutations; `backup` is in sync (reads after READONLY); `learner` is being built and serves nothing; `handing-off`
 * is a former primary that stopped serving and is dropped once the new primary serves.
 */
export const COPY_STATES = ['primary', 'backup', 'learner', 'handing-off'] as const;
export type CopyState = (typeof COPY_STATES)[number];

/** Most copies one partition may list in a table (serving copies plus learners and handing-off copies). */
export const MAX_COPIES_PER_PARTITION = 16;
/** The table format this code writes. Format 1 (no `format`, `states`, `terms`) is still read. */
export const TABLE_FORMAT = 2;

/** How a primary acknowledges writes (cluster-wide, carried in the table). Append-only. */
export const REPLICATION_MODES = ['sync', 'async'] as const;
export type ReplicationMode = (typeof REPLICATION_MODES)[number];

/**
 * The partition table's JSON form: a public contract. `partitions[i]` lists every copy of partition i, primary first;
 * `states[i]` is parallel to it (primary, then backups, then learners, then handing-off copies) and `terms[i]` is the
 * term of partition i (+1 on every change of its primary). Format 1 tables have none of the three fields: every listed
 * copy is then `primary` at index 0 and `backup` otherwise, and the term is 1 when the partition has a copy, else 0.
 */
export const TableSchema = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'table format; absent = 1' })),
    epoch: EpochSchema,
    partitionCount: Type.Integer({ minimum: 1, maximum: 16384 }),
    replicas: Type.Integer({ minimum: 1, maximum: 8 }),
    members: Type.Array(MemberSchema, { maxItems: 10000 }),
    partitions: Type.Array(Type.Array(MemberIdSchema, { maxItems: MAX_COPIES_PER_PARTITION }), { maxItems: 16384 }),
    states: Type.Optional(Type.Array(Type.Array(Type.Union(COPY_STATES.map((s) => Type.Literal(s))), { maxItems: MAX_COPIES_PER_PARTITION }), { maxItems: 16384, description: 'format 2: the state of each copy, parallel to partitions' })),
    terms: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), { maxItems: 16384, description: 'format 2: the term of each partition' })),
    replication: Type.Optional(Type.Union(REPLICATION_MODES.map((s) => Type.Literal(s)), { description: 'when a primary acknowledges a write: sync (after every backup applied it) or async (at once); absent = async' })),
    minInSync: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_COPIES_PER_PARTITION, description: 'writes are refused (NOREPLICAS) when a partition has fewer in-sync copies (primary + backups); absent = 1' })),
  },
  { additionalProperties: false, $id: 'Table' },
);
export type TableJson = Static<typeof TableSchema>;

// ---------------------------------------------------------------------------------------------------------
// Control messages (issue 3). Every request schema has additionalProperties: false: unknown fields are refused
// (INVALID_REQUEST), so a typo never silently does nothing. Responses may gain fields in a compatible version;
// readers ignore fields they do not know.

/** Per-member restart counter: bumped each time a member (re)joins, so state stamped by an older incarnation is fenced. */
export const IncarnationSchema = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** `POST /v1/members`: a node asks to join (or re-join after a restart or after being declared dead). */
export const JoinRequestSchema = Type.Object(
  {
    name: MemberNameSchema,
    address: AddressSchema,
    zone: Type.Optional(ZoneSchema),
    capacity: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: CONTROL_LIMITS.maxCapacity, description: 'relative weight; default 1' })),
    protocolVersion: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'the protocol version the node speaks; default 1' })),
  },
  { additionalProperties: false, $id: 'JoinRequest' },
);
export type JoinRequest = Static<typeof JoinRequestSchema>;

export const JoinResponseSchema = Type.Object(
  {
    id: MemberIdSchema,
    incarnation: IncarnationSchema,
    epoch: Type.Integer({ minimum: 0, description: 'the last epoch whose table predates this join (the current one, or the one being published): the member appears in a later table, and roles listed for it in tables up to this epoch belonged to its previous incarnation' }),
    heartbeatMs: Type.Integer({ minimum: 1, description: 'send a heartbeat at this interval' }),
    protocolVersion: Type.Integer({ minimum: 1 }),
    clusterId: Type.Optional(ClusterIdSchema),
  },
  { additionalProperties: false, $id: 'JoinResponse' },
);
export type JoinResponse = Static<typeof JoinResponseSchema>;

/** `PUT /v1/members/{id}/heartbeat`: liveness plus the last table epoch the node has applied. */
/** A few statistics a node reports with each heartbeat (optional; shown by the dashboard and `ringleader status`). */
export const NodeStatsSchema = Type.Object(
  {
    /** Accounted bytes of keys and values. */
    usedBytes: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    /** The node's memory limit (0 = none). */
    maxMemoryBytes: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    keys: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    /** Commands per second since the previous heartbeat. */
    opsPerSec: Type.Number({ minimum: 0, maximum: 1e9 }),
    connectedClients: Type.Integer({ minimum: 0, maximum: 1e7 }),
  },
  { additionalProperties: false, $id: 'NodeStats' },
);
export type NodeStats = Static<typeof NodeStatsSchema>;

export const HeartbeatRequestSchema = Type.Object(
  {
    appliedEpoch: EpochSchema,
    incarnation: Type.Optional(IncarnationSchema),
    clusterId: Type.Optional(ClusterIdSchema),
    stats: Type.Optional(NodeStatsSchema),
  },
  { additionalProperties: false, $id: 'HeartbeatRequest' },
);
export type HeartbeatRequest = Static<typeof HeartbeatRequestSchema>;

export const HeartbeatResponseSchema = Type.Object(
  {
    epoch: EpochSchema,
    state: Type.Union(MEMBER_STATES.map((s) => Type.Literal(s))),
    incarnation: IncarnationSchema,
    heartbeatMs: Type.Integer({ minimum: 1 }),
    clusterId: Type.Optional(ClusterIdSchema),
    leaseMs: Type.Optional(Type.Integer({
      minimum: 0,
      maximum: 600_000,
      description: 'the lease this answer grants: the member may serve its partitions until (monotonic send time of this heartbeat) + leaseMs; 0 = no lease (a member that is not alive, e.g. left); absent = a coordinator older than leases, which grants none',
    })),
  },
  { additionalProperties: false, $id: 'HeartbeatResponse' },
);
export type HeartbeatResponse = Static<typeof HeartbeatResponseSchema>;

/** `DELETE /v1/members/{id}`: graceful leave; the member goes `leaving`, then `left` once its partitions moved. */
export const LeaveResponseSchema = Type.Object(
  { id: MemberIdSchema, state: Type.Union(MEMBER_STATES.map((s) => Type.Literal(s))), epoch: EpochSchema },
  { additionalProperties: false, $id: 'LeaveResponse' },
);
export type LeaveResponse = Static<typeof LeaveResponseSchema>;

/** A member as `GET /v1/members` shows it: the table's member fields plus coordinator-side bookkeeping. */
export const MemberStatusSchema = Type.Object(
  {
    id: MemberIdSchema,
    name: MemberNameSchema,
    address: AddressSchema,
    zone: Type.Union([ZoneSchema, Type.Null()]),
    capacity: Type.Number({ exclusiveMinimum: 0, maximum: CONTROL_LIMITS.maxCapacity }),
    state: Type.Union(MEMBER_STATES.map((s) => Type.Literal(s))),
    incarnation: IncarnationSchema,
    appliedEpoch: EpochSchema,
    lastHeartbeatAgoMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false, $id: 'MemberStatus' },
);
export type MemberStatus = Static<typeof MemberStatusSchema>;

export const MembersResponseSchema = Type.Object(
  { epoch: EpochSchema, members: Type.Array(MemberStatusSchema) },
  { additionalProperties: false, $id: 'MembersResponse' },
);
export type MembersResponse = Static<typeof MembersResponseSchema>;

const MemberRefSchema = Type.Object({ id: MemberIdSchema, name: MemberNameSchema, address: AddressSchema }, { additionalProperties: false });

/** `GET /v1/locate/{key}`: where a key lives. `primary` is null when the partition has no owner (no members). */
export const LocateResponseSchema = Type.Object(
  {
    key: Type.String(),
    slot: Type.Integer({ minimum: 0, maximum: 16383 }),
    partition: Type.Integer({ minimum: 0 }),
    primary: Type.Union([MemberRefSchema, Type.Null()]),
    backups: Type.Array(MemberRefSchema),
    epoch: EpochSchema,
  },
  { additionalProperties: false, $id: 'LocateResponse' },
);
export type LocateResponse = Static<typeof LocateResponseSchema>;

/** One partition a node must hold; `fetchFrom` is the member id to copy it from, or null when the node already has it (or no copy survives). */
export const AssignedPartitionSchema = Type.Object(
  { partition: Type.Integer({ minimum: 0 }), fetchFrom: Type.Union([MemberIdSchema, Type.Null()]) },
  { additionalProperties: false },
);
export type AssignedPartition = Static<typeof AssignedPartitionSchema>;

/**
 * `GET /v1/members/{id}/assignment?from=EPOCH`: what a node must do to go from table `fromEpoch` to table `epoch`.
 * `primary` and `backup` list every partition the node holds at `epoch` (a full statement, so applying it twice is
 * harmless); `evict` lists partitions to drop once the new holders confirmed (applied `epoch`).
 */
export const NodeAssignmentSchema = Type.Object(
  {
    memberId: MemberIdSchema,
    fromEpoch: EpochSchema,
    epoch: EpochSchema,
    primary: Type.Array(AssignedPartitionSchema),
    backup: Type.Array(AssignedPartitionSchema),
    evict: Type.Array(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false, $id: 'NodeAssignment' },
);
export type NodeAssignment = Static<typeof NodeAssignmentSchema>;

/** Membership event types on the watch stream (append-only). */
export const MEMBER_EVENT_TYPES = ['member-joined', 'member-active', 'member-suspect', 'member-dead', 'member-leaving', 'member-left'] as const;
export type MemberEventType = (typeof MEMBER_EVENT_TYPES)[number];

/**
 * SSE `event: <type>` for a membership change. `epoch` is the table epoch that reflects it: the stream sends an
 * epoch's membership events right before that epoch's table, so a watcher that resumes with `since` gets each once.
 */
export const MemberEventSchema = Type.Object(
  {
    type: Type.Union(MEMBER_EVENT_TYPES.map((s) => Type.Literal(s))),
    epoch: EpochSchema,
    member: MemberSchema,
    incarnation: IncarnationSchema,
  },
  { additionalProperties: false, $id: 'MemberEvent' },
);
export type MemberEvent = Static<typeof MemberEventSchema>;

/**
 * SSE `event: table` (with `id: <epoch>`): a table. `snapshot` is true for the first table of a stream without a
 * usable `since` and when a watcher fell too far behind (intermediate epochs and their membership events were skipped).
 */
export const TableEventSchema = Type.Object(
  { protocolVersion: Type.Integer({ minimum: 1 }), snapshot: Type.Boolean(), table: TableSchema },
  { additionalProperties: false, $id: 'TableEvent' },
);
export type TableEvent = Static<typeof TableEventSchema>;

/** Every 4xx/5xx body of the control API. `code` is from docs/ERRORS.md; decide on retries from the catalog, not the message. */
export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
        message: Type.String(),
        leader: Type.Optional(Type.String({ maxLength: 2048, description: 'NOT_LEADER only: the base URL of the leading coordinator, when known' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

export const HealthResponseSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('starting')], { description: "'starting' (HTTP 503): etcd mode, the cluster state was not read yet" }),
    epoch: EpochSchema,
    members: Type.Integer({ minimum: 0 }),
    protocolVersion: Type.Integer({ minimum: 1 }),
    clusterId: Type.Optional(ClusterIdSchema),
    role: Type.Optional(Type.Union([Type.Literal('leader'), Type.Literal('follower'), Type.Literal('starting')], { description: "etcd mode: whether this coordinator leads ('starting' until it has read the state from etcd); a lone coordinator is always leader" })),
    leader: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'the leading coordinator\'s URL (null while unknown)' })),
    store: Type.Optional(Type.String({ description: 'state store: memory, file or etcd' })),
    error: Type.Optional(Type.String({ description: 'etcd mode: the last failure to reach etcd (absent once it answers again)' })),
  },
  { additionalProperties: false, $id: 'HealthResponse' },
);
export type HealthResponse = Static<typeof HealthResponseSchema>;

/**
 * `POST /v1/recover`: a node whose applied epoch is ahead of the coordinator's (the coordinator lost its state) offers
 * the table it holds. The coordinator adopts it when it is newer than its own and from the same cluster, and continues
 * the epoch sequence from there: nothing moves, no node flushes. Answered `{ epoch, adopted }`.
 */
export const RecoverRequestSchema = Type.Object(
  {
    clusterId: ClusterIdSchema,
    id: MemberIdSchema,
    incarnation: IncarnationSchema,
    table: TableSchema,
  },
  { additionalProperties: false, $id: 'RecoverRequest' },
);
export type RecoverRequest = Static<typeof RecoverRequestSchema>;
export const RecoverResponseSchema = Type.Object(
  { epoch: EpochSchema, adopted: Type.Boolean() },
  { additionalProperties: false, $id: 'RecoverResponse' },
);
export type RecoverResponse = Static<typeof RecoverResponseSchema>;


/**
 * SSE `event: table-delta` (with `id: <epoch>`), sent instead of `table` to watchers that asked for deltas
 * (`/v1/watch?delta=1`) and hold table `fromEpoch`: the members that changed or appeared (`upsertMembers`), the ids
 * that are gone (`removeMembers`), and the partitions whose copies, states or term changed (`[partition, ids]`, with
 * `states[i]` and `terms[i]` parallel to `partitions[i]`). Applying it to table `fromEpoch` gives table `epoch` exactly
 * (members in id order, which is the planner's order). With 1000 members a full table is ~170 KB; a delta for one
 * join is ~1-10 KB, which is what lets 1000 watchers follow a 1000-member cluster.
 */
export const TableDeltaEventSchema = Type.Object(
  {
    protocolVersion: Type.Integer({ minimum: 1 }),
    fromEpoch: EpochSchema,
    epoch: EpochSchema,
    partitionCount: Type.Integer({ minimum: 1, maximum: 16384 }),
    replicas: Type.Integer({ minimum: 1, maximum: 8 }),
    upsertMembers: Type.Array(MemberSchema, { maxItems: 10000 }),
    removeMembers: Type.Array(MemberIdSchema, { maxItems: 10000 }),
    partitions: Type.Array(Type.Tuple([Type.Integer({ minimum: 0, maximum: 16383 }), Type.Array(MemberIdSchema, { maxItems: MAX_COPIES_PER_PARTITION })]), { maxItems: 16384 }),
    states: Type.Optional(Type.Array(Type.Array(Type.Union(COPY_STATES.map((s) => Type.Literal(s))), { maxItems: MAX_COPIES_PER_PARTITION }), { maxItems: 16384, description: 'parallel to partitions (absent: format-1 states)' })),
    terms: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), { maxItems: 16384, description: 'parallel to partitions (absent: format-1 terms)' })),
    replication: Type.Optional(Type.Union(REPLICATION_MODES.map((s) => Type.Literal(s)))),
    minInSync: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_COPIES_PER_PARTITION })),
  },
  { additionalProperties: false, $id: 'TableDeltaEvent' },
);
export type TableDeltaEvent = Static<typeof TableDeltaEventSchema>;

/** The states a format-1 replica set stands for: `primary` first, `backup` after. */
export function v1States(set: readonly string[]): CopyState[] {
  return set.map((_, i) => (i === 0 ? 'primary' : 'backup'));
}

/** The term a format-1 replica set stands for: 1 with a primary, else 0. */
export function v1Term(set: readonly string[]): number {
  return set.length > 0 ? 1 : 0;
}

const stateAt = (t: TableJson, p: number): readonly CopyState[] => t.states?.[p] ?? v1States(t.partitions[p] ?? []);
const termAt = (t: TableJson, p: number): number => t.terms?.[p] ?? v1Term(t.partitions[p] ?? []);

const sameMember = (a: MemberJson, b: MemberJson) =>
  a.name === b.name && a.address === b.address && a.zone === b.zone && a.capacity === b.capacity && a.state === b.state;

/** The delta from `prev` to `next`, or null when a delta cannot express it (partition count changed, members not in id order). Pure. */
export function tableDelta(prev: TableJson, next: TableJson): TableDeltaEvent | null {
  if (prev.partitionCount !== next.partitionCount) return null;
  for (let i = 1; i < next.members.length; i++) if (!(next.members[i - 1]!.id < next.members[i]!.id)) return null;
  const before = new Map(prev.members.map((m) => [m.id, m]));
  const after = new Set(next.members.map((m) => m.id));
  const upsertMembers = next.members.filter((m) => {
    const b = before.get(m.id);
    return b === undefined || !sameMember(b, m);
  });
  const removeMembers = prev.members.filter((m) => !after.has(m.id)).map((m) => m.id);
  const partitions: Array<[number, string[]]> = [];
  const states: CopyState[][] = [];
  const terms: number[] = [];
  next.partitions.forEach((set, p) => {
    const old = prev.partitions[p] ?? [];
    const oldStates = stateAt(prev, p);
    const newStates = stateAt(next, p);
    const same = old.length === set.length && old.every((id, i) => id === set[i] && oldStates[i] === newStates[i]) && termAt(prev, p) === termAt(next, p);
    if (same) return;
    partitions.push([p, [...set]]);
    states.push([...newStates]);
    terms.push(termAt(next, p));
  });
  const delta: TableDeltaEvent = { protocolVersion: PROTOCOL_VERSION, fromEpoch: prev.epoch, epoch: next.epoch, partitionCount: next.partitionCount, replicas: next.replicas, upsertMembers, removeMembers, partitions, states, terms };
  if (next.replication !== undefined) delta.replication = next.replication;
  if (next.minInSync !== undefined) delta.minInSync = next.minInSync;
  return delta;
}

/** Applies a delta to the table it was computed from; the result is a format-2 table. Throws RangeError when `prev` is not table `fromEpoch`. Pure. */
export function applyTableDelta(prev: TableJson, delta: TableDeltaEvent): TableJson {
  if (prev.epoch !== delta.fromEpoch) throw new RangeError(`delta from epoch ${delta.fromEpoch} applied to table ${prev.epoch}`);
  if (prev.partitionCount !== delta.partitionCount) throw new RangeError('delta changes the partition count');
  if (delta.states !== undefined && delta.states.length !== delta.partitions.length) throw new RangeError('delta states are not parallel to its partitions');
  if (delta.terms !== undefined && delta.terms.length !== delta.partitions.length) throw new RangeError('delta terms are not parallel to its partitions');
  const members = new Map(prev.members.map((m) => [m.id, m]));
  for (const id of delta.removeMembers) members.delete(id);
  for (const m of delta.upsertMembers) members.set(m.id, { ...m });
  const partitions = prev.partitions.map((s) => [...s]);
  const states = prev.partitions.map((_, p) => [...stateAt(prev, p)]);
  const terms = prev.partitions.map((_, p) => termAt(prev, p));
  delta.partitions.forEach(([p, set], i) => {
    if (p >= partitions.length) throw new RangeError(`delta names partition ${p} of ${partitions.length}`);
    partitions[p] = [...set];
    states[p] = [...(delta.states?.[i] ?? v1States(set))];
    terms[p] = delta.terms?.[i] ?? v1Term(set);
  });
  const out: TableJson = {
    format: TABLE_FORMAT,
    epoch: delta.epoch,
    partitionCount: delta.partitionCount,
    replicas: delta.replicas,
    members: [...members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    partitions,
    states,
    terms,
  };
  if (delta.replication !== undefined) out.replication = delta.replication;
  if (delta.minInSync !== undefined) out.minInSync = delta.minInSync;
  return out;
}

/** Status of a node's copy of a partition in a copy report (append-only). */
export const COPY_REPORT_STATUSES = ['synced', 'serving', 'failed'] as const;
export type CopyReportStatus = (typeof COPY_REPORT_STATUSES)[number];

/**
 * One partition in a copy report. `synced`: this node's copy of `partition` is complete and follows the primary of
 * `term` (a learner that finished its snapshot, or resumed). `serving`: this node is primary of `partition` at `term`
 * and serves it (a hand-over finished). `failed`: this node could not keep its copy (e.g. out of memory) and holds
 * nothing usable. `offset` is the copy's position in the partition's stream of `term`.
 */
export const CopyReportSchema = Type.Object(
  {
    partition: Type.Integer({ minimum: 0, maximum: 16383 }),
    term: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    status: Type.Union(COPY_REPORT_STATUSES.map((s) => Type.Literal(s))),
  },
  { additionalProperties: false, $id: 'CopyReport' },
);
export type CopyReport = Static<typeof CopyReportSchema>;

/**
 * Sync mode: the primary of `partition` at `term` asks the coordinator to take `members` (backups that did not
 * acknowledge in time, or are disconnected) out of the partition's in-sync set. The coordinator demotes them to
 * learners in the next table; the primary holds its acknowledgements until it sees that table.
 */
export const OutOfSyncSchema = Type.Object(
  {
    partition: Type.Integer({ minimum: 0, maximum: 16383 }),
    term: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    members: Type.Array(MemberIdSchema, { minItems: 1, maxItems: MAX_COPIES_PER_PARTITION }),
  },
  { additionalProperties: false, $id: 'OutOfSync' },
);
export type OutOfSync = Static<typeof OutOfSyncSchema>;

/**
 * `PUT /v1/members/{id}/copies`: a node reports the state of its copies. `incarnation` fences reports of an older
 * process; `epoch` is the last table epoch the node applied. A partition may appear at most once.
 */
export const CopyReportRequestSchema = Type.Object(
  {
    incarnation: IncarnationSchema,
    epoch: EpochSchema,
    copies: Type.Array(CopyReportSchema, { maxItems: CONTROL_LIMITS.maxReportCopies }),
    outOfSync: Type.Optional(Type.Array(OutOfSyncSchema, { maxItems: CONTROL_LIMITS.maxReportCopies, description: 'sync mode: backups this primary stops waiting for (removed from the in-sync set once saved)' })),
  },
  { additionalProperties: false, $id: 'CopyReportRequest' },
);
export type CopyReportRequest = Static<typeof CopyReportRequestSchema>;

export const CopyReportResponseSchema = Type.Object(
  { epoch: EpochSchema },
  { additionalProperties: false, $id: 'CopyReportResponse' },
);
export type CopyReportResponse = Static<typeof CopyReportResponseSchema>;

/** Every control schema, in the order docs/PROTOCOL.md shows them (generated by `npm run docs`). */
export const CONTROL_SCHEMAS = [
  MemberSchema, TableSchema, JoinRequestSchema, JoinResponseSchema, HeartbeatRequestSchema, HeartbeatResponseSchema,
  LeaveResponseSchema, MemberStatusSchema, MembersResponseSchema, LocateResponseSchema, NodeAssignmentSchema,
  MemberEventSchema, TableEventSchema, TableDeltaEventSchema, CopyReportSchema, CopyReportRequestSchema, CopyReportResponseSchema,
  ErrorBodySchema, HealthResponseSchema, RecoverRequestSchema, RecoverResponseSchema,
] as const;
