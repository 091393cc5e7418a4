export { ManualClock } from './manual-clock.js';
export { freePort } from './ports.js';
