// Differential tests of the typed values: generated sequences of hash, set and sorted-set commands (with strings
// and generic commands mixed in, for WRONGTYPE and TYPE) run against a standalone node and against Debian's
// redis-server 7.0, in RESP2 and RESP3, and every reply is compared, error texts included.
//
// Normalised (and only these):
// - Replies whose order Redis does not define (HGETALL, HKEYS, HVALS, SMEMBERS, SINTER/SUNION/SDIFF, SCAN and the
//   SCANs of small collections) are compared sorted (pairs kept together).
// - Random picks (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER) are compared by reply type and length; SPOP is generated
//   only in forms that take the whole set or nothing (so both servers keep the same data).
// - HSCAN/SSCAN/ZSCAN are generated with COUNT above the collections' sizes: both use Redis's reverse-binary
//   cursor over buckets, but the node's buckets come from its own hash (docs/ARCHITECTURE.md "Collection scans"), so
//   cursor values and what one step returns differ for big collections.
// - OBJECT ENCODING is compared exactly (listpack/hashtable/intset/skiplist as Redis 7.0 picks them).
// Cluster mode: the multi-key forms against a one-node Redis Cluster, for CROSSSLOT.
import { test } from 'node:test';
import fc from 'fast-check';
import type { RespNode } from '../src/testing/index.js';
import { deepEqual, property as checkProperty, runBoth as runPair, sameWithTwoConnections, useDifferentialServers, type Cmd, type Pair } from './differential-fixture.js';

const servers = useDifferentialServers({ name: 'types-differential' });


const UNORDERED = new Set(['hgetall', 'hkeys', 'hvals', 'smembers', 'sinter', 'sunion', 'sdiff', 'spop']);
const RANDOM = new Set(['hrandfield', 'srandmember', 'zrandmember']);
const PAIRED = new Set(['hgetall', 'hscan', 'zscan']);

function text(n: RespNode): string {
  return 'v' in n ? `${n.t}:${n.v}` : JSON.stringify(n);
}

