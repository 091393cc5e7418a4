import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinatorClient } from './client.js';
import { MemberSession } from './session.js';
import { ManualClock } from '../testing/manual-clock.js';

const ID = 'a'.repeat(40);

/** A coordinator behind a fake fetch: joins answer at once, each heartbeat waits until the test answers it. */
function fakeCoordinator(clock: ManualClock) {
  const beats: Array<(status: number, body: unknown) => void> = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (String(url).endsWith('/v1/members') && init?.method === 'POST') {
      return json(200, { id: ID, incarnation: 1, epoch: 0, heartbeatMs: 500, protocolVersion: 1, clusterId: 'c1' });
    }
    return new Promise<Response>((resolve) => beats.push((status, body) => resolve(json(status, body))));
  }) as typeof globalThis.fetch;
  const client = new CoordinatorClient({ coordinators: ['http://127.0.0.1:1'], clock, fetch, maxAttempts: 1 });
  const ok = (leaseMs?: number) => ({ epoch: 0, state: 'active', incarnation: 1, heartbeatMs: 500, clusterId: 'c1', ...(leaseMs === undefined ? {} : { leaseMs }) });
  return { client, beats, ok };
}

/** Lets pending promise callbacks run (the fake fetch and the session's awaits). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('MemberSession: the lease counts from when the heartbeat was sent; MEMBER_DEAD revokes it; a reply without leaseMs grants none', async () => {
  const clock = new ManualClock(0);
  const { client, beats, ok } = fakeCoordinator(clock);
  const session = new MemberSession(client, { member: { name: 'n1', address: '127.0.0.1:7001' }, appliedEpoch: () => 0 });
  await session.start();
  assert.equal(session.lease.valid(), false, 'joining grants no lease');

  clock.advance(0); // the first heartbeat goes out at t=0
  await settle();
  assert.equal(beats.length, 1);
  clock.advance(900); // ...and is answered 900 ms later
  beats.shift()!(200, ok(1200));
  await settle();
  assert.equal(session.lease.until, 1200, 'sent at 0 + 1200, not received at 900 + 1200');
  assert.equal(session.lease.valid(), true);

  clock.advance(0); // the next beat is due at once (500 ms cadence from the previous start)
  await settle();
  assert.equal(beats.length, 1);
  const sentAt = clock.monotonic();
  clock.advance(400); // t=1300: the lease of the first beat has lapsed while this one is in flight
  assert.equal(session.lease.valid(), false);
  beats.shift()!(200, ok(1200));
  await settle();
  assert.equal(session.lease.until, sentAt + 1200);
  assert.equal(session.lease.valid(), true, 'serving again from the next answered heartbeat');

  // The coordinator declared us dead: the lease ends at once (our partitions may be elsewhere already).
  clock.advance(500);
  await settle();
  beats.shift()!(410, { error: { code: 'MEMBER_DEAD', message: 'dead' } });
  await settle();
  assert.equal(session.lease.valid(), false);

  // A coordinator older than leases answers without leaseMs: no lease.
  clock.advance(500);
  await settle();
  beats.shift()!(200, ok());
  await settle();
  assert.equal(session.lease.valid(), false);
  session.stop();
});
