import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { COORDINATOR_ERRORS, errorFrom } from '../protocol/errors/index.js';

/** Control-plane authentication of a coordinator. */
export interface AuthOptions {
  /** The bearer token every mutating request must present (`Authorization: Bearer <token>`); null = no authentication. */
  token: string | null;
  /** With a token: let GET/HEAD requests (table, members, locate, watch, metrics) through without one. */
  publicReads: boolean;
}

/** Longest token accepted (a token file is read whole; a megabyte in it is a mistake, not a token). */
export const MAX_TOKEN_BYTES = 4096;
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** Paths open without a token whatever the options: liveness/readiness probes carry no credentials. */
const ALWAYS_OPEN: ReadonlySet<string> = new Set(['/healthz']);
const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** Checks a token's shape (printable ASCII, no spaces, 1..4096 bytes); throws TypeError naming `what`, never echoing the token. */
export function validateToken(token: string, what = 'token'): string {
  if (token.length === 0) throw new TypeError(`${what} is empty`);
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) throw new TypeError(`${what} is longer than ${MAX_TOKEN_BYTES} bytes`);
  if (!TOKEN_SHAPE.test(token)) throw new TypeError(`${what} must be printable ASCII without spaces`);
  return token;
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./i.test(h);
  return false;
}

/** Constant-time comparison (both sides are hashed first, so lengths do not leak either). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : null;
}

/**
 * One onRequest hook for the whole API, so routes added later are protected without touching them: every request
 * except GET /healthz (and, with publicReads, every GET/HEAD) needs the token; otherwise 401 UNAUTHORIZED before
 * any body is read or anything changes. The token is never logged (request logging is off, and errors do not echo it).
 */
export function installAuth(app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>, auth: AuthOptions, fail: (reply: FastifyReply, err: ReturnType<typeof errorFrom>) => unknown): void {
  const token = auth.token;
  if (token === null) return;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    if (ALWAYS_OPEN.has(path) && READ_METHODS.has(req.method)) return;
    if (auth.publicReads && READ_METHODS.has(req.method)) return;
    const presented = bearer(req);
    if (presented !== null && tokenMatches(presented, token)) return;
    reply.header('www-authenticate', 'Bearer realm="ringleader"');
    await fail(reply, errorFrom(COORDINATOR_ERRORS.UNAUTHORIZED, presented === null ? 'this coordinator requires a bearer token (Authorization: Bearer <token>)' : 'wrong bearer token'));
    return reply;
  });
}
