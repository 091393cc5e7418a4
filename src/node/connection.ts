import type { Socket } from 'node:net';
import { RequestDecoder, type RequestDecoderLimits } from '../protocol/resp/index.js';

/** One client connection's state: its decoder and what HELLO / AUTH / CLIENT / READONLY / ASKING set. */
export class Connection {
  readonly decoder: RequestDecoder;
  /** Protocol version chosen with HELLO (2 or 3). */
  resp = 2;
  authenticated: boolean;
  name = '';
  libName = '';
  libVersion = '';
  /** READONLY: the client accepts reads from replicas (we still redirect reads of partitions we only back up). */
  readonly = false;
  /** ASKING: the next command may touch a slot being imported here (cleared after one command). */
  asking = false;
  /** Set when the connection must close once its pending replies are written (QUIT, protocol error). */
  closing = false;
  readonly createdAt: number;
  lastCommandAt: number;
  lastCommand = '';

  constructor(
    readonly id: number,
    readonly socket: Socket,
    limits: Partial<RequestDecoderLimits>,
    authenticated: boolean,
    now: number,
  ) {
    this.decoder = new RequestDecoder(limits);
    this.authenticated = authenticated;
    this.createdAt = now;
    this.lastCommandAt = now;
  }

  get address(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }
}
