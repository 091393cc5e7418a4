/**
 * The one error catalog: every code Ringleader emits, with its retryable flag and HTTP/RESP mapping.
 * Each area keeps its entries in its own file; docs/ERRORS.md is generated from this list
 * (`npm run docs`) and a test keeps the two in sync.
 */
import { COMMON_ERRORS } from './common.js';
import { PLACEMENT_ERRORS } from './placement.js';
import { COORDINATOR_ERRORS } from './coordinator.js';
import { NODE_ERRORS } from './node.js';
import { CLIENT_ERRORS } from './client.js';
import type { ErrorSpec } from './spec.js';

export { defineErrors, errorFrom, type ErrorSpec } from './spec.js';
export { COMMON_ERRORS, PLACEMENT_ERRORS, COORDINATOR_ERRORS, NODE_ERRORS, CLIENT_ERRORS };

export const ERROR_AREAS: ReadonlyArray<{ area: string; errors: Readonly<Record<string, ErrorSpec>> }> = [
  { area: 'common', errors: COMMON_ERRORS },
  { area: 'placement', errors: PLACEMENT_ERRORS },
  { area: 'coordinator', errors: COORDINATOR_ERRORS },
  { area: 'node', errors: NODE_ERRORS },
  { area: 'client', errors: CLIENT_ERRORS },
];

/** Every catalog entry, in area order. */
export function allErrors(): ErrorSpec[] {
  return ERROR_AREAS.flatMap((a) => Object.values(a.errors));
}
