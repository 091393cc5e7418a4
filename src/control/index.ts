/**
 * The coordinator's API client, shared by nodes and clients: typed calls (join, heartbeat, leave, table, members,
 * locate, assignment), a self-reconnecting table watch that delivers every epoch once and in order, and a member
 * session that keeps a node joined.
 */
export { CoordinatorClient } from './client.js';
export { TableWatch, type WatchOptions, type WatchEvents, type TableInfo } from './watch.js';
export { MemberSession, type MemberSessionOptions, type MemberSessionEvents } from './session.js';
export { Lease } from './lease.js';
export { DEFAULT_COORDINATOR_CLIENT_OPTIONS, resolveCoordinatorClientOptions, normalizeBaseUrl, type CoordinatorClientOptions, type CoordinatorClientInput } from './options.js';
export { SseParser, type SseEvent } from './sse.js';
export { errorFromBody } from './errors.js';
export type {
  JoinRequest, JoinResponse, HeartbeatResponse, LeaveResponse, MembersResponse, MemberStatus, LocateResponse,
  NodeAssignment, AssignedPartition, MemberEvent, MemberEventType, TableEvent, CopyReport, CopyReportRequest, CopyReportResponse, CopyReportStatus,
} from '../protocol/control.js';
