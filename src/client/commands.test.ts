import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCommandTable, CMD_READONLY, CMD_WRITE } from '../node/commands/index.js';
import { isReadCommand, readCommands } from './commands.js';

// The client may not import the node (layering), so its list of read commands is its own: this test keeps it equal to
// the node's key-bearing commands flagged readonly (a read the client would resend or send to a backup must be one).
test('the client\'s read commands are exactly the node\'s key-bearing readonly commands', () => {
  const node = createCommandTable()
    .all()
    .filter((s) => (s.flags & CMD_READONLY) !== 0 && s.firstKey > 0)
    .map((s) => s.name.toUpperCase())
    .sort();
  assert.deepEqual([...readCommands()].sort(), node);
  for (const s of createCommandTable().all()) {
    if ((s.flags & CMD_WRITE) !== 0) assert.equal(isReadCommand(s.name), false, `${s.name} writes`);
  }
  assert.equal(isReadCommand('get'), true);
  assert.equal(isReadCommand('Mget'), true);
  assert.equal(isReadCommand('SET'), false);
  assert.equal(isReadCommand('INCR'), false);
  assert.equal(isReadCommand(''), false);
});
