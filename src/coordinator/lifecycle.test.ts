import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEMBER_STATES, type MemberState } from '../protocol/control.js';
import { nextState, eventForState, type LifecycleInput } from './lifecycle.js';

test('the member lifecycle table', () => {
  const rows: Array<[MemberState, LifecycleInput, MemberState | null]> = [
    ['joining', 'applied', 'active'],
    ['joining', 'heartbeat', 'joining'],
    ['joining', 'silent-suspect', 'suspect'],
    ['active', 'heartbeat', 'active'],
    ['active', 'silent-suspect', 'suspect'],
    ['active', 'silent-dead', 'active'],
    ['suspect', 'heartbeat', 'active'],
    ['suspect', 'applied', 'active'],
    ['suspect', 'silent-dead', 'dead'],
    ['dead', 'heartbeat', null],
    ['dead', 'join', 'joining'],
    ['dead', 'leave', null],
    ['active', 'leave', 'leaving'],
    ['suspect', 'leave', 'leaving'],
    ['leaving', 'heartbeat', 'leaving'],
    ['leaving', 'handover-done', 'left'],
    ['leaving', 'silent-dead', 'left'],
    ['leaving', 'silent-suspect', 'leaving'],
    ['left', 'heartbeat', null],
    ['left', 'join', 'joining'],
    ['active', 'handover-done', null],
  ];
  for (const [from, input, to] of rows) assert.equal(nextState(from, input), to, `${from} --${input}-->`);
});

test('dead and left are reached only through their named inputs', () => {
  const inputs: LifecycleInput[] = ['join', 'applied', 'heartbeat', 'silent-suspect', 'silent-dead', 'process-gone', 'leave', 'handover-done'];
  for (const from of MEMBER_STATES) {
    for (const input of inputs) {
      const to = nextState(from, input);
      if (to === 'dead' && from !== 'dead') assert.ok((from === 'suspect' && input === 'silent-dead') || input === 'process-gone', `${from} --${input}--> dead`);
      if (to === 'left' && from !== 'left') assert.equal(from, 'leaving');
    }
  }
});

test('each state change maps to its watch event', () => {
  assert.equal(eventForState(null, 'joining'), 'member-joined');
  assert.equal(eventForState('suspect', 'active'), 'member-active');
  assert.equal(eventForState('active', 'suspect'), 'member-suspect');
  assert.equal(eventForState('suspect', 'dead'), 'member-dead');
  assert.equal(eventForState('active', 'leaving'), 'member-leaving');
  assert.equal(eventForState('leaving', 'left'), 'member-left');
});
