import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lease } from './lease.js';
import { ManualClock } from '../testing/manual-clock.js';

test('a lease runs from the send time of the answered heartbeat, not from when the answer arrived', () => {
  const clock = new ManualClock(0);
  const lease = new Lease(clock);
  assert.equal(lease.valid(), false, 'no lease before the first answered heartbeat');
  const sentAt = clock.monotonic();
  clock.advance(900); // the answer took 900 ms (network delay, or this process was paused)
  lease.grant(sentAt, 1200);
  assert.equal(lease.until, 1200);
  assert.equal(lease.valid(), true);
  assert.equal(lease.remainingMs(), 300);
  clock.advance(299);
  assert.equal(lease.valid(), true);
  clock.advance(1);
  assert.equal(lease.valid(), false, 'lapsed at exactly sentAt + leaseMs');
  assert.equal(lease.remainingMs(), 0);
});

test('an answer read after a pause longer than the lease grants nothing usable', () => {
  const clock = new ManualClock(0);
  const lease = new Lease(clock);
  lease.grant(0, 1200);
  const sentAt = 400; // the next beat left at 400 ms, then the process was SIGSTOPped for 5 s
  clock.advance(5400);
  lease.grant(sentAt, 1200);
  assert.equal(lease.valid(), false);
  assert.equal(lease.until, 1600);
});

test('an older, slower answer never shortens a newer grant; leaseMs 0 grants nothing', () => {
  const clock = new ManualClock(0);
  const lease = new Lease(clock);
  lease.grant(500, 1200);
  lease.grant(0, 1200);
  assert.equal(lease.until, 1700);
  lease.grant(600, 0);
  assert.equal(lease.until, 1700);
  assert.equal(lease.grantCount, 2);
});

test('a revocation ends the lease at once and is not undone by an answer to a heartbeat sent before it', () => {
  const clock = new ManualClock(0);
  const lease = new Lease(clock);
  lease.grant(0, 1200);
  clock.advance(100);
  lease.revoke();
  assert.equal(lease.valid(), false);
  lease.grant(50, 1200); // sent before the revocation (e.g. answered late by another coordinator)
  assert.equal(lease.valid(), false);
  clock.advance(10);
  lease.grant(clock.monotonic(), 1200); // a heartbeat after re-joining
  assert.equal(lease.valid(), true);
  assert.equal(lease.until, 1310);
});
