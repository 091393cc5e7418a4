import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { isRingleaderError, type RingleaderError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import {
  CONTROL_LIMITS, CopyReportRequestSchema, HeartbeatRequestSchema, JoinRequestSchema, MemberIdSchema, PROTOCOL_VERSION, RecoverRequestSchema,
  type CopyReportRequest, type ErrorBody, type HealthResponse, type HeartbeatRequest, type JoinRequest, type RecoverRequest,
} from '../protocol/control.js';
import { allErrors, COMMON_ERRORS, COORDINATOR_ERRORS, errorFrom } from '../protocol/errors/index.js';
import { installAuth, type AuthOptions } from './auth.js';
import type { Coordinator } from './coordinator.js';
import { dashboardPage } from '../dashboard/index.js';
import { StatsBoard } from './stats.js';
import { registerTableMetrics } from './table-metrics.js';
import { locate } from './views.js';
import type { WatchHub } from './watch-hub.js';

const checkJoin = TypeCompiler.Compile(JoinRequestSchema);
const checkHeartbeat = TypeCompiler.Compile(HeartbeatRequestSchema);
const checkCopyReport = TypeCompiler.Compile(CopyReportRequestSchema);
const checkId = TypeCompiler.Compile(MemberIdSchema);
const checkRecover = TypeCompiler.Compile(RecoverRequestSchema);
/** A recovery offer carries a whole table (16384 partitions x 8 copies of 40-hex ids, 10,000 members). */
const MAX_RECOVER_BYTES = 16 * 1024 * 1024;
const READS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** Who leads (etcd mode); a lone coordinator always leads. */
export interface LeadershipView {
  isLeader(): boolean;
  /** The leader's base URL, or null while unknown. */
  leader(): string | null;
  /** Whether the cluster state was read from the store yet, and the store's last error (etcd mode). */
  status?(): { ready: boolean; error: string | null };
}
/** What a coordinator that is not ready still answers. */
const WHILE_NOT_READY: ReadonlySet<string> = new Set(['/healthz', '/metrics', '/']);

/** What buildHttp adds around the routes: authentication, leadership, and facts for /healthz. */
export interface HttpExtras {
  auth?: AuthOptions;
  leadership?: LeadershipView;
  /** State store kind shown by /healthz: memory, file, etcd. */
  storeKind?: string;
}
const EPOCH_PARAM = /^(0|[1-9][0-9]{0,15})$/;
const MAX_KEY_BYTES = 4096;

/** Validates `value` against a compiled schema; throws INVALID_REQUEST naming the first offending field. */
function validate<T>(check: TypeCheck<TSchema>, value: unknown, what: string): T {
  if (check.Check(value)) return value as T;
  const first = check.Errors(value).First();
  const where = first ? (first.path === '' ? what : `${what} field ${first.path.slice(1)}`) : what;
  throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `${where}: ${first?.message ?? 'invalid'}`);
}

function memberId(req: FastifyRequest): string {
  const id = (req.params as { id: string }).id;
  if (!checkId.Check(id)) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, 'member id must be 40 lowercase hex characters');
  return id;
}

/** Refuses query parameters on endpoints that take none. */
function noQuery(req: FastifyRequest): void {
  const k = Object.keys(req.query as object)[0];
  if (k !== undefined) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `unknown query parameter ${k}`);
}

/** Parses an optional epoch query parameter and refuses parameters not in `allowed` (a typo must not pass silently). */
function epochQuery(req: FastifyRequest, name: string, allowed: readonly string[] = [name]): number | undefined {
  const q = req.query as Record<string, unknown>;
  for (const k of Object.keys(q)) if (!allowed.includes(k)) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `unknown query parameter ${k}`);
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !EPOCH_PARAM.test(v) || !Number.isSafeInteger(Number(v))) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `${name} must be a non-negative integer epoch`);
  return Number(v);
}

