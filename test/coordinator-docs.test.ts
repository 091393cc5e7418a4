import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderControlSchemas } from '../scripts/protocol-doc.js';

test('docs/PROTOCOL.md carries the control schemas generated from src/protocol/control.ts (run `npm run docs`)', () => {
  const doc = readFileSync(new URL('../docs/PROTOCOL.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(renderControlSchemas()), 'the generated block is stale: run `npm run docs`');
});