function sortedItems(items: RespNode[], paired: boolean): string[] {
  if (!paired) return items.map(text).sort();
  const out: string[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push(`${text(items[i]!)}=${text(items[i + 1]!)}`);
  return out.sort();
}

function normalise(cmd: Cmd, reply: RespNode): unknown {
  const name = cmd[0]!.toLowerCase();
  if (RANDOM.has(name)) return 'items' in reply ? { t: reply.t, n: reply.items.length } : reply.t === 'error' ? reply : reply.t;
  if (UNORDERED.has(name) && 'items' in reply) return { t: reply.t, items: sortedItems(reply.items, PAIRED.has(name)) };
  if ((name === 'scan' || name === 'hscan' || name === 'sscan' || name === 'zscan') && reply.t === 'array' && reply.items[1] !== undefined && 'items' in reply.items[1]) {
    return [reply.items[0], sortedItems(reply.items[1].items, PAIRED.has(name))];
  }
  return reply;
}

const agree = (cmd: Cmd, redis: RespNode, node: RespNode): boolean => deepEqual(normalise(cmd, node), normalise(cmd, redis));

const standalone = (): Pair => servers.standalone();
const cluster = (): Pair => servers.cluster();

// ------------------------------------------------------------------ generators

const key = fc.constantFrom('h', 's', 'z', 'k', '{t}a', '{t}b');
const field = fc.constantFrom('f', 'g', 'a', 'b', '1', '2', '10', '-3', '', 'x'.repeat(70), 'c\u00ff');
const value = fc.constantFrom('v', '', '0', '1', '-1', '10', '1.5', '3.0e2', 'abc', '9223372036854775807', '-9223372036854775808', ' 1', 'inf', 'y'.repeat(70));
const int = fc.constantFrom('0', '1', '-1', '2', '3', '5', '100', '-100', '9223372036854775807', '-9223372036854775808', 'x', '1.5', '');
const anyCase = (s: string): fc.Arbitrary<string> => fc.constantFrom(s, s.toLowerCase());
const fields = (min = 1): fc.Arbitrary<string[]> => fc.array(field, { minLength: min, maxLength: 4 });

/** Strings and generic commands mixed in: a key holding another type, TYPE, DEL, EXPIRE, RENAME/COPY. */
const generic: fc.Arbitrary<Cmd> = fc.oneof(
  fc.tuple(key, value).map(([k, v]) => ['SET', k, v]),
  fc.tuple(fc.constantFrom('GET', 'TYPE', 'DEL', 'EXISTS', 'STRLEN', 'INCR', 'PERSIST', 'TTL'), key).map((a) => [...a]),
  fc.tuple(key, value).map(([k, v]) => ['APPEND', k, v]),
  fc.tuple(key, key).map(([a, b]) => ['MGET', a, b]),
  fc.tuple(key).map(([k]) => ['EXPIRE', k, '1000']),
  fc.tuple(fc.constantFrom('RENAME', 'COPY'), key, key).map((a) => [...a]),
  fc.tuple(key).map(([k]) => ['OBJECT', 'ENCODING', k]),
  fc.constantFrom('string', 'hash', 'set', 'zset', 'nope').map((t) => ['SCAN', '0', 'COUNT', '1000', 'TYPE', t]),
);

const hashCommand: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(anyCase('HSET'), key, fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 3 })).map(([c, k, ps]) => [c, k, ...ps.flat()]) },
  fc.tuple(fc.constantFrom('HSET', 'HMSET'), key, field).map(([c, k, f]) => [c, k, f]),
  fc.tuple(fc.constantFrom('HMSET'), key, field, value).map((a) => [...a]),
  fc.tuple(fc.constantFrom('HSETNX'), key, field, value).map((a) => [...a]),
  fc.tuple(fc.constantFrom('HGET', 'HEXISTS', 'HSTRLEN'), key, field).map((a) => [...a]),
  fc.tuple(fc.constantFrom('HMGET', 'HDEL'), key, fields()).map(([c, k, fs]) => [c, k, ...fs]),
  fc.tuple(fc.constantFrom('HGETALL', 'HLEN', 'HKEYS', 'HVALS'), key).map((a) => [...a]),
  fc.tuple(key, field, int).map(([k, f, n]) => ['HINCRBY', k, f, n]),
  fc.tuple(key, field, fc.constantFrom('1', '0.1', '-2.5', '1e3', 'inf', '-inf', 'abc', '', '1e400', '5.0e-1')).map(([k, f, n]) => ['HINCRBYFLOAT', k, f, n]),
  fc.tuple(key, fc.constantFrom([], ['1'], ['3'], ['-2'], ['100'], ['0'], ['x'], ['2', 'WITHVALUES'], ['-5', 'withvalues'], ['1', 'FOO'], ['1', 'WITHVALUES', 'x'],
    ['-9223372036854775808'], ['9223372036854775807', 'WITHVALUES'])).map(([k, o]) => ['HRANDFIELD', k, ...o]),
  fc.tuple(key, fc.constantFrom('0', 'x', '18446744073709551616'), fc.constantFrom([], ['MATCH', 'f*'], ['COUNT', '20'], ['COUNT', '0'], ['COUNT', 'x'], ['FOO'], ['MATCH']))
    .map(([k, cur, o]) => ['HSCAN', k, cur, ...o]),
  generic,
);

const member = fc.constantFrom('a', 'b', 'c', '1', '2', '3', '10', '-5', '', 'm'.repeat(70), 'z\u00ff');
const members = (min = 1): fc.Arbitrary<string[]> => fc.array(member, { minLength: min, maxLength: 4 });

