/**
 * The socket loop the bare baselines (bench/node-bare.ts, bench/types-bare.ts) share with the node: RequestDecoder,
 * one ReplyWriter, one write per read. Listens on 127.0.0.1:PORT (argv[2], 0 = any) and prints
 * "bare listening port=N" for the bench that started it.
 */
import { createServer } from 'node:net';
import { ReplyWriter, RequestDecoder } from '../src/protocol/resp/index.js';

/** Answers the request of `n` arguments in `d` into `w`. */
export type BareHandler = (d: RequestDecoder, n: number, w: ReplyWriter) => void;

export function serveBare(handle: BareHandler): void {
  const w = new ReplyWriter();
  const server = createServer({ noDelay: true }, (socket) => {
    const d = new RequestDecoder();
    socket.on('data', (chunk: Buffer) => {
      d.feed(chunk);
      for (let n = d.next(); n > 0; n = d.next()) handle(d, n, w);
      const out = w.take();
      if (out.length === 1) socket.write(out[0]!);
      else for (const b of out) socket.write(b);
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
    const a = server.address();
    console.log(`bare listening port=${typeof a === 'object' && a !== null ? a.port : 0}`);
  });
}
