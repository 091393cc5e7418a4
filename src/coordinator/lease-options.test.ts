import { test } from 'node:test';
import assert from 'node:assert/strict';
import { derivedLeaseMs, resolveCoordinatorOptions } from './options.js';

test('the coordinator derives the lease from the dead deadline: deadAfterMs − max(200 ms, 20%)', () => {
  assert.equal(resolveCoordinatorOptions().leaseMs, 1200, 'defaults: 1500 ms dead deadline');
  assert.equal(resolveCoordinatorOptions({ suspectAfterMs: 2000, deadAfterMs: 4000 }).leaseMs, 3200, '20% beyond 1000 ms');
  assert.equal(derivedLeaseMs(100, 800), 600, '200 ms floor');
  // Tight test settings: deadline − 200 ms would leave one heartbeat interval or less: halfway instead.
  assert.equal(derivedLeaseMs(50, 250), 150);
  assert.equal(resolveCoordinatorOptions({ heartbeatMs: 50, suspectAfterMs: 150, deadAfterMs: 250 }).leaseMs, 150);
  for (const [hb, dead] of [[500, 1500], [100, 300], [10, 12], [1000, 60_000]] as const) {
    const l = derivedLeaseMs(hb, dead);
    assert.ok(l < dead && l > hb, `${hb}/${dead}: ${l}`);
  }
});

test('an explicit leaseMs must be below the dead deadline and above the heartbeat interval', () => {
  assert.equal(resolveCoordinatorOptions({ leaseMs: 1000 }).leaseMs, 1000);
  assert.throws(() => resolveCoordinatorOptions({ leaseMs: 1500 }), /leaseMs \(1500\) must be < deadAfterMs \(1500\)/);
  assert.throws(() => resolveCoordinatorOptions({ leaseMs: 400 }), /leaseMs \(400\) must be > heartbeatMs \(500\)/);
  assert.throws(() => resolveCoordinatorOptions({ leaseMs: -1 }), /leaseMs must be an integer >= 0/);
  assert.throws(() => resolveCoordinatorOptions({ leaseMs: 1.5 }), /leaseMs must be an integer >= 0/);
});