const setCommand: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(anyCase('SADD'), key, members()).map(([c, k, ms]) => [c, k, ...ms]) },
  fc.tuple(fc.constantFrom('SREM', 'SMISMEMBER'), key, members()).map(([c, k, ms]) => [c, k, ...ms]),
  fc.tuple(fc.constantFrom('SISMEMBER'), key, member).map((a) => [...a]),
  fc.tuple(fc.constantFrom('SMEMBERS', 'SCARD'), key).map((a) => [...a]),
  fc.tuple(key, fc.constantFrom(['100'], ['0'], ['-1'], ['x'], ['1', '2'])).map(([k, o]) => ['SPOP', k, ...o]),
  fc.tuple(key, fc.constantFrom([], ['1'], ['2'], ['-3'], ['100'], ['0'], ['x'], ['1', '2'], ['-9223372036854775808'])).map(([k, o]) => ['SRANDMEMBER', k, ...o]),
  fc.tuple(key, key, member).map(([a, b, m]) => ['SMOVE', a, b, m]),
  fc.tuple(fc.constantFrom('SINTER', 'SUNION', 'SDIFF'), fc.array(key, { minLength: 1, maxLength: 3 })).map(([c, ks]) => [c, ...ks]),
  fc.tuple(fc.constantFrom('SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE'), key, fc.array(key, { minLength: 1, maxLength: 3 })).map(([c, d, ks]) => [c, d, ...ks]),
  fc.tuple(fc.constantFrom('1', '2', '3', '0', '-1', 'x'), fc.array(key, { minLength: 1, maxLength: 3 }), fc.constantFrom([], ['LIMIT', '1'], ['LIMIT', '0'], ['LIMIT', '-1'], ['LIMIT', 'x'], ['FOO']))
    .map(([n, ks, o]) => ['SINTERCARD', n, ...ks, ...o]),
  fc.tuple(key, fc.constantFrom('0', 'x'), fc.constantFrom([], ['MATCH', '1*'], ['COUNT', '20'], ['COUNT', '0'], ['FOO', 'x'])).map(([k, cur, o]) => ['SSCAN', k, cur, ...o]),
  generic,
);

const score = fc.constantFrom('0', '1', '-1', '1.5', '2', '2.5', '1.1', '0.1', '100', '-inf', '+inf', 'inf', '1e3', '1e400', 'abc', '', '0x10', ' 1', 'nan', '-0', '3.0', '1e-400', '123456789.123');
const zRangeItem = fc.constantFrom('-inf', '+inf', '0', '1', '(1', '2', '(2.5', '1.5', 'x', '(', '', ' 2', '1e400');
const lexItem = fc.constantFrom('-', '+', '[a', '(a', '[b', '(c', '[', '(', 'a', '[10', '[z\u00ff');
const rankItem = fc.constantFrom('0', '1', '2', '-1', '-2', '-100', '100', 'x');
const zmember = fc.constantFrom('a', 'b', 'c', 'd', '1', '10', '', 'z\u00ff');
const rangeOpts = fc.subarray(['BYSCORE', 'BYLEX', 'REV', 'WITHSCORES', 'LIMIT', '1', '2', 'FOO'], { maxLength: 4 });

