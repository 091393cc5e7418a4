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

/** The partition table's JSON form: a public contract. `partitions[i]` is partition i's replica set, primary first. */
export const TableSchema = Type.Object(
  {
    epoch: EpochSchema,
    partitionCount: Type.Integer({ minimum: 1, maximum: 16384 }),
    replicas: Type.Integer({ minimum: 1, maximum: 8 }),
    members: Type.Array(MemberSchema, { maxItems: 10000 }),
    partitions: Type.Array(Type.Array(MemberIdSchema, { maxItems: 8 }), { maxItems: 16384 }),
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
    epoch: Type.Integer({ minimum: 0, description: 'the current table epoch; the member appears in a table with a higher epoch shortly' }),
    heartbeatMs: Type.Integer({ minimum: 1, description: 'send a heartbeat at this interval' }),
    protocolVersion: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false, $id: 'JoinResponse' },
);
export type JoinResponse = Static<typeof JoinResponseSchema>;

/** `PUT /v1/members/{id}/heartbeat`: liveness plus the last table epoch the node has applied. */
export const HeartbeatRequestSchema = Type.Object(
  {
    appliedEpoch: EpochSchema,
    incarnation: Type.Optional(IncarnationSchema),
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
  { error: Type.Object({ code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }), message: Type.String() }, { additionalProperties: false }) },
  { additionalProperties: false, $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

export const HealthResponseSchema = Type.Object(
  { status: Type.Literal('ok'), epoch: EpochSchema, members: Type.Integer({ minimum: 0 }), protocolVersion: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false, $id: 'HealthResponse' },
);
export type HealthResponse = Static<typeof HealthResponseSchema>;

/** Every control schema, for docs/PROTOCOL.md generation. */
export const CONTROL_SCHEMAS = [
  MemberSchema, TableSchema, JoinRequestSchema, JoinResponseSchema, HeartbeatRequestSchema, HeartbeatResponseSchema,
  LeaveResponseSchema, MemberStatusSchema, MembersResponseSchema, LocateResponseSchema, NodeAssignmentSchema,
  MemberEventSchema, TableEventSchema, ErrorBodySchema, HealthResponseSchema,
] as const;
