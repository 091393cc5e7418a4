/**
 * CPU per command, node vs bare loop, in process (`npm run bench -- types-cpu`): the same pipelined request buffers
 * (16 commands each, the loads of bench/types.ts: HSET/HGET on one hash, SADD/SISMEMBER on one set, ZADD/ZRANK/
 * ZRANGE 0 9 on one sorted set, fields and members out of 100k) go through the node's real read path (a standalone
 * node's NodeServer, a stand-in socket that swallows replies) and through bench/types-bare.ts's handler behind the
 * same decoder/writer loop as bench/bare-server.ts. No sockets, no client: process CPU time (user + system) per
 * command, best of BENCH_ROUNDS rounds, so a shared noisy machine disturbs it less than the socket benchmark; the
 * socket costs both pay alike are left out, so the node/bare ratio here is lower than bench/types.ts's.
 * Prints a table, then one JSON line {"bench":"types-cpu","results":[{op,bareNs,nodeNs}]}. Env BENCH_ROUNDS (default
 * 7), BENCH_BATCHES (default 8000 per round and op).
 */
import { EventEmitter } from 'node:events';
import { startNode } from '../src/node/index.js';
import { ReplyWriter, RequestDecoder } from '../src/protocol/resp/index.js';
import { runBare } from './types-bare.js';

const P = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 8000);

const encode = (a: string[]): string => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;

function loads(): Array<[string, Buffer[]]> {
  let seed = 1;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % 100_000;
  };
  const make = (f: () => string[]): Buffer[] =>
    Array.from({ length: 512 }, () => Buffer.from(Array.from({ length: P }, () => encode(f())).join(''), 'latin1'));
  return [
    ['HSET', make(() => ['HSET', 'bench:h', `f:${rnd()}`, 'value-16-bytes!!'])],
    ['HGET', make(() => ['HGET', 'bench:h', `f:${rnd()}`])],
    ['SADD', make(() => ['SADD', 'bench:s', `m:${rnd()}`])],
    ['SISMEMBER', make(() => ['SISMEMBER', 'bench:s', `m:${rnd()}`])],
    ['ZADD', make(() => ['ZADD', 'bench:z', String(rnd()), `m:${rnd()}`])],
    ['ZRANK', make(() => ['ZRANK', 'bench:z', `m:${rnd()}`])],
    ['ZRANGE', make(() => ['ZRANGE', 'bench:z', '0', '9'])],
  ];
}

/** What NodeServer needs of a socket; replies are counted and dropped. */
class StandInSocket extends EventEmitter {
  destroyed = false;
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  remotePort = 1;
  localAddress = '127.0.0.1';
  localPort = 2;
  written = 0;
  write(b: Buffer): boolean {
    this.written += b.length;
    return true;
  }
  cork(): void {}
  uncork(): void {}
  setNoDelay(): void {}
  end(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}

export default async function run(): Promise<void> {
  const bw = new ReplyWriter();
  const bd = new RequestDecoder();
  const bareSocket = new StandInSocket();
  // bench/bare-server.ts's loop.
  const bare = (chunk: Buffer): void => {
    bd.feed(chunk);
    for (let n = bd.next(); n > 0; n = bd.next()) runBare(bd, n, bw);
    for (const b of bw.take()) bareSocket.write(b);
  };
  const node = await startNode({ name: 'types-cpu', standalone: true, metricsPort: -1, server: { host: '127.0.0.1', port: 0 } });
  const nodeSocket = new StandInSocket();
  (node.server as unknown as { accept(s: unknown): void }).accept(nodeSocket);
  const ours = (chunk: Buffer): void => void nodeSocket.emit('data', chunk);
  const best = new Map<string, { bareNs: number; nodeNs: number }>();
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const [op, bufs] of loads()) {
        for (const [which, feed] of [['bareNs', bare], ['nodeNs', ours]] as const) {
          const t = process.cpuUsage();
          for (let i = 0; i < BATCHES; i++) feed(bufs[i & 511]!);
          const u = process.cpuUsage(t);
          const ns = ((u.user + u.system) * 1000) / (BATCHES * P);
          const b = best.get(op) ?? { bareNs: Infinity, nodeNs: Infinity };
          b[which] = Math.min(b[which], ns);
          best.set(op, b);
        }
      }
    }
  } finally {
    await node.close();
  }
  console.log(`\nCPU per command in process, pipelines of ${P}, best of ${ROUNDS} rounds × ${BATCHES} batches`);
  console.log('op          bare ns  node ns  node - bare  bare/node');
  const results = [];
  for (const [op, b] of best) {
    results.push({ op, bareNs: Math.round(b.bareNs), nodeNs: Math.round(b.nodeNs) });
    console.log(`${op.padEnd(11)} ${String(Math.round(b.bareNs)).padStart(7)}  ${String(Math.round(b.nodeNs)).padStart(7)}  ${String(Math.round(b.nodeNs - b.bareNs)).padStart(11)}  ${(b.bareNs / b.nodeNs).toFixed(2).padStart(9)}`);
  }
  console.log(JSON.stringify({ bench: 'types-cpu', pipeline: P, rounds: ROUNDS, batches: BATCHES, results }));
}