const zsetCommand: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(key, fc.subarray(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR', 'nx'], { maxLength: 2 }), fc.array(fc.tuple(score, zmember), { minLength: 1, maxLength: 3 }))
    .map(([k, f, ps]) => ['ZADD', k, ...f, ...ps.flat()]) },
  { weight: 3, arbitrary: fc.tuple(key, fc.array(fc.tuple(fc.constantFrom('0', '1', '2', '5', '1.5', '-1'), zmember), { minLength: 1, maxLength: 4 })).map(([k, ps]) => ['ZADD', k, ...ps.flat()]) },
  fc.tuple(key, fc.constantFrom('0', '1', 'x')).map(([k, s]) => ['ZADD', k, s]),
  fc.tuple(key, score, zmember).map(([k, s, m]) => ['ZINCRBY', k, s, m]),
  fc.tuple(fc.constantFrom('ZCARD'), key).map((a) => [...a]),
  fc.tuple(fc.constantFrom('ZSCORE', 'ZRANK', 'ZREVRANK'), key, zmember).map((a) => [...a]),
  fc.tuple(fc.constantFrom('ZMSCORE', 'ZREM'), key, fc.array(zmember, { minLength: 1, maxLength: 3 })).map(([c, k, ms]) => [c, k, ...ms]),
  fc.tuple(key, rankItem, rankItem, rangeOpts).map(([k, a, b, o]) => ['ZRANGE', k, a, b, ...o]),
  fc.tuple(key, zRangeItem, zRangeItem, rangeOpts).map(([k, a, b, o]) => ['ZRANGE', k, a, b, ...o]),
  fc.tuple(key, lexItem, lexItem, rangeOpts).map(([k, a, b, o]) => ['ZRANGE', k, a, b, ...o]),
  fc.tuple(key, rankItem, rankItem, fc.subarray(['WITHSCORES', 'FOO'], { maxLength: 1 })).map(([k, a, b, o]) => ['ZREVRANGE', k, a, b, ...o]),
  fc.tuple(fc.constantFrom('ZRANGEBYSCORE', 'ZREVRANGEBYSCORE'), key, zRangeItem, zRangeItem, fc.subarray(['WITHSCORES', 'LIMIT', '0', '1', '-1', 'REV'], { maxLength: 4 }))
    .map(([c, k, a, b, o]) => [c, k, a, b, ...o]),
  fc.tuple(fc.constantFrom('ZRANGEBYLEX', 'ZREVRANGEBYLEX'), key, lexItem, lexItem, fc.subarray(['LIMIT', '1', '2', '-1', 'WITHSCORES'], { maxLength: 3 }))
    .map(([c, k, a, b, o]) => [c, k, a, b, ...o]),
  fc.tuple(key, key, zRangeItem, zRangeItem, fc.subarray(['BYSCORE', 'REV', 'LIMIT', '0', '2', 'WITHSCORES'], { maxLength: 3 })).map(([d, s, a, b, o]) => ['ZRANGESTORE', d, s, a, b, ...o]),
  fc.tuple(key, key, rankItem, rankItem).map(([d, s, a, b]) => ['ZRANGESTORE', d, s, a, b]),
  fc.tuple(key, zRangeItem, zRangeItem).map(([k, a, b]) => ['ZCOUNT', k, a, b]),
  fc.tuple(key, lexItem, lexItem).map(([k, a, b]) => ['ZLEXCOUNT', k, a, b]),
  fc.tuple(key, rankItem, rankItem).map(([k, a, b]) => ['ZREMRANGEBYRANK', k, a, b]),
  fc.tuple(key, zRangeItem, zRangeItem).map(([k, a, b]) => ['ZREMRANGEBYSCORE', k, a, b]),
  fc.tuple(key, lexItem, lexItem).map(([k, a, b]) => ['ZREMRANGEBYLEX', k, a, b]),
  fc.tuple(fc.constantFrom('ZPOPMIN', 'ZPOPMAX'), key, fc.constantFrom([], ['1'], ['2'], ['0'], ['-1'], ['x'], ['1', '2'], ['100'])).map(([c, k, o]) => [c, k, ...o]),
  fc.tuple(key, fc.constantFrom([], ['1'], ['2'], ['-3'], ['0'], ['x'], ['2', 'WITHSCORES'], ['-2', 'withscores'], ['1', 'FOO'], ['100', 'WITHSCORES'])).map(([k, o]) => ['ZRANDMEMBER', k, ...o]),
  fc.tuple(fc.constantFrom('ZUNION', 'ZINTER', 'ZDIFF'), fc.constantFrom('1', '2', '0', '3', 'x'), fc.array(key, { minLength: 1, maxLength: 2 }),
    fc.subarray(['WEIGHTS', '2', '0.5', 'AGGREGATE', 'MIN', 'MAX', 'SUM', 'WITHSCORES', 'inf', 'x'], { maxLength: 4 }))
    .map(([c, n, ks, o]) => [c, n, ...ks, ...o]),
  fc.tuple(fc.constantFrom('ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE'), key, fc.constantFrom('1', '2', '0', 'x'), fc.array(key, { minLength: 1, maxLength: 2 }),
    fc.subarray(['WEIGHTS', '2', '-1', 'AGGREGATE', 'MAX', 'WITHSCORES'], { maxLength: 3 }))
    .map(([c, d, n, ks, o]) => [c, d, n, ...ks, ...o]),
  fc.tuple(key, fc.constantFrom('0', 'x'), fc.constantFrom([], ['MATCH', 'a*'], ['COUNT', '5'], ['COUNT', '-1'])).map(([k, cur, o]) => ['ZSCAN', k, cur, ...o]),
  fc.tuple(fc.constantFrom('1', '2', '3', '0', '-1', 'x', ''), fc.array(key, { minLength: 1, maxLength: 3 }),
    fc.subarray(['LIMIT', '0', '1', '2', '-1', 'x', 'limit', 'WEIGHTS', 'WITHSCORES'], { maxLength: 4 }))
    .map(([n, ks, o]) => ['ZINTERCARD', n, ...ks, ...o]),
  fc.tuple(key, fields()).map(([k, fs]) => ['SADD', k, ...fs]),
  fc.tuple(fc.constantFrom('ZUNIONSTORE', 'ZDIFF', 'SINTERCARD', 'ZRANGESTORE', 'SMOVE', 'HSET'), fc.array(fc.constantFrom('a', 'b', '1', '2', '0', 'x', 'WEIGHTS'), { maxLength: 5 }))
    .map(([c, a]) => ['COMMAND', 'GETKEYS', c, ...a]),
  generic,
);

