import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startNodeProcess, type Proc } from './node-helpers.js';

const procs: Proc[] = [];
after(() => {
  for (const p of procs) p.kill();
});

function infoField(info: string, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  assert.ok(m, `INFO has ${field}`);
  return Number(m[1]);
}

const MB = 1024 * 1024;

test('allkeys-lru: writing 10× maxmemory keeps used_memory under the limit, evicts, and bounds RSS', async () => {
  // The heap cap recommended for this maxmemory (storage's recommendedHeapLimitMb: 1.5× + 64 MB).
  const n = await startNodeProcess(['--standalone', '--name', 'mem-lru', '--maxmemory', '16mb'], { NODE_OPTIONS: '--max-old-space-size=88' });
  procs.push(n.proc);
  const c = new Redis({ port: n.port });
  try {
    const value = Buffer.alloc(4096, 0x76);
    const total = 160 * MB;
    let written = 0;
    for (let i = 0; written < total; ) {
      const p = c.pipeline();
      for (let j = 0; j < 500; j++, i++) {
        p.set(`k:${i}`, value);
        written += value.length;
      }
      const res = await p.exec();
      for (const [err] of res!) assert.equal(err, null);
    }
    const info = await c.info();
    const used = infoField(info, 'used_memory');
    const rss = infoField(info, 'used_memory_rss');
    assert.ok(used <= 16 * MB, `used_memory ${used}`);
    assert.ok(infoField(info, 'evicted_keys') > 30_000, 'most keys were evicted');
    assert.ok(rss < 260 * MB, `RSS ${Math.round(rss / MB)} MB stays bounded (wrote ${total / MB} MB)`);
    // The most recent keys survive (LRU), the first ones are gone.
    assert.ok((await c.get('k:0')) === null);
    const keys = Number(await c.dbsize());
    assert.ok(keys > 1000 && keys < 16 * MB / 4096, `keys ${keys}`);
  } finally {
    c.disconnect();
  }
});

test('noeviction: writes past maxmemory get -OOM, reads and deletes still work', async () => {
  const n = await startNodeProcess(['--standalone', '--name', 'mem-noev', '--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
  procs.push(n.proc);
  const c = new Redis({ port: n.port });
  try {
    const value = Buffer.alloc(1024, 0x76);
    let oom: Error | null = null;
    let i = 0;
    for (; i < 20_000 && oom === null; i++) {
      try {
        await c.set(`k:${i}`, value);
      } catch (err) {
        oom = err as Error;
      }
    }
    assert.ok(oom, 'a write was refused');
    assert.match(oom.message, /^OOM command not allowed when used memory > 'maxmemory'/);
    assert.ok(i > 1000, `wrote ${i} keys before OOM`);
    assert.equal((await c.getBuffer('k:0'))!.length, 1024);
    assert.equal(await c.del('k:0'), 1);
    assert.equal(await c.set('small', 'x'), 'OK');
  } finally {
    c.disconnect();
  }
});

test('volatile-ttl: only keys with a TTL are evicted, nearest expiry first; keys without TTL survive', async () => {
  const n = await startNodeProcess(['--standalone', '--name', 'mem-vttl', '--maxmemory', '4mb', '--maxmemory-policy', 'volatile-ttl']);
  procs.push(n.proc);
  const c = new Redis({ port: n.port });
  try {
    const value = Buffer.alloc(1024, 0x76);
    const p = c.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`keep:${i}`, value);
    await p.exec();
    // ~12 MB of volatile keys: far TTLs for the first half, near TTLs for the second half.
    for (let i = 0; i < 12_000; i += 500) {
      const q = c.pipeline();
      for (let j = i; j < i + 500; j++) q.set(`vol:${j}`, value, 'EX', j < 6000 ? 100_000 : 1000 + j);
      const res = await q.exec();
      for (const [err] of res!) assert.equal(err, null);
    }
    const info = await c.info();
    assert.ok(infoField(info, 'evicted_keys') > 5000);
    assert.ok(infoField(info, 'used_memory') <= 4 * MB);
    const kept = await c.exists(...Array.from({ length: 1000 }, (_, i) => `keep:${i}`));
    assert.equal(kept, 1000, 'no key without a TTL was evicted');
    const far = await c.exists(...Array.from({ length: 6000 }, (_, i) => `vol:${i}`));
    const near = await c.exists(...Array.from({ length: 6000 }, (_, i) => `vol:${6000 + i}`));
    assert.ok(far > near, `keys expiring later survive more (far ${far}, near ${near})`);
  } finally {
    c.disconnect();
  }
});
