/**
 * The bare baseline of bench/node.ts: the same socket loop as the node (RequestDecoder, one ReplyWriter, one write
 * per read) over a plain Map, GET/SET only: no command table, limits, TTL, ownership, memory accounting or metrics.
 * Usage: node --import tsx bench/node-bare.ts PORT (prints "bare listening port=N").
 */
import { REPLY_OK, type ReplyWriter, type RequestDecoder } from '../src/protocol/resp/index.js';
import { serveBare } from './bare-server.js';

const map = new Map<string, string>();

serveBare((d: RequestDecoder, n: number, w: ReplyWriter) => {
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
});