function fromFastify(err: { code?: string; statusCode?: number; message: string }): RingleaderError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorFrom(COORDINATOR_ERRORS.BODY_TOO_LARGE, `request body larger than the limit (${CONTROL_LIMITS.maxBodyBytes} bytes; ${CONTROL_LIMITS.maxReportBodyBytes} for copy reports)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errorFrom(COORDINATOR_ERRORS.UNSUPPORTED_MEDIA_TYPE, 'request bodies must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errorFrom(COORDINATOR_ERRORS.INVALID_JSON, 'request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, 'content-length does not match the body');
  }
  if (err.statusCode === 400) return errorFrom(COORDINATOR_ERRORS.INVALID_JSON, `request body is not valid JSON: ${err.message}`);
  if (err.statusCode === 413) return errorFrom(COORDINATOR_ERRORS.BODY_TOO_LARGE, err.message);
  return errorFrom(COMMON_ERRORS.INTERNAL, 'internal error');
}

function send(reply: FastifyReply, err: RingleaderError): FastifyReply {
  const status = allErrors().find((e) => e.code === err.code)?.http ?? 500;
  const leader = err.details?.['leader'];
  const body: ErrorBody = { error: typeof leader === 'string' ? { code: err.code, message: err.message, leader } : { code: err.code, message: err.message } };
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(body);
}

/**
 * The control API on Fastify. Bodies are validated here against the protocol schemas (TypeCompiler, not Fastify's
 * Ajv, so unknown fields are refused rather than stripped and numbers are never coerced); every error becomes
 * {error:{code,message}} with the catalog's HTTP status.
 */
export function buildHttp(coordinator: Coordinator, hub: WatchHub, logger: Logger, clock: Clock, extras: HttpExtras = {}): FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger> {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: CONTROL_LIMITS.maxBodyBytes,
    routerOptions: { maxParamLength: MAX_KEY_BYTES * 3 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Close destroys every connection: a watch stream whose reader stopped reading (a paused node) would otherwise keep
    // close() waiting for its buffered events to drain, and the process alive after SIGTERM.
    forceCloseConnections: true,
  });

  const stats = new StatsBoard(clock);
  registerTableMetrics(coordinator.metrics.registry, () => coordinator.table, () => coordinator.members(), stats);

  app.setErrorHandler((error, _req, reply) => {
    if (isRingleaderError(error)) return send(reply, error);
    const mapped = fromFastify(error as { code?: string; statusCode?: number; message: string });
    if (mapped.code === COMMON_ERRORS.INTERNAL.code) logger.error({ err: error }, 'unexpected error in request');
    return send(reply, mapped);
  });
  app.setNotFoundHandler((req, reply) => send(reply, errorFrom(COORDINATOR_ERRORS.NOT_FOUND, `no endpoint ${req.method} ${req.url.split('?')[0]}`)));
  // Hooks on method, not per route: every route added later is covered too.
  if (extras.auth) installAuth(app, extras.auth, send);
  const leadership = extras.leadership;
  if (leadership?.status) {
    const status = leadership.status.bind(leadership);
    app.addHook('preHandler', async (req, reply) => {
      if (WHILE_NOT_READY.has(req.url.split('?')[0]!)) return;
      const s = status();
      if (s.ready) return;
      await send(reply, errorFrom(COORDINATOR_ERRORS.NOT_READY, `this coordinator has not read the cluster state yet: ${s.error ?? 'the state store has not answered yet'}`));
      return reply;
    });
  }
  if (leadership) {
    app.addHook('preHandler', async (req, reply) => {
      if (READS.has(req.method) || leadership.isLeader()) return;
      const leader = leadership.leader();
      await send(reply, errorFrom(COORDINATOR_ERRORS.NOT_LEADER, `this coordinator is a follower; the leader is ${leader ?? 'not known yet'}`, leader === null ? undefined : { leader }));
      return reply;
    });
  }

  app.post('/v1/members', async (req) => {
    noQuery(req);
    return coordinator.join(validate<JoinRequest>(checkJoin, req.body, 'join request'));
  });

  app.put('/v1/members/:id/heartbeat', async (req) => {
    const started = clock.monotonic();
    const id = memberId(req);
    const body = validate<HeartbeatRequest>(checkHeartbeat, req.body, 'heartbeat');
    const res = coordinator.heartbeat(id, body);
    stats.record(id, body.stats);
    coordinator.metrics.heartbeatSeconds.observe((clock.monotonic() - started) / 1000);
    return res;
  });

  app.put('/v1/members/:id/copies', { bodyLimit: CONTROL_LIMITS.maxReportBodyBytes }, async (req) => {
    noQuery(req);
    const id = memberId(req);
    return coordinator.reportCopies(id, validate<CopyReportRequest>(checkCopyReport, req.body, 'copy report'));
  });

  app.delete('/v1/members/:id', async (req) => coordinator.leave(memberId(req)));

  // The operator accepts the loss of partitions that have no copy left: they are re-created empty.
  app.post('/v1/partitions/recreate-lost', async (req) => {
    noQuery(req);
    return coordinator.recreateLost();
  });

  app.get('/v1/members/:id/assignment', async (req) => coordinator.assignment(memberId(req), epochQuery(req, 'from')));

  app.get('/v1/members', async (req) => {
    noQuery(req);
    return { epoch: coordinator.epoch, members: coordinator.members() };
  });

  app.get('/v1/table', async (req, reply) => {
    noQuery(req);
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(coordinator.table.toJSON()));
  });

  app.get('/v1/locate/:key', async (req) => {
    const key = (req.params as { key: string }).key;
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `key longer than ${MAX_KEY_BYTES} bytes`);
    return locate(coordinator.table, key);
  });

  app.get('/v1/watch', async (req, reply) => {
    let since = epochQuery(req, 'since', ['since', 'delta', 'member']);
    const deltaParam = (req.query as Record<string, unknown>)['delta'];
    if (deltaParam !== undefined && deltaParam !== '0' && deltaParam !== '1') throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, 'delta must be 0 or 1');
    // A node's own watch names its member id: when the stream closes, the coordinator probes that member (fast failure path).
    const member = (req.query as Record<string, unknown>)['member'];
    if (member !== undefined && (typeof member !== 'string' || !checkId.Check(member))) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, 'member must be a member id (40 lowercase hex characters)');
    const lastEventId = req.headers['last-event-id'];
    if (since === undefined && typeof lastEventId === 'string' && lastEventId !== '') {
      // Browsers' EventSource resends the last `id:` (an epoch) on reconnect.
      if (!EPOCH_PARAM.test(lastEventId)) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, 'Last-Event-ID must be an epoch');
      since = Number(lastEventId);
    }
    if (since !== undefined && since > coordinator.epoch) {
      throw errorFrom(COORDINATOR_ERRORS.EPOCH_AHEAD, `since ${since} is newer than the current epoch ${coordinator.epoch}`);
    }
    reply.hijack();
    hub.open(reply.raw, since, deltaParam === '1', member);
  });

  app.post('/v1/recover', { bodyLimit: MAX_RECOVER_BYTES }, async (req) => {
    noQuery(req);
    return coordinator.recover(validate<RecoverRequest>(checkRecover, req.body, 'recover request'));
  });

  // `members` counts members that are part of the cluster (not those that left or died and are not yet forgotten).
  // 503 while not ready (etcd mode, state not read yet): a readiness probe keeps traffic away, the body says why.
  app.get('/healthz', async (_req, reply) => {
    const s = leadership?.status?.() ?? { ready: true, error: null };
    const body: HealthResponse = {
      status: s.ready ? 'ok' : 'starting',
      epoch: coordinator.epoch,
      members: coordinator.members().filter((m) => m.state !== 'left' && m.state !== 'dead').length,
      protocolVersion: PROTOCOL_VERSION,
      clusterId: coordinator.clusterId,
      role: !s.ready ? 'starting' : leadership ? (leadership.isLeader() ? 'leader' : 'follower') : coordinator.role,
      leader: leadership ? leadership.leader() : null,
      ...(extras.storeKind === undefined ? {} : { store: extras.storeKind }),
      ...(s.error === null ? {} : { error: s.error }),
    };
    return reply.code(s.ready ? 200 : 503).send(body);
  });

  // Per-member statistics from heartbeats (memory, keys, ops/s): what the dashboard polls beside the watch stream.
  app.get('/v1/stats', async (req) => {
    noQuery(req);
    return { epoch: coordinator.epoch, members: stats.view(coordinator.members()) };
  });

  // The dashboard: one self-contained page (inline CSS and JS, no request leaves the coordinator).
  app.get('/', async (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(dashboardPage()));

  app.get('/metrics', async (_req, reply) => {
    const text = await coordinator.metrics.registry.metrics();
    return reply.header('content-type', coordinator.metrics.registry.contentType).send(text);
  });

  return app;
}
