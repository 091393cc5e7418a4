/**
 * The bare baseline of bench/types.ts: the node's socket loop (RequestDecoder, one ReplyWriter, one write per read)
 * over plain structures: a Map per hash, a Set per set, a Map + the store's ZIndex per sorted set. Only the
 * commands the bench sends (HSET HGET SADD SISMEMBER ZADD ZRANK ZRANGE start stop), no command table, types check,
 * TTL, ownership, accounting or events. Usage: node --import tsx bench/types-bare.ts PORT.
 * The structures are module state: one bare loop per process.
 */
import { pathToFileURL } from 'node:url';
import { REPLY_OK, type ReplyWriter, type RequestDecoder } from '../src/protocol/resp/index.js';
import { ZIndex } from '../src/storage/index.js';
import { serveBare } from './bare-server.js';

const hashes = new Map<string, Map<string, string>>();
const sets = new Map<string, Set<string>>();
const zsets = new Map<string, { scores: Map<string, number>; index: ZIndex }>();

/** Answers one request (also used in process by bench/types-cpu.ts). */
export function runBare(d: RequestDecoder, n: number, w: ReplyWriter): void {
  const name = d.str(0).toLowerCase();
  if (name === 'hset' && n === 4) {
    let h = hashes.get(d.str(1));
    if (h === undefined) hashes.set(d.str(1), (h = new Map()));
    const f = d.str(2);
    const isNew = !h.has(f);
    h.set(f, d.str(3));
    return w.integer(isNew ? 1 : 0);
  }
  if (name === 'hget' && n === 3) {
    const v = hashes.get(d.str(1))?.get(d.str(2));
    return v === undefined ? w.nil() : w.bulk(v);
  }
  if (name === 'sadd' && n === 3) {
    let s = sets.get(d.str(1));
    if (s === undefined) sets.set(d.str(1), (s = new Set()));
    const m = d.str(2);
    const isNew = !s.has(m);
    s.add(m);
    return w.integer(isNew ? 1 : 0);
  }
  if (name === 'sismember' && n === 3) return w.integer(sets.get(d.str(1))?.has(d.str(2)) === true ? 1 : 0);
  if (name === 'zadd' && n === 4) {
    let z = zsets.get(d.str(1));
    if (z === undefined) zsets.set(d.str(1), (z = { scores: new Map(), index: new ZIndex() }));
    const score = Number(d.str(2));
    const m = d.str(3);
    const cur = z.scores.get(m);
    z.scores.set(m, score);
    if (cur === undefined) z.index.insert(score, m);
    else if (cur !== score) z.index.updateScore(cur, m, score);
    return w.integer(cur === undefined ? 1 : 0);
  }
  if (name === 'zrank' && n === 3) {
    const z = zsets.get(d.str(1));
    const s = z?.scores.get(d.str(2));
    return z === undefined || s === undefined ? w.nil() : w.integer(z.index.rank(s, d.str(2)));
  }
  if (name === 'zrange' && n === 4) {
    const z = zsets.get(d.str(1));
    const start = Number(d.str(2));
    const stop = Number(d.str(3));
    const out: string[] = [];
    if (z !== undefined) {
      for (const [m] of z.index.walk(start, false)) {
        if (out.length > stop - start) break;
        out.push(m);
      }
    }
    w.array(out.length);
    for (const m of out) w.bulk(m);
    return;
  }
  if (name === 'config') return w.array(0);
  w.raw(REPLY_OK);
}

// Serves only when run as a script (bench/types-cpu.ts imports runBare).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) serveBare(runBare);