/** Multi-key forms across slots in cluster mode: CROSSSLOT as a one-node Redis Cluster answers. */
const clusterKey = fc.constantFrom('a', 'b', '{t}1', '{t}2');
const clusterCommand: fc.Arbitrary<Cmd> = fc.oneof(
  fc.tuple(clusterKey, members()).map(([k, ms]) => ['SADD', k, ...ms]),
  fc.tuple(clusterKey, fc.constantFrom('1', '2'), zmember).map(([k, s, m]) => ['ZADD', k, s, m]),
  fc.tuple(fc.constantFrom('SINTER', 'SUNION', 'SDIFF', 'SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE'), fc.array(clusterKey, { minLength: 2, maxLength: 3 })).map(([c, ks]) => [c, ...ks]),
  fc.tuple(clusterKey, clusterKey, member).map(([a, b, m]) => ['SMOVE', a, b, m]),
  fc.tuple(clusterKey, clusterKey).map(([a, b]) => ['SINTERCARD', '2', a, b]),
  fc.tuple(fc.constantFrom('ZUNION', 'ZINTER', 'ZDIFF'), clusterKey, clusterKey).map(([c, a, b]) => [c, '2', a, b]),
  fc.tuple(clusterKey, clusterKey, fc.constantFrom([], ['LIMIT', '1'])).map(([a, b, o]) => ['ZINTERCARD', '2', a, b, ...o]),
  fc.tuple(fc.constantFrom('ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE'), clusterKey, clusterKey, clusterKey).map(([c, d, a, b]) => [c, d, '2', a, b]),
  fc.tuple(clusterKey, clusterKey).map(([d, s]) => ['ZRANGESTORE', d, s, '0', '-1']),
);

async function property(cmd: fc.Arbitrary<Cmd>, pair: () => Pair): Promise<void> {
  await checkProperty(cmd, (cmds, proto) => runPair(cmds, proto, pair(), agree), 30);
}

test('hashes: generated sequences reply as redis-server does (RESP2 and RESP3)', async () => {
  await property(hashCommand, standalone);
});

