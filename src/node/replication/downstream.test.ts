import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { Downstream } from './downstream.js';
import { newReplicationStats } from './stats.js';
import { silentLogger } from '../../shared/logger.js';

const WINDOW = { syncWindowBytes: 1024 * 1024, syncWindowMinBytes: 32 * 1024, syncWindowMs: 20 };

function downstream(): { d: Downstream; clock: { now: number } } {
  const clock = { now: 1000 };
  const socket = { writableLength: 0, write: () => true, destroy: () => {} } as unknown as Socket;
  return { d: new Downstream('f', socket, 256 * 1024 * 1024, newReplicationStats(), silentLogger(), () => clock.now, WINDOW), clock };
}

test('snapshot window: no window before the first RL.RECV (a follower that never sends one is not held back)', () => {
  const { d } = downstream();
  d.write(Buffer.alloc(5 * 1024 * 1024));
  assert.equal(d.unread, 0);
  d.onRead(1024);
  assert.equal(d.unread, 5 * 1024 * 1024 - 1024);
});

test('snapshot window: shrinks while reported bytes waited longer than syncWindowMs, grows back when they do not, within bounds', () => {
  const { d, clock } = downstream();
  d.onRead(0);
  assert.equal(d.window, WINDOW.syncWindowBytes);
  let read = 0;
  // A slow follower: every 64 KB takes 50 ms from write to report.
  for (let i = 0; i < 20; i++) {
    d.write(Buffer.alloc(64 * 1024));
    clock.now += 50;
    read += 64 * 1024;
    d.onRead(read);
  }
  assert.equal(d.window, WINDOW.syncWindowMinBytes, 'down to the floor');
  // A small report from the periodic timer (a trickle of entries) does not move it.
  d.write(Buffer.alloc(100));
  clock.now += 200;
  d.onRead((read += 100));
  assert.equal(d.window, WINDOW.syncWindowMinBytes);
  // The follower keeps up again: 5 ms per 64 KB.
  for (let i = 0; i < 20; i++) {
    d.write(Buffer.alloc(64 * 1024));
    clock.now += 5;
    read += 64 * 1024;
    d.onRead(read);
  }
  assert.equal(d.window, WINDOW.syncWindowBytes, 'back to the maximum');
});

test('snapshot window: a waiting snapshot loop resumes on the next RL.RECV or on close', () => {
  const { d } = downstream();
  let resumed = 0;
  d.onNextRead(() => resumed++);
  d.onRead(10);
  assert.equal(resumed, 1);
  d.onNextRead(() => resumed++);
  d.closed = true;
  d.wake();
  assert.equal(resumed, 2);
  d.onNextRead(() => resumed++); // already closed: at once
  assert.equal(resumed, 3);
});
