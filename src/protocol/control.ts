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
