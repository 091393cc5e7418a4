import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startNodeProcess, waitUntil, type Proc } from './node-helpers.js';

let proc: Proc;
let port = 0;
let authProc: Proc;
let authPort = 0;

before(async () => {
  const n = await startNodeProcess(['--standalone', '--name', 'standalone-it', '--enable-flush']);
  proc = n.proc;
  port = n.port;
  const a = await startNodeProcess(['--standalone', '--name', 'standalone-auth', '--requirepass', 's3cret']);
  authProc = a.proc;
  authPort = a.port;
});

after(() => {
  proc.kill();
  authProc.kill();
});

/** Sends raw bytes; resolves with everything received until the server closes or `idleMs` of silence. */
function raw(bytes: Buffer | string, idleMs = 300): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    let data = '';
    let timer = setTimeout(() => done(false), idleMs);
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data, closed });
    };
    s.on('data', (d) => {
      data += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => done(false), idleMs);
    });
    s.on('close', () => done(true));
    s.on('error', () => done(true));
    s.write(bytes);
  });
}

async function alive(): Promise<void> {
  const r = await raw('*1\r\n$4\r\nPING\r\n');
  assert.equal(r.data, '+PONG\r\n');
}

test('protocol errors get Redis\'s error reply and a closed connection', async () => {
  const cases: Array<[string, RegExp]> = [
    ['*abc\r\n', /^-ERR Protocol error: invalid multibulk length\r\n$/],
    ['*99999999999\r\n', /^-ERR Protocol error: invalid multibulk length\r\n$/],
    ['*1\r\n$-5\r\n', /^-ERR Protocol error: invalid bulk length\r\n$/],
    ['*1\r\n$9999999999999\r\n', /^-ERR Protocol error: invalid bulk length\r\n$/],
    ['*2\r\n:1\r\n', /^-ERR Protocol error: expected '\$', got ':'\r\n$/],
    ['*1\r\n$4\r\nPINGxx', /^-ERR Protocol error: expected CRLF after bulk argument\r\n$/],
    ['SET "a\r\n', /^-ERR Protocol error: unbalanced quotes in request\r\n$/],
  ];
  for (const [input, expected] of cases) {
    const r = await raw(input);
    assert.match(r.data, expected, JSON.stringify(input));
    assert.ok(r.closed, `closed after ${JSON.stringify(input)}`);
  }
  await alive();
});

test('an HTTP request on the RESP port closes the connection without a reply', async () => {
  const r = await raw('POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n');
  assert.equal(r.data, '');
  assert.ok(r.closed);
  const g = await raw('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');
  assert.ok(g.closed, 'the Host: line closes it');
  await alive();
});

test('inline commands and pipelines work; the node survives binary noise and huge inline lines', async () => {
  const r = await raw('PING\r\nECHO "hi there"\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n');
  assert.equal(r.data, '+PONG\r\n$8\r\nhi there\r\n+OK\r\n$1\r\nv\r\n');
  for (let i = 0; i < 30; i++) await raw(randomBytes(2000), 50);
  const huge = await raw(Buffer.alloc(200 * 1024, 0x41), 1000);
  assert.match(huge.data, /too big inline request/);
  assert.ok(huge.closed);
  await alive();
});

