import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { allErrors } from './index.js';
import { renderErrorsDoc } from './render.js';

test('error codes are unique across areas', () => {
  const codes = allErrors().map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, `duplicate codes: ${codes.filter((c, i) => codes.indexOf(c) !== i).join(', ')}`);
});

test('error codes are SCREAMING_SNAKE and map to a 4xx/5xx status and a RESP prefix', () => {
  for (const e of allErrors()) {
    assert.match(e.code, /^[A-Z][A-Z0-9_]*$/, e.code);
    assert.ok(e.http >= 400 && e.http <= 599, `${e.code} http ${e.http}`);
    assert.match(e.resp, /^[A-Z]+$/, `${e.code} resp ${e.resp}`);
    assert.ok(e.description.length > 10, `${e.code} needs a description`);
  }
});

test('docs/ERRORS.md is generated from the catalog (run `npm run docs` after adding a code)', () => {
  const onDisk = readFileSync(new URL('../../../docs/ERRORS.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderErrorsDoc());
});
