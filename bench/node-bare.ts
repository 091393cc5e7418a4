/**
 * The bare baseline of bench/node.ts: the same socket loop as the node (RequestDecoder, one ReplyWriter, one write
 * per read) over a plain Map, GET/SET only: no command table, limits, TTL, ownership, memory accounting or metrics.
 * Usage: node --import tsx bench/node-bare.ts PORT (prints "bare listening port=N").
 */
import { createServer } from 'node:net';
import { ReplyWriter, REPLY_OK, RequestDecoder } from '../src/protocol/resp/index.js';

const map = new Map<string, string>();
const w = new ReplyWriter();
const server = createServer({ noDelay: true }, (socket) => {
  const d = new RequestDecoder();
  socket.on('data', (chunk: Buffer) => {
    d.feed(chunk);
    for (let n = d.next(); n > 0; n = d.next()) {
      const name = d.str(0);
      if ((name === 'GET' || name === 'get') && n === 2) {
        const v = map.get(d.str(1));
        if (v === undefined) w.nil();
        else w.bulk(v);
      } else if ((name === 'SET' || name === 'set') && n === 3) {
        map.set(d.str(1), d.str(2));
        w.raw(REPLY_OK);
      } else if (name === 'CONFIG' || name === 'config') {
        w.array(0);
      } else {
        w.raw(REPLY_OK);
      }
    }
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