test('HELLO 3 switches to RESP3 (null, map); ioredis connects and passes its INFO ready check', async () => {
  const r = await raw('HELLO 3\r\nGET missing\r\nHELLO 2\r\nGET missing\r\nHELLO 4\r\n');
  assert.match(r.data, /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
  assert.ok(r.data.includes('_\r\n*14\r\n$6\r\nserver'), r.data);
  assert.ok(r.data.includes('$-1\r\n-NOPROTO unsupported protocol version\r\n'), r.data);
  const c = new Redis({ port, enableReadyCheck: true });
  try {
    assert.equal(await c.set('io', 'x'), 'OK');
    assert.equal(await c.get('io'), 'x');
    assert.equal(await c.get('nope'), null);
  } finally {
    c.disconnect();
  }
});

test('TTL: EX/PX/EXAT/KEEPTTL/GETEX/PERSIST behave like Redis and keys expire', async () => {
  const c = new Redis({ port });
  try {
    await c.set('t1', 'v', 'PX', 300);
    const pttl = await c.pttl('t1');
    assert.ok(pttl > 0 && pttl <= 300, String(pttl));
    assert.equal(await c.ttl('nokey'), -2);
    await c.set('t2', 'v');
    assert.equal(await c.ttl('t2'), -1);
    await c.expire('t2', 100);
    assert.equal(await c.ttl('t2'), 100);
    await c.set('t2', 'w', 'KEEPTTL');
    assert.equal(await c.ttl('t2'), 100);
    await c.set('t2', 'w');
    assert.equal(await c.ttl('t2'), -1, 'SET without KEEPTTL clears the TTL');
    await c.set('t3', 'v', 'EXAT', Math.floor(Date.now() / 1000) + 50);
    assert.ok((await c.ttl('t3')) >= 49);
    assert.equal(await c.getex('t3', 'PERSIST'), 'v');
    assert.equal(await c.ttl('t3'), -1);
    await assert.rejects(c.set('t4', 'v', 'EX', 0), /invalid expire time in 'set' command/);
    await assert.rejects(c.set('t4', 'v', 'EX', 'x'), /value is not an integer/);
    await assert.rejects(c.call('SET', 't4', 'v', 'NX', 'XX'), /syntax error/);
    assert.equal(await c.set('t5', 'v', 'PX', 100, 'NX'), 'OK');
    assert.equal(await c.set('t5', 'v', 'PX', 100, 'NX'), null);
    await c.pexpire('t2', 150);
    // t1 (300 ms), t5 (100 ms) and t2 (150 ms) expire: lazily on access and by the active cycle.
    await waitUntil('keys to expire', async () => (await c.exists('t1', 't5', 't2')) === 0, 3000);
    assert.equal(await c.get('t1'), null);
    assert.equal(await c.get('t3'), 'v');
    const before = await c.dbsize();
    await c.set('t6', 'v', 'PX', 200);
    assert.equal(await c.dbsize(), before + 1);
    // DBSIZE touches no key: only the active expiry cycle can bring it back down.
    await waitUntil('the active expiry cycle to remove t6 without access', async () => (await c.dbsize()) === before, 3000);
  } finally {
    c.disconnect();
  }
});

test('string commands: counters, ranges, GETSET/GETDEL, MSETNX, wrong arity and unknown command', async () => {
  const c = new Redis({ port });
  try {
    assert.equal(await c.incr('n'), 1);
    assert.equal(await c.incrby('n', 41), 42);
    assert.equal(await c.decrby('n', 2), 40);
    assert.equal(await c.incrbyfloat('n', '0.5'), '40.5');
    await assert.rejects(c.incr('n'), /value is not an integer or out of range/);
    await c.set('big', '9223372036854775807');
    await assert.rejects(c.incr('big'), /increment or decrement would overflow/);
    await c.set('s', 'Hello World');
    assert.equal(await c.getrange('s', -5, -1), 'World');
    assert.equal(await c.setrange('s', 6, 'Redis'), 11);
    assert.equal(await c.get('s'), 'Hello Redis');
    await assert.rejects(c.setrange('s', -1, 'x'), /offset is out of range/);
    assert.equal(await c.strlen('s'), 11);
    assert.equal(await c.getset('s', 'new'), 'Hello Redis');
    assert.equal(await c.getdel('s'), 'new');
    assert.equal(await c.exists('s'), 0);
    assert.equal(await c.msetnx('m1', '1', 'm2', '2'), 1);
    assert.equal(await c.msetnx('m2', '3', 'm3', '4'), 0);
    assert.equal(await c.get('m3'), null);
    assert.equal(await c.type('m1'), 'string');
    assert.equal(await c.del('m1', 'm2', 'nope'), 2);
    await assert.rejects(c.call('GET'), /wrong number of arguments for 'get' command/);
    await assert.rejects(c.call('NOSUCH', 'a'), /unknown command 'NOSUCH'/);
    const bin = Buffer.from([0, 1, 2, 255, 13, 10]);
    await c.set(Buffer.from([0xff, 0x00]), bin);
    assert.ok((await c.getBuffer(Buffer.from([0xff, 0x00])))!.equals(bin));
    const [cursor, keys] = await c.scan('0', 'MATCH', 'n*', 'COUNT', '1000');
    assert.equal(cursor, '0');
    assert.deepEqual(keys, ['n']);
    assert.deepEqual(await c.config('GET', 'save'), ['save', '']);
    assert.equal(await c.flushall(), 'OK');
    assert.equal(await c.dbsize(), 0);
  } finally {
    c.disconnect();
  }
});

test('--requirepass: NOAUTH before AUTH, small limits while unauthenticated, WRONGPASS, then normal', async () => {
  const send = (bytes: string): Promise<{ data: string; closed: boolean }> => new Promise((resolve) => {
    const s = connect(authPort, '127.0.0.1');
    let data = '';
    let timer = setTimeout(() => { s.destroy(); resolve({ data, closed: false }); }, 300);
    s.on('data', (d) => {
      data += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => { s.destroy(); resolve({ data, closed: false }); }, 300);
    });
    s.on('close', () => { clearTimeout(timer); resolve({ data, closed: true }); });
    s.write(bytes);
  });
  assert.equal((await send('GET a\r\n')).data, '-NOAUTH Authentication required.\r\n');
  assert.equal((await send('AUTH nope\r\n')).data, '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
  const tooMany = await send(`*11\r\n${'$1\r\na\r\n'.repeat(11)}`);
  assert.equal(tooMany.data, '-ERR Protocol error: unauthenticated multibulk length\r\n');
  assert.ok(tooMany.closed);
  const tooBig = await send('*2\r\n$4\r\nAUTH\r\n$20000\r\n');
  assert.equal(tooBig.data, '-ERR Protocol error: unauthenticated bulk length\r\n');
  const ok = await send(`AUTH s3cret\r\n*12\r\n$4\r\nMSET\r\n${'$1\r\nk\r\n$1\r\nv\r\n'.repeat(5)}$1\r\nk\r\n`);
  assert.match(ok.data, /^\+OK\r\n/);
  const c = new Redis({ port: authPort, password: 's3cret' });
  try {
    assert.equal(await c.set('a', 'b'), 'OK');
  } finally {
    c.disconnect();
  }
});

test('--metrics-port serves Prometheus metrics read from the node\'s counters', async () => {
  const m = await startNodeProcess(['--standalone', '--name', 'standalone-metrics', '--metrics-port', '0'], {});
  try {
    const metricsPort = Number(/metrics=(\d+)/.exec(m.proc.lines.join('\n'))![1]);
    const c = new Redis({ port: m.port });
    await c.set('a', '1');
    await c.get('a');
    await c.get('missing');
    c.disconnect();
    const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(body, /^ringleader_node_keys 1$/m);
    assert.match(body, /^ringleader_node_keyspace_hits_total 1$/m);
    assert.match(body, /^ringleader_node_keyspace_misses_total 1$/m);
    assert.match(body, /^ringleader_node_primary_partitions 256$/m);
    assert.match(body, /^# TYPE ringleader_node_keyspace_hits_total counter$/m);
    // Per-command latency: one SET and two GETs, every observation in the +Inf bucket and the count.
    assert.match(body, /^# TYPE ringleader_node_command_duration_seconds histogram$/m);
    assert.match(body, /^ringleader_node_command_duration_seconds_bucket\{le="\+Inf",command="get"\} 2$/m);
    assert.match(body, /^ringleader_node_command_duration_seconds_count\{command="set"\} 1$/m);
    const buckets = [...body.matchAll(/^ringleader_node_command_duration_seconds_bucket\{le="([^"]+)",command="get"\} (\d+)$/gm)].map((m) => Number(m[2]));
    assert.ok(buckets.length > 5 && buckets.every((v, i) => i === 0 || v >= buckets[i - 1]!), `cumulative buckets: ${buckets.join(',')}`);
  } finally {
    m.proc.kill();
  }
});

test('a client that never reads its replies is disconnected at the output buffer limit', async () => {
  const c = new Redis({ port });
  await c.set('bigval', Buffer.alloc(1024 * 1024, 0x61));
  c.disconnect();
  const s = connect(port, '127.0.0.1');
  s.pause();
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
  await new Promise<void>((resolve) => s.on('connect', () => resolve()));
  // 200 pipelined GETs of 1 MB = 200 MB of replies, above the 64 MB default limit; we never read.
  const burst = '*2\r\n$3\r\nGET\r\n$6\r\nbigval\r\n'.repeat(10);
  for (let i = 0; i < 20; i++) s.write(burst);
  await waitUntil('the server to close the slow reader', async () => {
    const r = new Redis({ port });
    try {
      return /client_output_buffer_limit_disconnections:[1-9]/.test(await r.info('stats'));
    } finally {
      r.disconnect();
    }
  }, 10_000);
  s.resume();
  await closed;
  await alive();
});