test('sets: generated sequences reply as redis-server does (RESP2 and RESP3)', async () => {
  await property(setCommand, standalone);
});

test('sorted sets: generated sequences reply as redis-server does (RESP2 and RESP3)', async () => {
  await property(zsetCommand, standalone);
});

test('cluster mode: multi-key set and sorted-set commands across slots answer CROSSSLOT as Redis Cluster', async () => {
  await property(clusterCommand, cluster);
});

// Sequences that once differed, kept as regression cases.
const REGRESSIONS: ReadonlyArray<readonly Cmd[]> = [
  // Scores print as Redis 7.0's %.17g; big collections switch encoding.
  [['ZADD', 'z', '1e16', 'e', '-2.5e16', 'f', '123456789012345', 'g'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZINCRBY', 'z', '1', 'e']],
  [['ZADD', 'z', '1.1', 'a', '0.1', 'b', '1e20', 'c', '-0.0001', 'd'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZSCORE', 'z', 'a'], ['ZINCRBY', 'z', '0.2', 'b']],
  // ZINTERCARD (Redis 7.0): sorted sets and sets mixed, LIMIT, and the argument errors in Redis's order.
  [['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['SADD', 's', 'a', 'c', 'd'], ['SET', 'k', 'v'], ['ZINTERCARD', '2', 'z', 's'], ['ZINTERCARD', '2', 'z', 's', 'LIMIT', '1'],
    ['ZINTERCARD', '2', 'z', 's', 'LIMIT', '0'], ['ZINTERCARD', '1', 'z', 'limit', '5'], ['ZINTERCARD', '2', 'z', 'nope'], ['ZINTERCARD', '2', 'z', 'k'], ['ZINTERCARD', '0', 'z'],
    ['ZINTERCARD', '3', 'z', 's'], ['ZINTERCARD', 'x', 'z'], ['ZINTERCARD', '2', 'z', 's', 'LIMIT', '-1'], ['ZINTERCARD', '2', 'z', 's', 'LIMIT'], ['ZINTERCARD', '2', 'z', 'k', 'LIMIT', 'x'],
    ['ZINTERCARD', '1', 'z', 'WITHSCORES'], ['ZINTERCARD', '1', 'z', 'LIMIT', '1', 'LIMIT', '2']],
  [['HSET', 'h', 'f', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'h'], ['SADD', 's', '1', '2'], ['OBJECT', 'ENCODING', 's'], ['SADD', 's', 'a'], ['OBJECT', 'ENCODING', 's']],
];

test('regression sequences reply as redis-server does', async () => {
  for (const cmds of REGRESSIONS) for (const proto of [2, 3] as const) await runPair(cmds, proto, standalone(), agree);
});

test('WATCH on collections: a real change by another connection aborts EXEC, a no-op (SADD of a member, ZADD of the same score) does not, as on redis-server', async () => {
  for (const proto of [2, 3] as const) {
    await sameWithTwoConnections(standalone(), proto, async (a, b) => {
      let text = '';
      for (const cmd of [['HSET', 'h', 'f', 'v'], ['SADD', 's', 'm'], ['ZADD', 'z', '1', 'm']]) await a.call(cmd);
      const round = async (key: string, other: string[]): Promise<void> => {
        for (const cmd of [['WATCH', key], ['MULTI'], ['TYPE', key]]) text += (await a.call(cmd)).raw;
        text += (await b.call(other)).raw;
        text += (await a.call(['EXEC'])).raw;
      };
      await round('h', ['HSET', 'h', 'f', 'v']); // HSET always touches the key
      await round('h', ['HDEL', 'h', 'nope']);
      await round('s', ['SADD', 's', 'm']);
      await round('s', ['SREM', 's', 'm']);
      await round('z', ['ZADD', 'z', '1', 'm']);
      await round('z', ['ZINCRBY', 'z', '1', 'm']);
      return text;
    });
  }
});
